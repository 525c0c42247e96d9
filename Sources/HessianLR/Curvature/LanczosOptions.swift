/// Which end of the spectrum an eigensolver looks for (`HLR_WHICH_*`).
public enum EigenTarget: Int, Sendable, CaseIterable {
    /// Largest |λ| first (ties: larger λ first). PyHessian's and power iteration's target.
    case largestMagnitude = 1
    /// Largest λ first (the sharpness λ_max of a Hessian).
    case largestAlgebraic = 2
    /// Smallest λ first (the most negative curvature).
    case smallestAlgebraic = 3

    /// Whether `a` comes before `b` in this target's order (total and deterministic).
    func precedes(_ a: Double, _ b: Double) -> Bool {
        switch self {
        case .largestAlgebraic: return a > b
        case .smallestAlgebraic: return a < b
        case .largestMagnitude:
            return a.magnitude > b.magnitude || (a.magnitude == b.magnitude && a > b)
        }
    }
}

/// Options of `Lanczos.eigenpairs`.
public struct LanczosOptions: Sendable, Equatable {
    /// k, the number of eigenpairs wanted (default 1; 1 ≤ k ≤ n).
    public var count = 1
    /// Which eigenvalues (default `.largestMagnitude`).
    public var which = EigenTarget.largestMagnitude
    /// Relative residual tolerance (default 1e-10): stop once every wanted Ritz pair (θᵢ, yᵢ) has
    /// |β_m·s_{m,i}| ≤ tolerance·max(|θᵢ|, 10⁻⁸·max_j|θ_j|). The eigenvalue error is then about
    /// residual²/gap, far below tolerance·|θᵢ|.
    public var tolerance = 1e-10
    /// Largest Krylov dimension m (default 128, capped at n). Each step costs one HVP and keeps one
    /// vector: memory is m + 1 vectors. Must be ≥ count.
    public var maxDimension = 128
    /// Probe seed (default 0). Start vector: probe 0 of stream `.lanczosStart`; restarts after a
    /// breakdown use probes 1, 2, … of the same stream.
    public var seed: UInt64 = 0
    /// Start-vector distribution (default Gaussian).
    public var distribution = ProbeDistribution.gaussian
    /// Whether to form the Ritz vectors (default false).
    public var computeVectors = false
    /// Largest tolerated asymmetry max|q_iᵀHq_j − (Hq_i)ᵀq_j| / max‖Hq‖ (default 1e-3; float32
    /// HVPs deviate by about 1e-6, an asymmetric operator by O(1)); `.infinity` disables the check.
    public var symmetryTolerance = 1e-3
    /// Requested relative eigenvalue accuracy ε (default 0: off). When > 0 the run also stops
    /// once every wanted Ritz value has an error estimate min(rᵢ, rᵢ²/gapᵢ) ≤ ε·max(|θᵢ|,
    /// 10⁻⁸·max_j|θ_j|) (`Lanczos`, rule 1b), which needs far fewer HVPs than a residual
    /// tolerance giving the same accuracy: the eigenvalue error is quadratic in the residual.
    public var eigenvalueTolerance = 0.0

    public init() {}

    func validate(dimension n: Int) throws(HLRError) {
        guard n >= 1 else { throw .invalid("Lanczos: operator dimension must be ≥ 1, got \(n)") }
        guard count >= 1, count <= n else {
            throw .invalid("Lanczos: count (k) must be in 1...\(n) (the dimension), got \(count)")
        }
        guard tolerance > 0, tolerance.isFinite else {
            throw .invalid("Lanczos: tolerance must be finite and > 0, got \(tolerance)")
        }
        guard maxDimension >= count else {
            throw .invalid("Lanczos: maxDimension (\(maxDimension)) must be ≥ count (\(count))")
        }
        guard eigenvalueTolerance >= 0, eigenvalueTolerance.isFinite else {
            throw .invalid("Lanczos: eigenvalueTolerance must be finite and ≥ 0, got \(eigenvalueTolerance)")
        }
        try SymmetryCheck.validate(symmetryTolerance, estimator: "Lanczos")
    }
}

/// Why an iterative eigensolver stopped.
public enum EigenTermination: Int, Sendable {
    /// Every wanted pair met the residual tolerance, or every wanted value the eigenvalue
    /// tolerance.
    case converged = 0
    /// The Krylov space reached the whole space or an invariant subspace that no further probe
    /// could leave: the Ritz values are exact eigenvalues.
    case exhausted = 1
    /// The dimension or iteration cap was reached first (estimates and residuals still reported).
    case iterationLimit = 2
}

/// The outcome of `Lanczos.eigenpairs`.
public struct LanczosResult<Vector> {
    /// θ₁, …, θ_k in the order of `which`.
    public var eigenvalues: [Double]
    /// Estimated absolute residuals ‖H yᵢ − θᵢ yᵢ‖ = |β·s_{last,i}| (exact in exact arithmetic).
    public var residuals: [Double]
    /// Estimated absolute eigenvalue errors min(rᵢ, rᵢ²/δᵢ) (see `Lanczos`, rule 1b).
    public var errorBounds: [Double]
    /// Unit Ritz vectors yᵢ (empty unless `computeVectors`); the caller owns them and releases them
    /// through the backend.
    public var eigenvectors: [Vector]
    /// Whether every wanted pair met the tolerance (also true when `termination == .exhausted`).
    public var converged: Bool
    public var termination: EigenTermination
    /// m, the final Krylov dimension.
    public var iterations: Int
    /// HVPs spent (= m).
    public var hvpCount: Int
    /// Restarts after an invariant subspace (new blocks of the basis).
    public var restarts: Int
    /// The largest relative asymmetry measured (see `LanczosOptions.symmetryTolerance`).
    public var maxAsymmetry: Double
}

extension LanczosResult: Sendable where Vector: Sendable {}
