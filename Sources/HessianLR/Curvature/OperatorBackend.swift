/// The vectors and the symmetric linear operator H (a Hessian, a Gauss–Newton matrix, …) that the
/// curvature estimators work on, given only through these operations. Vectors are opaque: host
/// buffers the library owns (`HostVectorSpace`), or tensors on a GPU behind C callbacks, so an
/// estimator never copies a full vector to the host.
///
/// Every operation may fail (a caller-supplied callback returned an error, the device ran out of
/// memory): it then throws `HLRError` (`callbackFailed` for a failing callback) and the estimator
/// stops, releases its work vectors and rethrows. Estimators check every scalar the backend
/// returns and throw `nonFinite`, naming the quantity, when a dot product is NaN or infinite (a
/// NaN in an HVP output always reaches such a dot). Backends may check more (the host backend
/// scans each HVP output).
///
/// Contract:
/// - `dimension` n ≥ 1 is fixed for the backend's lifetime.
/// - `makeVector` returns a new vector of n zeros, owned by the caller until `release`.
/// - Operations never keep references to their arguments. Arguments may alias unless noted.
/// - Reductions should be deterministic (same inputs → same bits) for estimates to be.
/// - `applyOperator` computes out = H·v, H symmetric and fixed between calls (Lanczos checks
///   the symmetry as a by-product and throws `invalidArgument` when it is violated).
public protocol OperatorBackend {
    /// The backend's vector handle (a class instance, a tensor handle, an index …).
    associatedtype Vector

    /// n, the length of every vector and the order of H.
    var dimension: Int { get }

    /// A new vector of n zeros.
    func makeVector() throws(HLRError) -> Vector

    /// Frees `vector` (a no-op for garbage-collected backends). Never fails: a backend that cannot
    /// free a vector must absorb the failure.
    func release(_ vector: Vector)

    /// destination ← source (must not alias).
    func copy(_ source: Vector, to destination: Vector) throws(HLRError)

    /// xᵀy, accumulated in float64.
    func dot(_ x: Vector, _ y: Vector) throws(HLRError) -> Double

    /// y ← y + a·x.
    func axpy(_ a: Double, _ x: Vector, _ y: Vector) throws(HLRError)

    /// x ← a·x.
    func scale(_ a: Double, _ x: Vector) throws(HLRError)

    /// The library's probe: element i (0-based) of `vector` ←
    /// `distribution.value(CounterRNG(seed: seed, stream: stream, index: index), UInt64(i))`,
    /// rounded to the element type. A GPU backend regenerates this formula on the device (or
    /// fills on the host and uploads).
    func fillProbe(
        _ vector: Vector, seed: UInt64, stream: UInt64, index: UInt64,
        distribution: ProbeDistribution
    ) throws(HLRError)

    /// out ← H·v (one Hessian-vector product; `v` unchanged; must not alias).
    func applyOperator(_ v: Vector, into out: Vector) throws(HLRError)

    /// Whether `applyOperator(block:into:)` computes several products in one call (a batched
    /// HVP: torch's vmapped double backward, a GEMM). Default false: the estimators then never
    /// hold more work vectors for a block than for one product (`hvp_block` has no effect).
    var appliesBlocks: Bool { get }

    /// outs[j] ← H·vs[j] for every j (vs.count = outs.count ≥ 1; none of them alias), each the
    /// product `applyOperator(vs[j], into: outs[j])` would give up to the rounding of a batched
    /// computation. The default calls `applyOperator` for each j in order.
    func applyOperator(block vs: [Vector], into outs: [Vector]) throws(HLRError)

    /// acc ← acc + a·(x ⊙ y), elementwise (diagonal estimation). Optional: the default throws
    /// `invalidArgument`.
    func multiplyAccumulate(_ a: Double, _ x: Vector, _ y: Vector, into acc: Vector) throws(HLRError)

    /// Per-block dot products: result[b] = Σ_{i ∈ blocks.range(of: b)} xᵢyᵢ, in float64
    /// (per-block traces and block means). Optional: the default throws `invalidArgument`.
    func blockDots(_ x: Vector, _ y: Vector, blocks: GroupLayout) throws(HLRError) -> [Double]

    /// result[j] = `dot(xs[j], y)` for j = 0, 1, … (the dots of one classical Gram–Schmidt pass,
    /// all against the same y), each with the bits `dot` would give. A backend may compute them
    /// in one pass over y. Optional: the default calls `dot` for each x in order and stops after
    /// the first non-finite value (the caller fails on it), so the result may be shorter than
    /// `xs` only when its last value is not finite.
    func multiDot(_ xs: [Vector], _ y: Vector) throws(HLRError) -> [Double]

    /// y ← y + a[0]·xs[0], then y ← y + a[1]·xs[1], …: the same bits as those `axpy` calls in
    /// that order (y may be one of `xs`). Optional: the default makes the `axpy` calls.
    func multiAxpy(_ a: [Double], _ xs: [Vector], _ y: Vector) throws(HLRError)
}

extension OperatorBackend {
    public var appliesBlocks: Bool { false }

    public func applyOperator(block vs: [Vector], into outs: [Vector]) throws(HLRError) {
        try applyEach(vs, into: outs)
    }

    public func multiplyAccumulate(
        _ a: Double, _ x: Vector, _ y: Vector, into acc: Vector
    ) throws(HLRError) {
        throw .invalid("this vector backend has no elementwise multiply-accumulate (needed by the diagonal estimator)")
    }

    public func blockDots(_ x: Vector, _ y: Vector, blocks: GroupLayout) throws(HLRError) -> [Double] {
        throw .invalid("this vector backend has no per-block dot products (needed for per-block estimates)")
    }

    public func multiDot(_ xs: [Vector], _ y: Vector) throws(HLRError) -> [Double] {
        try dotEach(xs, y)
    }

    public func multiAxpy(_ a: [Double], _ xs: [Vector], _ y: Vector) throws(HLRError) {
        try axpyEach(a, xs, y)
    }

    // The one-call-per-vector forms of the batched operations: the defaults above, and what a
    // backend that batches only when its caller supplied a batched callback falls back to.

    /// `applyOperator(v, into: out)` for each pair in order.
    public func applyEach(_ vs: [Vector], into outs: [Vector]) throws(HLRError) {
        guard vs.count == outs.count else {
            throw .invalid("applyOperator(block:): \(vs.count) vectors for \(outs.count) outputs")
        }
        for (v, out) in zip(vs, outs) { try applyOperator(v, into: out) }
    }

    /// `dot(x, y)` for each x in order, stopping after the first non-finite value (the caller
    /// fails on it).
    public func dotEach(_ xs: [Vector], _ y: Vector) throws(HLRError) -> [Double] {
        var values: [Double] = []
        values.reserveCapacity(xs.count)
        for x in xs {
            let value = try dot(x, y)
            values.append(value)
            if !value.isFinite { break }
        }
        return values
    }

    /// `axpy(a[j], xs[j], y)` for each j in order.
    public func axpyEach(_ a: [Double], _ xs: [Vector], _ y: Vector) throws(HLRError) {
        guard a.count == xs.count else {
            throw .invalid("multiAxpy: \(a.count) coefficients for \(xs.count) vectors")
        }
        for (coefficient, x) in zip(a, xs) { try axpy(coefficient, x, y) }
    }
}
