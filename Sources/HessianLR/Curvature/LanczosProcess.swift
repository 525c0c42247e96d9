/// The symmetric Lanczos process with full reorthogonalisation, shared by `Lanczos` and
/// `SpectralDensity`. After m steps, Q = [q₀ … q_{m−1}] is orthonormal and QᵀHQ = T, tridiagonal
/// with diagonal α and off-diagonal β.
///
/// Step j: w = H·q_j (one HVP); two classical Gram–Schmidt passes against the whole basis
/// ("twice is enough", Daniel–Gragg–Kaufman–Stewart / Kahan–Parlett):
///   pass 1: h_i = q_iᵀw (i ≤ j), w ← w − Σ h_i q_i;   pass 2: c_i = q_iᵀw, w ← w − Σ c_i q_i;
///   α_j = h_j + c_j, β_j = ‖w‖, q_{j+1} = w/β_j.
///
/// Breakdown (the Krylov space is invariant): β_j ≤ 10⁻¹²·s, or pass 2 shrank w by more than 1/√2
/// (Kahan–Parlett: w lay in the span), where s = max_{i≤j} ‖H q_i‖ (from the pass-1 Pythagoras
/// ‖Hq_j‖² = Σ h_i² + ‖w‖², no extra HVP).
///
/// Symmetry check, free: for symmetric H, pass 1 gives h_i = q_iᵀHq_j = (Hq_i)ᵀq_j = 0 for
/// i < j − 1 and h_{j−1} = β_{j−1} up to rounding (O(ε·s)). The largest deviation relative to s is
/// tracked in `maxAsymmetry`; above the tolerance the step throws `invalidArgument`
/// (`SymmetryCheck`, the check and message every estimator shares).
struct LanczosProcess<B: OperatorBackend> {
    /// Relative breakdown threshold on β_j / s.
    static var breakdownTolerance: Double { 1e-12 }

    let session: BackendSession<B>
    private var symmetry: SymmetryCheck
    private(set) var basis: [B.Vector] = []
    private(set) var alpha: [Double] = []
    /// beta[i] couples q_i and q_{i+1} in T; 0 across a block boundary (after a restart).
    private(set) var beta: [Double] = []
    /// First basis index of every Krylov block (a restart opens a new block).
    private(set) var blockStarts: [Int] = []
    /// β of the last step (the coupling to the not yet appended q_{j+1}, or the dropped one).
    private(set) var lastBeta = 0.0
    /// s, the running max of ‖H q_j‖.
    private(set) var scale = 0.0
    /// The largest relative asymmetry measured so far.
    var maxAsymmetry: Double { symmetry.maxAsymmetry }
    private var pending: B.Vector?

    init(session: BackendSession<B>, symmetryTolerance: Double) {
        self.session = session
        symmetry = SymmetryCheck(tolerance: symmetryTolerance)
    }

    var dimension: Int { basis.count }
    var currentBlockStart: Int { blockStarts.last ?? 0 }

    /// Opens a new block with `vector` (a scratch vector of the session, e.g. a probe):
    /// orthogonalised twice against the basis and normalised. Returns false, leaving the process
    /// unchanged, when nothing of `vector` is left outside the span of the basis (relative norm
    /// ≤ 10⁻⁶) or it is zero.
    mutating func open(with vector: B.Vector) throws(HLRError) -> Bool {
        let before = try session.norm(vector, "start vector")
        if !basis.isEmpty {
            _ = try session.project(vector, against: basis, "start vector, pass 1")
            _ = try session.project(vector, against: basis, "start vector, pass 2")
        }
        let after = basis.isEmpty ? before : try session.norm(vector, "orthogonalised start vector")
        guard after > 0, after > 1e-6 * before else { return false }
        try session.backend.scale(1 / after, vector)
        if !basis.isEmpty { beta.append(0) }
        blockStarts.append(basis.count)
        basis.append(vector)
        pending = nil
        return true
    }

    /// Appends q_{j+1} = w/β_j computed by the last step (requires that it did not break down).
    mutating func advance() {
        guard let next = pending else { return }
        beta.append(lastBeta)
        basis.append(next)
        pending = nil
    }

    /// One Lanczos step on the last basis vector: one HVP. Returns whether it broke down.
    mutating func step() throws(HLRError) -> Bool {
        let w = try session.scratch()
        try session.apply(basis[basis.count - 1], into: w)
        return try finishStep(product: w)
    }

    /// The rest of `step()` once w = H·q_j, q_j the last basis vector, was computed elsewhere (a
    /// block of products for several processes; `w` a scratch vector of the session, consumed).
    /// Returns whether the process broke down.
    mutating func finishStep(product w: B.Vector) throws(HLRError) -> Bool {
        let j = basis.count - 1
        let first = try session.project(w, against: basis, "step \(j), pass 1")
        let firstNorm = try session.norm(w, "w after pass 1 of step \(j)")
        let hvpNorm = (first.reduce(0) { $0 + $1 * $1 } + firstNorm * firstNorm).squareRoot()
        scale = Swift.max(scale, hvpNorm)
        for i in 0..<j {
            let expected = i == j - 1 ? beta[j - 1] : 0
            try symmetry.check(session, x: "q\(i)", y: "q\(j)", xHy: first[i], hxY: expected, scale: scale)
        }
        let second = try session.project(w, against: basis, "step \(j), pass 2")
        let secondNorm = try session.norm(w, "w after pass 2 of step \(j)")
        alpha.append(first[j] + second[j])
        lastBeta = secondNorm
        let brokeDown = secondNorm <= Self.breakdownTolerance * scale
            || secondNorm < firstNorm * 0.5.squareRoot()
        if brokeDown {
            pending = nil
        } else {
            try session.backend.scale(1 / secondNorm, w)
            pending = w
        }
        return brokeDown
    }

    /// The tridiagonal block [start, end) of T: (diagonal, off-diagonal).
    func block(_ range: Range<Int>) -> (diagonal: [Double], offDiagonal: [Double]) {
        (Array(alpha[range]), range.count > 1 ? Array(beta[range.lowerBound..<(range.upperBound - 1)]) : [])
    }
}
