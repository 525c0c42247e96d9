import Testing
@testable import HessianLR

/// A backend with only the required operations: the optional ones fall back to their defaults.
struct MinimalBackend: OperatorBackend {
    let inner: HostVectorSpace<Double>
    var dimension: Int { inner.dimension }
    func makeVector() throws(HLRError) -> HostVector<Double> { try inner.makeVector() }
    func release(_ vector: HostVector<Double>) {}
    func copy(_ source: HostVector<Double>, to destination: HostVector<Double>) throws(HLRError) { try inner.copy(source, to: destination) }
    func dot(_ x: HostVector<Double>, _ y: HostVector<Double>) throws(HLRError) -> Double { try inner.dot(x, y) }
    func axpy(_ a: Double, _ x: HostVector<Double>, _ y: HostVector<Double>) throws(HLRError) { try inner.axpy(a, x, y) }
    func scale(_ a: Double, _ x: HostVector<Double>) throws(HLRError) { try inner.scale(a, x) }
    func fillProbe(_ vector: HostVector<Double>, seed: UInt64, stream: UInt64, index: UInt64, distribution: ProbeDistribution) throws(HLRError) {
        try inner.fillProbe(vector, seed: seed, stream: stream, index: index, distribution: distribution)
    }
    func applyOperator(_ v: HostVector<Double>, into out: HostVector<Double>) throws(HLRError) { try inner.applyOperator(v, into: out) }
}

@Suite struct DiagonalTests {
    static let rotated = DenseOperator(spectrum: (0..<100).map { Double($0) * 0.03 - 1 }, reflections: 100, seed: 5)

    static func estimate(_ a: DenseOperator, _ configure: (inout DiagonalOptions) -> Void) throws -> DiagonalEstimate<HostVector<Double>> {
        try HutchinsonDiagonal.estimate(of: try a.space(), options: configured(DiagonalOptions(), configure))
    }

    @Test func exactForADiagonalMatrixFromOneProbe() throws {
        let spectrum = (0..<64).map { Double($0) * 0.37 - 5 }
        let result = try Self.estimate(DenseOperator(spectrum: spectrum, reflections: 0)) { $0.samples = 1 }
        #expect(result.diagonal.elements == spectrum)  // zᵢ·(λᵢzᵢ) = λᵢ exactly: true ±1 probes
        #expect(result.hvpCount == 1 && result.samples == 1)
        #expect(abs(result.traceEstimate - spectrum.reduce(0, +)) <= 1e-12)
    }

    /// Per element, d̂ᵢ − dᵢ has standard deviation √(Σ_{j≠i} a_ij² / m): all within 5σ, and the
    /// RMS error falls like 1/√m (×√8 from m = 50 to 400; accept > 2).
    @Test func unbiasedWithTheExpectedErrorScaling() throws {
        let a = Self.rotated
        let exact = a.diagonal
        var rms: [Double] = []
        for m in [50, 400] {
            let result = try Self.estimate(a) { $0.samples = m; $0.seed = 3 }
            let d = result.diagonal.elements
            var squared = 0.0
            for i in 0..<a.n {
                var offDiagonal = 0.0
                for j in 0..<a.n where j != i { offDiagonal += a.entries[i * a.n + j] * a.entries[i * a.n + j] }
                let sigma = (offDiagonal / Double(m)).squareRoot()
                #expect(abs(d[i] - exact[i]) <= 5 * sigma, "element \(i): \(d[i]) vs \(exact[i]) ± \(sigma)")
                squared += (d[i] - exact[i]) * (d[i] - exact[i])
            }
            rms.append((squared / Double(a.n)).squareRoot())
            #expect(abs(result.traceEstimate - d.reduce(0, +)) <= 1e-9)
        }
        #expect(rms[0] / rms[1] > 2, "\(rms)")
    }

    @Test func blockMeans() throws {
        let a = Self.rotated
        let blocks = try GroupLayout(offsets: [0, 1, 40, 40, 100], elementCount: 100)
        let result = try Self.estimate(a) { $0.samples = 300; $0.blocks = blocks }
        let d = result.diagonal.elements, exact = a.diagonal
        #expect(result.blockMeans.count == 4 && result.blockMeans[2] == 0)
        for b in [0, 1, 3] {
            let range = blocks.range(of: b)
            let fromVector = range.reduce(0.0) { $0 + d[$1] } / Double(range.count)
            let truth = range.reduce(0.0) { $0 + exact[$1] } / Double(range.count)
            #expect(abs(result.blockMeans[b] - fromVector) <= 1e-12)
            #expect(abs(result.blockMeans[b] - truth) <= 5 * result.blockStandardErrors[b], "block \(b)")
        }
    }

    @Test func failuresReleaseEverythingAndOptionalOpsAreReported() throws {
        let backend = try TrackingBackend(Self.rotated)
        let ok = try HutchinsonDiagonal.estimate(of: backend)
        #expect(backend.live == 1 && ok.hvpCount == 100)  // only the returned diagonal
        backend.release(ok.diagonal)
        backend.nanAtHVP = 150
        let nan = #expect(throws: HLRError.self) { try HutchinsonDiagonal.estimate(of: backend) }
        #expect(nan?.kind == .nonFinite && backend.live == 0)
        let minimal = MinimalBackend(inner: try Self.rotated.space())
        let missing = #expect(throws: HLRError.self) { try HutchinsonDiagonal.estimate(of: minimal) }
        #expect(missing?.kind == .invalidArgument && missing?.message.contains("multiply-accumulate") == true)
        var options = HutchinsonOptions()
        options.blocks = try GroupLayout(offsets: [0, 50, 100], elementCount: 100)
        let noBlocks = #expect(throws: HLRError.self) { try Hutchinson.trace(of: minimal, options: options) }
        #expect(noBlocks?.message.contains("per-block dot products") == true)
        _ = try Lanczos.eigenpairs(of: minimal)  // the required operations suffice for Lanczos
        let zero = #expect(throws: HLRError.self) { try Self.estimate(Self.rotated) { $0.samples = 0 } }
        #expect(zero?.kind == .invalidArgument)
    }
}
