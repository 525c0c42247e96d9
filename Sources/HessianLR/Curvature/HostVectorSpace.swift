/// The host backend: vectors are library-owned float32 or float64 buffers (`HostVector<T>`) and
/// H is a caller-supplied Hessian-vector-product oracle over flat buffers (the same oracle type as
/// host mode, `QuadraticTerms.HVP`).
///
/// Reductions are deterministic and independent of `threads`: dots accumulate in float64 per
/// 8192-element chunk in a fixed lane order (`HostScalar.dot`) and add the chunks in index order
/// (`ChunkedKernels`); elementwise operations are exact per element. With `threads > 1`, vectors
/// of at least `ChunkedKernels.parallelThreshold` elements are processed chunk-parallel through
/// Dispatch; the results are bit-identical to `threads == 1`.
///
/// Each HVP output is scanned: a NaN or infinite element throws `nonFinite` naming its index. An
/// oracle that throws aborts the estimator with its error (use `callbackFailed`).
public struct HostVectorSpace<T: HostScalar>: OperatorBackend {
    public typealias Vector = HostVector<T>
    /// The oracle: writes H·v into `out` (both of length n, `out` zeroed before the call).
    public typealias HVP = QuadraticTerms.HVP<T>

    public let dimension: Int
    /// Threads used for vector operations (1 = the calling thread only).
    public let threads: Int
    private let hvp: HVP

    /// A space of dimension n ≥ 1 with the operator `hvp`. `threads` ≥ 1 (default 1).
    public init(dimension: Int, threads: Int = 1, hvp: @escaping HVP) throws(HLRError) {
        guard dimension >= 1 else {
            throw .invalid("operator dimension must be ≥ 1, got \(dimension)")
        }
        guard threads >= 1 else { throw .invalid("threads must be ≥ 1, got \(threads)") }
        self.dimension = dimension
        self.threads = threads
        self.hvp = hvp
    }

    public func makeVector() throws(HLRError) -> HostVector<T> { HostVector(count: dimension) }

    /// A new vector holding `elements` (exactly n of them).
    public func makeVector(_ elements: [T]) throws(HLRError) -> HostVector<T> {
        guard elements.count == dimension else {
            throw .invalid("vector needs \(dimension) elements, got \(elements.count)")
        }
        let vector = HostVector<T>(count: dimension)
        elements.withUnsafeBufferPointer { source in
            if let start = source.baseAddress {
                ChunkedKernels.copy(from: start, to: vector.base, count: dimension, threads: threads)
            }
        }
        return vector
    }

    public func release(_ vector: HostVector<T>) {}

    public func copy(_ source: HostVector<T>, to destination: HostVector<T>) throws(HLRError) {
        try check(source, "copy source")
        try check(destination, "copy destination")
        guard source !== destination else { return }
        ChunkedKernels.copy(
            from: source.base, to: destination.base, count: dimension, threads: threads)
    }

    public func dot(_ x: HostVector<T>, _ y: HostVector<T>) throws(HLRError) -> Double {
        try check(x, "dot x")
        try check(y, "dot y")
        return ChunkedKernels.dot(x.buffer, y.buffer, threads: threads)
    }

    public func axpy(_ a: Double, _ x: HostVector<T>, _ y: HostVector<T>) throws(HLRError) {
        try check(x, "axpy x")
        try check(y, "axpy y")
        ChunkedKernels.axpy(a, UnsafePointer(x.base), y.base, count: dimension, threads: threads)
    }

    /// All dots in one blocked pass over y (`ChunkedKernels.multiDot`): each the bits of `dot`.
    public func multiDot(_ xs: [HostVector<T>], _ y: HostVector<T>) throws(HLRError) -> [Double] {
        for x in xs { try check(x, "multiDot x") }
        try check(y, "multiDot y")
        return ChunkedKernels.multiDot(xs.map { UnsafePointer($0.base) }, UnsafePointer(y.base),
                                       count: dimension, threads: threads)
    }

    /// The axpys fused blockwise (`ChunkedKernels.multiAxpy`): the bits of the `axpy` sequence.
    public func multiAxpy(_ a: [Double], _ xs: [HostVector<T>], _ y: HostVector<T>) throws(HLRError) {
        guard a.count == xs.count else {
            throw .invalid("multiAxpy: \(a.count) coefficients for \(xs.count) vectors")
        }
        for x in xs { try check(x, "multiAxpy x") }
        try check(y, "multiAxpy y")
        if xs.contains(where: { $0 === y }) {
            // y among the x's: the fused kernel would read stale values; keep the sequence.
            for (coefficient, x) in zip(a, xs) { try axpy(coefficient, x, y) }
            return
        }
        ChunkedKernels.multiAxpy(a, xs.map { UnsafePointer($0.base) }, y.base, count: dimension, threads: threads)
    }

    public func scale(_ a: Double, _ x: HostVector<T>) throws(HLRError) {
        try check(x, "scale x")
        ChunkedKernels.scale(a, x.base, count: dimension, threads: threads)
    }

    public func fillProbe(
        _ vector: HostVector<T>, seed: UInt64, stream: UInt64, index: UInt64,
        distribution: ProbeDistribution
    ) throws(HLRError) {
        try check(vector, "probe")
        ChunkedKernels.fill(
            vector.base, count: dimension, rng: CounterRNG(seed: seed, stream: stream, index: index),
            distribution: distribution, threads: threads)
    }

    public func applyOperator(_ v: HostVector<T>, into out: HostVector<T>) throws(HLRError) {
        try check(v, "HVP input")
        try check(out, "HVP output")
        guard v !== out else { throw .invalid("HVP input and output must be different vectors") }
        ChunkedKernels.zero(out.base, count: dimension, threads: threads)
        try hvp(v.buffer, out.mutableBuffer)
        if let bad = ChunkedKernels.firstNonFinite(out.buffer, threads: threads) {
            throw HLRError(.nonFinite, "HVP output element \(bad) is not finite (\(out.base[bad]))")
        }
    }

    public func multiplyAccumulate(
        _ a: Double, _ x: HostVector<T>, _ y: HostVector<T>, into acc: HostVector<T>
    ) throws(HLRError) {
        try check(x, "multiplyAccumulate x")
        try check(y, "multiplyAccumulate y")
        try check(acc, "multiplyAccumulate acc")
        ChunkedKernels.multiplyAccumulate(
            a, UnsafePointer(x.base), UnsafePointer(y.base), acc.base, count: dimension,
            threads: threads)
    }

    public func blockDots(
        _ x: HostVector<T>, _ y: HostVector<T>, blocks: GroupLayout
    ) throws(HLRError) -> [Double] {
        try check(x, "blockDots x")
        try check(y, "blockDots y")
        guard blocks.elementCount == dimension else {
            throw .invalid("block offsets end at \(blocks.elementCount), the dimension is \(dimension)")
        }
        let ranges = (0..<blocks.groupCount).map { blocks.range(of: $0) }
        return ChunkedKernels.blockDots(x.buffer, y.buffer, ranges: ranges, threads: threads)
    }

    private func check(_ vector: HostVector<T>, _ role: String) throws(HLRError) {
        guard vector.count == dimension else {
            throw .invalid("\(role) has \(vector.count) elements, this space has dimension \(dimension)")
        }
    }
}
