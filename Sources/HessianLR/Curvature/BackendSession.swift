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

    init(_ backend: B, estimator: String) {
        self.backend = backend
        self.estimator = estimator
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

    /// One classical Gram–Schmidt pass: c_i = q_iᵀw for every basis vector, then w ← w − Σ c_i q_i.
    /// Returns the coefficients.
    func project(
        _ w: B.Vector, against basis: [B.Vector], _ what: @autoclosure () -> String
    ) throws(HLRError) -> [Double] {
        var coefficients: [Double] = []
        coefficients.reserveCapacity(basis.count)
        for (index, q) in basis.enumerated() {
            coefficients.append(try dot(q, w, "\(what()): q\(index)ᵀw"))
        }
        for (index, q) in basis.enumerated() where coefficients[index] != 0 {
            try backend.axpy(-coefficients[index], q, w)
        }
        return coefficients
    }
}
