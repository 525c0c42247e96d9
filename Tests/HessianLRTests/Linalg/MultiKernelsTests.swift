import Testing
@testable import HessianLR

/// The fused Gram–Schmidt kernels (`multiDot`, `multiAxpy`) give exactly the bits of the dot and
/// axpy sequences they replace, for any k, any n (tails shorter than a SIMD width or a chunk) and
/// any thread count; and estimators on the host backend give the same bits as on a backend that
/// only has `dot` and `axpy` (the protocol's default implementations).
@Suite struct MultiKernelsTests {
    static let sizes = [1, 13, ChunkedKernels.chunkLength + 5, ChunkedKernels.parallelThreshold + 1237]
    static let ks = [0, 1, 2, 7, 33]

    /// Gaussian values over many magnitudes (so that roundings differ between orders), some of
    /// them exactly ±0.
    static func values(_ seed: UInt64, count: Int) -> [Double] {
        let rng = CounterRNG(seed: seed, stream: 201, index: 0)
        return (0..<count).map { i in
            let g = rng.gaussian(UInt64(i))
            if i % 97 == 5 { return i % 2 == 0 ? 0 : -0.0 }
            return g * Double.pow(10, Double(Int(rng.bits(UInt64(i) + 1 << 40) % 9)) - 4)
        }
    }

    /// Coefficients like a projection's: mostly O(1), one tiny (0 when rounded to float32), some
    /// negative.
    static func coefficients(_ seed: UInt64, count: Int) -> [Double] {
        let rng = CounterRNG(seed: seed, stream: 202, index: 0)
        return (0..<count).map { j in j == 3 ? 1e-60 : rng.gaussian(UInt64(j)) * (j % 2 == 0 ? 1 : -3.7) }
    }

    static func check<T: HostScalar>(_: T.Type, n: Int, k: Int, threads: Int) {
        let xs = (0..<k).map { j in values(UInt64(10 + j), count: n).map { T($0) } }
        let y0 = values(1, count: n).map { T($0) }
        let a = coefficients(UInt64(k), count: k)
        let pointers = xs.map { x in
            let p = UnsafeMutablePointer<T>.allocate(capacity: n)
            p.initialize(from: x, count: n)
            return p
        }
        defer { for p in pointers { p.deallocate() } }
        let constant = pointers.map { UnsafePointer($0) }
        var y = y0
        y.withUnsafeMutableBufferPointer { py in
            let base = py.baseAddress!
            let fused = ChunkedKernels.multiDot(constant, UnsafePointer(base), count: n, threads: threads)
            let sequential = constant.map { x in
                ChunkedKernels.dot(UnsafeBufferPointer(start: x, count: n), UnsafeBufferPointer(py), threads: 1)
            }
            #expect(fused.map(\.bitPattern) == sequential.map(\.bitPattern), "multiDot \(T.self) n \(n) k \(k) threads \(threads)")
        }
        var expected = y0
        expected.withUnsafeMutableBufferPointer { py in
            for (c, x) in zip(a, constant) { ChunkedKernels.axpy(c, x, py.baseAddress!, count: n, threads: 1) }
        }
        y.withUnsafeMutableBufferPointer { py in
            ChunkedKernels.multiAxpy(a, constant, py.baseAddress!, count: n, threads: threads)
        }
        #expect(y.map { Double($0).bitPattern } == expected.map { Double($0).bitPattern }, "multiAxpy \(T.self) n \(n) k \(k) threads \(threads)")
    }

    @Test(arguments: sizes)
    func fusedKernelsEqualTheSequentialOnesBitForBit(n: Int) {
        for k in Self.ks {
            for threads in [1, 2, 3] {
                Self.check(Float.self, n: n, k: k, threads: threads)
                Self.check(Double.self, n: n, k: k, threads: threads)
            }
        }
    }

    @Test func hostProjectionEqualsDotThenAxpyLoop() throws {
        let n = ChunkedKernels.parallelThreshold + 1237
        for threads in [1, 2, 3] {
            let space = try HostVectorSpace<Float>(dimension: n, threads: threads) { _, _ throws(HLRError) in }
            let plain = Sequential(space)
            for k in [1, 7, 33] {
                let basis = try (0..<k).map { j in try space.makeVector(Self.values(UInt64(50 + j), count: n).map(Float.init)) }
                let w1 = try space.makeVector(Self.values(2, count: n).map(Float.init))
                let w2 = try space.makeVector(w1.elements)
                let fused = try BackendSession(space, estimator: "test").project(w1, against: basis, "w")
                let looped = try BackendSession(plain, estimator: "test").project(w2, against: basis, "w")
                #expect(fused.map(\.bitPattern) == looped.map(\.bitPattern))
                #expect(w1.elements.map(\.bitPattern) == w2.elements.map(\.bitPattern))
            }
        }
    }

    /// Lanczos (two CGS passes per step against up to 34 basis vectors) on a diagonal operator of
    /// a threaded size: the host backend's fused path and the dot/axpy defaults agree in every bit.
    @Test func lanczosOnHostEqualsLanczosOnDotAxpyDefaults() throws {
        let n = ChunkedKernels.parallelThreshold + 1237
        let diagonal: [Double] = (0..<n).map { (i: Int) -> Double in
            let ramp = Double(i % 1013) / 1013
            return 1 + ramp + Double(i) * 1e-6
        }
        let hvp: HostVectorSpace<Double>.HVP = { v, out throws(HLRError) in
            for i in 0..<v.count { out[i] = diagonal[i] * v[i] }
        }
        var options = LanczosOptions()
        options.count = 3
        options.maxDimension = 34
        options.tolerance = 1e-300
        options.computeVectors = true
        for threads in [1, 2, 3] {
            let space = try HostVectorSpace<Double>(dimension: n, threads: threads, hvp: hvp)
            let fused = try Lanczos.eigenpairs(of: space, options: options)
            let looped = try Lanczos.eigenpairs(of: Sequential(space), options: options)
            #expect(fused.iterations == 34 && looped.iterations == 34)
            #expect(fused.eigenvalues.map(\.bitPattern) == looped.eigenvalues.map(\.bitPattern))
            #expect(fused.residuals.map(\.bitPattern) == looped.residuals.map(\.bitPattern))
            for (a, b) in zip(fused.eigenvectors, looped.eigenvectors) {
                #expect(a.elements.map(\.bitPattern) == b.elements.map(\.bitPattern))
            }
        }
    }

    /// The default `multiDot` stops at the first non-finite dot, so a caller-ops backend makes
    /// the same dot calls as before; the session names that dot.
    @Test func defaultMultiDotStopsAtTheFirstNonFiniteValue() throws {
        let space = try HostVectorSpace<Double>(dimension: 5) { _, _ throws(HLRError) in }
        let plain = Sequential(space)
        let good = try space.makeVector([1, 2, 3, 4, 5])
        let bad = try space.makeVector([1, .nan, 3, 4, 5])
        let w = try space.makeVector([1, 1, 1, 1, 1])
        let values = try plain.multiDot([good, bad, good], w)
        #expect(values.count == 2 && values[0] == 15 && values[1].isNaN)
        #expect(plain.dots == 2)
        let error = #expect(throws: HLRError.self) {
            _ = try BackendSession(space, estimator: "test").project(w, against: [good, bad, good], "pass")
        }
        #expect(error?.kind == .nonFinite)
        #expect(error?.message.contains("q1ᵀw") == true)
        #expect(w.elements == [1, 1, 1, 1, 1])  // no axpy ran
    }
}

/// Forwards the required operations to a host space and counts dots; `multiDot` and
/// `multiAxpy` are the protocol's defaults (a dot or axpy per vector).
private final class Sequential<T: HostScalar>: OperatorBackend {
    typealias Vector = HostVector<T>
    let inner: HostVectorSpace<T>
    private(set) var dots = 0

    init(_ inner: HostVectorSpace<T>) { self.inner = inner }

    var dimension: Int { inner.dimension }
    func makeVector() throws(HLRError) -> Vector { try inner.makeVector() }
    func release(_ vector: Vector) {}
    func copy(_ source: Vector, to destination: Vector) throws(HLRError) { try inner.copy(source, to: destination) }
    func dot(_ x: Vector, _ y: Vector) throws(HLRError) -> Double {
        dots += 1
        return try inner.dot(x, y)
    }
    func axpy(_ a: Double, _ x: Vector, _ y: Vector) throws(HLRError) { try inner.axpy(a, x, y) }
    func scale(_ a: Double, _ x: Vector) throws(HLRError) { try inner.scale(a, x) }
    func fillProbe(_ vector: Vector, seed: UInt64, stream: UInt64, index: UInt64, distribution: ProbeDistribution) throws(HLRError) {
        try inner.fillProbe(vector, seed: seed, stream: stream, index: index, distribution: distribution)
    }
    func applyOperator(_ v: Vector, into out: Vector) throws(HLRError) { try inner.applyOperator(v, into: out) }
}
