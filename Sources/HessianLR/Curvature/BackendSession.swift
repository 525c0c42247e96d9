/// One estimator run over a backend: counts HVPs, checks every scalar the backend returns, and owns
/// the run's vectors so that all of them are released on every exit path.
///
/// Scratch vectors are released by `close()`; result vectors too, unless `commit()` handed them to
/// the caller first. Estimators call `defer { session.close() }` right after creating a session.
final class BackendSession<B: OperatorBackend> {
    let backend: B
    /// Names the estimator in error messages ("Lanczos", "Hutch++", …).
    let estimator: String
    private(set) var hvpCount = 0
    private var scratchVectors: [B.Vector] = []
    private var resultVectors: [B.Vector] = []

    /// Products per `apply(block:into:)` call: the estimator's `hvpBlock` where the backend
    /// batches (`appliesBlocks`), else 1 (a block would only cost work vectors).
    let blockSize: Int

    init(_ backend: B, estimator: String, hvpBlock: Int = 1) {
        self.backend = backend
        self.estimator = estimator
        blockSize = Self.blockSize(of: backend, hvpBlock: hvpBlock)
    }

    /// `blockSize` of a session on `backend` for an estimator's `hvpBlock`.
    static func blockSize(of backend: B, hvpBlock: Int) -> Int {
        backend.appliesBlocks ? Swift.max(1, hvpBlock) : 1
    }

    var dimension: Int { backend.dimension }

    /// A work vector (zeros), released by `close()`.
    func scratch() throws(HLRError) -> B.Vector {
        let vector = try backend.makeVector()
        scratchVectors.append(vector)
        return vector
    }

    /// A vector that will be returned to the caller (zeros); released by `close()` unless
    /// `commit()` ran.
    func result() throws(HLRError) -> B.Vector {
        let vector = try backend.makeVector()
        resultVectors.append(vector)
        return vector
    }

    /// The result vectors now belong to the caller.
    func commit() { resultVectors.removeAll() }

    func close() {
        for vector in scratchVectors { backend.release(vector) }
        for vector in resultVectors { backend.release(vector) }
        scratchVectors.removeAll()
        resultVectors.removeAll()
    }

    /// out ← H·v, counted.
    func apply(_ v: B.Vector, into out: B.Vector) throws(HLRError) {
        try backend.applyOperator(v, into: out)
        hvpCount += 1
    }

    /// outs[j] ← H·vs[j] for every j, counted: one call for one vector, else
    /// `backend.applyOperator(block:into:)` on consecutive runs of at most `blockSize` vectors.
    func apply(block vs: [B.Vector], into outs: [B.Vector]) throws(HLRError) {
        precondition(vs.count == outs.count, "apply(block:): \(vs.count) vectors for \(outs.count) outputs")
        var start = 0
        while start < vs.count {
            let end = Swift.min(start + blockSize, vs.count)
            if end - start == 1 {
                try backend.applyOperator(vs[start], into: outs[start])
            } else {
                try backend.applyOperator(block: Array(vs[start..<end]), into: Array(outs[start..<end]))
            }
            hvpCount += end - start
            start = end
        }
    }

    /// For samples 0, 1, … < count: fills z with probe `sample` of `stream`, computes Hz and
    /// calls `body(sample, z, hz)`, which returns false to stop. The products are made in blocks
    /// of `blockSize` (fills first, then one block call), so the samples reach `body` in order
    /// with exactly the vectors one-at-a-time would give; a stop inside a block leaves the
    /// block's later products unused (they are counted in `hvpCount`). Holds 2·min(blockSize,
    /// count) work vectors.
    func probeProducts(
        count: Int, seed: UInt64, stream: RandomStream, distribution: ProbeDistribution,
        _ body: (Int, B.Vector, B.Vector) throws(HLRError) -> Bool
    ) throws(HLRError) {
        let width = Swift.min(blockSize, count)
        var zs: [B.Vector] = [], hzs: [B.Vector] = []
        for _ in 0..<width {
            zs.append(try scratch())
            hzs.append(try scratch())
        }
        var start = 0
        while start < count {
            let size = Swift.min(width, count - start)
            for j in 0..<size {
                try probe(zs[j], seed: seed, stream: stream, index: start + j, distribution: distribution)
            }
            try apply(block: Array(zs[0..<size]), into: Array(hzs[0..<size]))
            for j in 0..<size {
                guard try body(start + j, zs[j], hzs[j]) else { return }
            }
            start += size
        }
    }

    /// xᵀy; throws `nonFinite` naming `what` when the backend returns NaN or ±∞.
    func dot(_ x: B.Vector, _ y: B.Vector, _ what: @autoclosure () -> String) throws(HLRError) -> Double {
        let value = try backend.dot(x, y)
        guard value.isFinite else { throw nonFinite(what(), value) }
        return value
    }

    /// Per-block xᵀy; every entry checked like `dot`.
    func blockDots(
        _ x: B.Vector, _ y: B.Vector, blocks: GroupLayout, _ what: @autoclosure () -> String
    ) throws(HLRError) -> [Double] {
        let values = try backend.blockDots(x, y, blocks: blocks)
        guard values.count == blocks.groupCount else {
            throw HLRError(
                .callbackFailed,
                "\(estimator): the backend returned \(values.count) block dots for \(blocks.groupCount) blocks")
        }
        for (block, value) in values.enumerated() where !value.isFinite {
            throw nonFinite("\(what()) of block \(block)", value)
        }
        return values
    }

    func nonFinite(_ what: String, _ value: Double) -> HLRError {
        HLRError(
            .nonFinite,
            "\(estimator): \(what) is not finite (\(value)): an HVP output or a backend vector holds NaN or Inf")
    }

    /// ‖x‖₂.
    func norm(_ x: B.Vector, _ what: @autoclosure () -> String) throws(HLRError) -> Double {
        try dot(x, x, "‖\(what())‖²").squareRoot()
    }

    /// Fills `vector` with probe `index` of `stream`.
    func probe(
        _ vector: B.Vector, seed: UInt64, stream: RandomStream, index: Int,
        distribution: ProbeDistribution
    ) throws(HLRError) {
        try backend.fillProbe(
            vector, seed: seed, stream: stream.rawValue, index: UInt64(index),
            distribution: distribution)
    }

    /// [x_jᵀy for every j] in one backend call (`multiDot`: one callback of a table that has
    /// multi_dot), each checked like `dot`; `what(j)` names x_jᵀy in the message.
    func dots(_ xs: [B.Vector], _ y: B.Vector, _ what: (Int) -> String) throws(HLRError) -> [Double] {
        guard !xs.isEmpty else { return [] }
        let values = try backend.multiDot(xs, y)
        for (index, value) in values.enumerated() where !value.isFinite {
            throw nonFinite(what(index), value)
        }
        guard values.count == xs.count else {
            throw HLRError(
                .callbackFailed, "\(estimator): the backend returned \(values.count) dots for \(xs.count) vectors")
        }
        return values
    }

    /// One classical Gram–Schmidt pass: c_i = q_iᵀw for every basis vector (all against the
    /// same w: one `multiDot`), then w ← w − c_0 q_0 − c_1 q_1 − … in order, skipping zero
    /// coefficients (one `multiAxpy`). The same bits as a `dot` per q_i followed by an `axpy`
    /// per non-zero c_i. Returns the coefficients.
    func project(
        _ w: B.Vector, against basis: [B.Vector], _ what: @autoclosure () -> String
    ) throws(HLRError) -> [Double] {
        guard !basis.isEmpty else { return [] }
        let coefficients = try dots(basis, w) { "\(what()): q\($0)ᵀw" }
        var weights: [Double] = [], vectors: [B.Vector] = []
        weights.reserveCapacity(basis.count)
        vectors.reserveCapacity(basis.count)
        for (index, q) in basis.enumerated() where coefficients[index] != 0 {
            weights.append(-coefficients[index])
            vectors.append(q)
        }
        if !vectors.isEmpty { try backend.multiAxpy(weights, vectors, w) }
        return coefficients
    }
}

/// The free symmetry check of the estimators that hold pairs (x, Hx): for symmetric H,
/// xᵀ(Hy) = (Hx)ᵀy up to rounding. Deviations are measured relative to the product of the
/// vectors' norms and a scale of ‖H‖ (the largest ‖Hx‖/‖x‖ seen), so they are O(1) for an
/// asymmetric operator and about 1e-6 for float32 HVPs of a symmetric one; above the tolerance
/// the run fails with `invalidArgument` and the message Lanczos uses.
struct SymmetryCheck {
    let tolerance: Double
    private(set) var maxAsymmetry = 0.0

    init(tolerance: Double) { self.tolerance = tolerance }

    /// Records |xᵀ(Hy) − (Hx)ᵀy| / scale (unit x, y; else divide `scale` accordingly) and throws
    /// when it exceeds the tolerance. `x`, `y` name the vectors in the message (formed only for
    /// a message: Lanczos checks O(m²) pairs per run).
    mutating func check<B>(
        _ session: BackendSession<B>, x: @autoclosure () -> String, y: @autoclosure () -> String,
        xHy: Double, hxY: Double, scale: Double
    ) throws(HLRError) {
        guard scale > 0, scale.isFinite else { return }
        let deviation = (xHy - hxY).magnitude / scale
        if deviation > maxAsymmetry { maxAsymmetry = deviation }
        if deviation > tolerance {
            let (x, y) = (x(), y())
            throw .invalid(
                "\(session.estimator): the operator is not symmetric: \(x)ᵀ(H \(y)) = \(xHy) "
                    + "but (H \(x))ᵀ\(y) = \(hxY); relative deviation \(deviation) > "
                    + "symmetryTolerance (symmetry_tolerance) \(tolerance) (‖H‖ ≳ \(scale))")
        }
    }

    /// Checks every pair a < b of the k×k matrix h[a·k + b] = q_aᵀ(H q_b) of an orthonormal
    /// basis (QᵀHQ must be symmetric); `scale` = max_b ‖H q_b‖.
    mutating func checkProjection<B>(
        _ session: BackendSession<B>, _ h: [Double], size k: Int, scale: Double
    ) throws(HLRError) {
        for a in 0..<k {
            for b in (a + 1)..<Swift.max(a + 1, k) {
                try check(session, x: "q\(a)", y: "q\(b)", xHy: h[a * k + b], hxY: h[b * k + a], scale: scale)
            }
        }
    }

    static func validate(_ tolerance: Double, estimator: String) throws(HLRError) {
        guard tolerance > 0, !tolerance.isNaN else {
            throw .invalid("\(estimator): symmetryTolerance (symmetry_tolerance) must be > 0, got \(tolerance)")
        }
    }
}

extension OperatorBackend {
    /// n, the operator's dimension, after the first check of every estimator run: n ≥ 1
    /// (`estimator` names the run in the message).
    func checkedDimension(estimator: String) throws(HLRError) -> Int {
        let n = dimension
        guard n >= 1 else { throw .invalid("\(estimator): operator dimension must be ≥ 1, got \(n)") }
        return n
    }
}
