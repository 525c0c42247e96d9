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
