import Testing
@testable import HessianLR

/// A backend that forwards to a HostVectorSpace<Double> while counting live vectors, and that can
/// fail (callbackFailed) or emit NaN from a chosen HVP on, or report another dimension: the
/// error-path tests check that estimators throw the right kind and release every work vector.
final class TrackingBackend: OperatorBackend {
    typealias Vector = HostVector<Double>
    let inner: HostVectorSpace<Double>
    let dimensionOverride: Int?
    var failAtHVP: Int?
    var nanAtHVP: Int?
    /// Whether the backend claims batched products (`appliesBlocks`); its block call records the
    /// block's size and makes the products one by one (so failAtHVP and nanAtHVP still apply).
    var batches = false
    private(set) var hvps = 0
    private(set) var live = 0
    private(set) var blockSizes: [Int] = []

    init(_ matrix: DenseOperator, dimension: Int? = nil) throws {
        inner = try matrix.space()
        dimensionOverride = dimension
    }

    var dimension: Int { dimensionOverride ?? inner.dimension }
    func makeVector() throws(HLRError) -> Vector {
        live += 1
        return try inner.makeVector()
    }
    func release(_ vector: Vector) { live -= 1 }
    func copy(_ source: Vector, to destination: Vector) throws(HLRError) { try inner.copy(source, to: destination) }
    func dot(_ x: Vector, _ y: Vector) throws(HLRError) -> Double { try inner.dot(x, y) }
    func axpy(_ a: Double, _ x: Vector, _ y: Vector) throws(HLRError) { try inner.axpy(a, x, y) }
    func scale(_ a: Double, _ x: Vector) throws(HLRError) { try inner.scale(a, x) }
    func fillProbe(_ vector: Vector, seed: UInt64, stream: UInt64, index: UInt64, distribution: ProbeDistribution) throws(HLRError) {
        try inner.fillProbe(vector, seed: seed, stream: stream, index: index, distribution: distribution)
    }
    func applyOperator(_ v: Vector, into out: Vector) throws(HLRError) {
        hvps += 1
        if let failAtHVP, hvps >= failAtHVP { throw HLRError(.callbackFailed, "HVP callback returned -1 (test)") }
        try inner.applyOperator(v, into: out)
        if let nanAtHVP, hvps >= nanAtHVP { out.withUnsafeMutableBufferPointer { $0[$0.count / 2] = .nan } }
    }
    var appliesBlocks: Bool { batches }
    func applyOperator(block vs: [Vector], into outs: [Vector]) throws(HLRError) {
        blockSizes.append(vs.count)
        for (v, out) in zip(vs, outs) { try applyOperator(v, into: out) }
    }
    func multiplyAccumulate(_ a: Double, _ x: Vector, _ y: Vector, into acc: Vector) throws(HLRError) {
        try inner.multiplyAccumulate(a, x, y, into: acc)
    }
    func blockDots(_ x: Vector, _ y: Vector, blocks: GroupLayout) throws(HLRError) -> [Double] {
        try inner.blockDots(x, y, blocks: blocks)
    }
}

extension TrackingBackend {
    /// The error path of an estimator: for each HVP index in `hvps`, a fresh backend over `matrix`
    /// that fails (a callback error) or returns NaN from that product on; `estimate` must throw
    /// `callbackFailed` or `nonFinite` respectively, with every vector released.
    static func expectFailuresReleaseEverything(
        _ matrix: DenseOperator, at hvps: [Int], _ estimate: (TrackingBackend) throws -> Void,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        for failing in [true, false] {
            for at in hvps {
                let backend = try TrackingBackend(matrix)
                if failing { backend.failAtHVP = at } else { backend.nanAtHVP = at }
                let error = #expect(throws: HLRError.self, sourceLocation: sourceLocation) { try estimate(backend) }
                #expect(
                    error?.kind == (failing ? .callbackFailed : .nonFinite) && backend.live == 0,
                    "failing \(failing) at HVP \(at): \(String(describing: error))", sourceLocation: sourceLocation)
            }
        }
    }
}
