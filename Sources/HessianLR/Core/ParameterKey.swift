/// Option keys. Raw values are the stable `HLR_PARAM_*` numbers of `include/hessianlr.h`: adding
/// an option adds a key, never changes a signature. Which keys a method has, their ranges and
/// defaults are in that method's `ParameterSpec` table.
public enum ParameterKey: Int, CatalogEnum {
    /// η₀, the learning rate before the first curvature update and the warmup target (per group).
    case initialLR = 1
    /// W, number of linear-warmup steps: lr(t) = η₀·(t+1)/W for t < W.
    case warmupSteps = 2
    /// P, curvature is requested at steps t ≥ W with (t − W) mod P = 0.
    case updatePeriod = 3
    /// Lower multiplicative bound on the change per update: candidate ≥ low·lr.
    case lrBoundLow = 4
    /// Upper multiplicative bound on the change per update: candidate ≤ high·lr.
    case lrBoundHigh = 5
    /// Absolute floor of every learning rate handed out.
    case lrMin = 6
    /// Absolute ceiling of every learning rate handed out.
    case lrMax = 7
    /// β of the EMA lr ← β·lr + (1 − β)·candidate.
    case smoothing = 8
    /// Factor applied to the current lr when dᵀHd ≤ 0 (negative or zero curvature).
    case negativeCurvatureDecay = 9
    /// 0: d = g (gradient); 1: d = u (the optimizer's update, step w ← w − η·u).
    case direction = 10
    /// σ of CDAT, η = σ·n̂/d̂: 2 keeps training on the edge of stability, 1 is quadratically
    /// greedy.
    case sigma = 11
    /// ε of CDAT's denominator d = |uᵀHu| + ε, in the units of uᵀHu.
    case epsilon = 12
    /// Per group: λ_max of the Hessian (sharpness) supplied by the caller for the
    /// edge-of-stability diagnostic η·λ_max; 0 = not supplied. Never changes a rate.
    case sharpness = 13
    /// m, number of forward-loss probes per update (GeN: ≥ 3; Hi-DLR: 0 = automatic).
    case probeCount = 14
    /// s, probe steps are ±s·lr (GeN) or s·lr_k·r (Hi-DLR, r ∈ [−1, 1)).
    case probeScale = 15
    /// A quadratic fit is used only when its R² exceeds this threshold.
    case r2Threshold = 16
    /// Factor applied to every rate when a fit is rejected (GeN halves: 0.5).
    case fitFailureDecay = 17
    /// Seed of the counter-based generator of random probes (stream `perturbation`).
    case seed = 18
    /// Hi-DLR model: 0 diagonal (2K + 1 unknowns), 1 full A (K(K+1)/2 + K + 1 unknowns).
    case model = 19
    /// Full A model: eigenvalues are raised to at least eigen_floor·λ_max(A) (A in probe units).
    case eigenFloor = 20
    /// c of the Armijo condition f(w − η·d) ≤ f(w) − c·η·gᵀd.
    case sufficientDecrease = 21
    /// Factor applied to the trial rate after each failed Armijo test.
    case decreaseFactor = 22
    /// The first trial of a search is min(previous accepted rate·increase_factor, lr_max).
    case increaseFactor = 23
    /// Largest number of decreases in one line search (max_backtracks + 1 trials).
    case maxBacktracks = 24
    /// The base optimizer whose update the rates scale (auto): 0 SGD (torch.optim.SGD, with the
    /// momentum, dampening and nesterov options), 1 Adam / AdamW (momentum = β₁).
    case optimizer = 25
    /// The optimizer's momentum β (SGD) or β₁ (Adam), in [0, 1).
    case momentum = 26
    /// SGD's dampening τ, in [0, 1].
    case dampening = 27
    /// SGD's Nesterov flag: 0 or 1 (needs momentum > 0 and dampening 0, as torch).
    case nesterov = 28
    /// Whether the probes run along the optimizer's previous update (1: the row ρ = −1 is the
    /// previous iterate) or its current one (0) (auto).
    case probePrevious = 29

    /// Parses a C key, naming the bad value on failure.
    public static func from(rawValue: Int) throws(HLRError) -> ParameterKey {
        guard let key = ParameterKey(rawValue: rawValue) else {
            throw HLRError(.unknownKey, "unknown parameter key \(rawValue)")
        }
        return key
    }
}
