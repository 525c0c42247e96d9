/// Read-only diagnostics of a tuner (`hlr_tuner_get_info`). Raw values are the stable
/// `HLR_INFO_*` numbers of `include/hessianlr.h`.
public enum InfoKey: Int, CatalogEnum {
    /// Updates applied since creation or the last state reset: curvature observations
    /// (HessianLR, CDAT), fits (GeN, Hi-DLR, accepted or rejected), finished line searches
    /// (Armijo).
    case updates = 1
    /// Step of the last applied observation, or −1 when there was none.
    case lastStep = 2
    /// The next step that wants curvature (after `lastStep`), or −1 when none fits in a UInt64
    /// or the method never observes curvature (GeN, Hi-DLR, Armijo).
    case nextCurvatureStep = 3
    /// Per group: the candidate of the last update before the safeguards, NaN when there was
    /// none. HessianLR: gᵀd / dᵀHd; CDAT: σ·n̂/d̂; GeN: b_k/a_k; Hi-DLR: η_k of the fitted model;
    /// Armijo: the last trial rate tested (the same for every group).
    case lastCandidate = 4
    /// Per group: `DecisionFlags` bits of the last update.
    case lastFlags = 5
    /// Per group: the observed dᵀHd of the last update (HessianLR, CDAT; NaN before the first).
    case lastCurvature = 6
    /// Per group: the observed gᵀd of the last update (HessianLR, CDAT, Armijo's slope
    /// observation; NaN before the first).
    case lastSlope = 7
    /// The next step after `lastStep` that needs any observation (curvature, losses or slope),
    /// or −1 when none fits in a UInt64. During an unfinished line search: that search's step.
    /// Every method but HessianLR (whose `nextCurvatureStep` is the same thing).
    case nextUpdateStep = 8
    /// c of the last quadratic fit L(ξ) ≈ c − Σ b_k ξ_k + ½ ξᵀAξ (GeN, Hi-DLR), NaN before the
    /// first; units of the loss.
    case fitIntercept = 9
    /// Per group: b_k of the last fit, in loss per unit of group k's step ξ_k (ξ in learning-rate
    /// units along d_k); NaN before the first fit.
    case fitSlope = 10
    /// Per group: A_kk of the last fit (loss per ξ_k²); NaN before the first fit.
    case fitCurvature = 11
    /// R² = 1 − RSS/TSS of the last fit; NaN before the first.
    case fitR2 = 12
    /// Per group: per-parameter influence (PPI) from the last fit: sup over ξ ≥ 0 of
    /// b_k ξ − ½ A_kk ξ², the largest decrease of the fitted loss that moving group k alone can
    /// give (b²/(2a) for a, b > 0; 0 for b ≤ 0 < a; +∞ when A_kk ≤ 0 < b or A_kk < 0). NaN before
    /// the first fit.
    case influence = 13
    /// Per group: rank of the group by influence (0 = most influential; ties by group index);
    /// −1 before the first fit.
    case influenceRank = 14
    /// Per group: η_k·λ_max,k with λ_max,k the caller's `sharpness` option (CDAT); 2 is the edge
    /// of stability of gradient descent. NaN when no sharpness was supplied.
    case edgeOfStability = 15
    /// Per group: n̂, CDAT's EMA of n = max(gᵀu, 0) (0 before the first observation).
    case smoothedNumerator = 16
    /// Per group: d̂, CDAT's EMA of d = |uᵀHu| + ε (0 before the first observation).
    case smoothedDenominator = 17
    /// Decreases made in the current (unfinished) or last line search.
    case backtracks = 18
    /// The trial rate the unfinished line search waits for, NaN when none is pending.
    case trialLR = 19
    /// L(w) of the last slope observation (the Armijo reference), NaN before the first.
    case referenceLoss = 20

    /// Whether the value differs per parameter group.
    public var perGroup: Bool {
        switch self {
        case .updates, .lastStep, .nextCurvatureStep, .nextUpdateStep, .fitIntercept, .fitR2,
            .backtracks, .trialLR, .referenceLoss:
            return false
        case .lastCandidate, .lastFlags, .lastCurvature, .lastSlope, .fitSlope, .fitCurvature,
            .influence, .influenceRank, .edgeOfStability, .smoothedNumerator, .smoothedDenominator:
            return true
        }
    }

    public static func from(rawValue: Int) throws(HLRError) -> InfoKey {
        guard let key = InfoKey(rawValue: rawValue) else {
            throw HLRError(.unknownKey, "unknown info key \(rawValue)")
        }
        return key
    }

    /// The `unknownKey` error of a method that has no such info, naming the key (name and
    /// number) and the method.
    func unknown(in method: Method) -> HLRError {
        HLRError(.unknownKey, "method \(method.name) has no info key \(name) (key \(rawValue))")
    }
}

/// What happened to one group's learning rate in one update (`HLR_FLAG_*` bits).
public struct DecisionFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The candidate was raised to low·lr by the relative bound.
    public static let boundedLow = DecisionFlags(rawValue: 1)
    /// The candidate was lowered to high·lr by the relative bound (auto: to 4× the rate per fit,
    /// or to the edge a loss spike revealed).
    public static let boundedHigh = DecisionFlags(rawValue: 2)
    /// The smoothed value was raised to lr_min.
    public static let clampedMin = DecisionFlags(rawValue: 4)
    /// The smoothed value was lowered to lr_max.
    public static let clampedMax = DecisionFlags(rawValue: 8)
    /// Curvature along the group's direction ≤ 0 (HessianLR: dᵀHd ≤ 0, the candidate was
    /// negative_curvature_decay·lr; CDAT: uᵀHu < 0, its magnitude was used; GeN: fitted a ≤ 0,
    /// the fit was rejected; Hi-DLR diagonal: a_k ≤ 0, the group kept its rate).
    public static let negativeCurvature = DecisionFlags(rawValue: 16)
    /// Slope 0 (HessianLR, CDAT: gᵀd = 0; GeN: fitted b = 0; Armijo: Σ gᵀd_k = 0). HessianLR
    /// kept the rate; CDAT's n was 0; GeN rejected the fit. auto: the probe losses were too close
    /// to resolve; the rate doubled (no informative fit since the bracket or a reset) or held.
    public static let zeroGradient = DecisionFlags(rawValue: 32)
    /// Slope < 0: −d is not a descent direction (HessianLR kept the rate; CDAT's n was 0; GeN
    /// rejected the fit; Hi-DLR: b_k ≤ 0 or a full-model η_k ≤ 0, the group kept its rate;
    /// Armijo searched anyway).
    public static let notDescent = DecisionFlags(rawValue: 64)
    /// The quadratic fit was not used (GeN, Hi-DLR). Rejected by a gate (with `negativeCurvature`,
    /// `zeroGradient`, `notDescent` or `poorFit`): every rate was kept. Failed (with
    /// `rankDeficient` or `observationFailed`): every rate was multiplied by fit_failure_decay.
    public static let fitRejected = DecisionFlags(rawValue: 128)
    /// The fit's R² did not exceed r2_threshold.
    public static let poorFit = DecisionFlags(rawValue: 256)
    /// The probes did not determine the model: the least-squares design was rank-deficient.
    public static let rankDeficient = DecisionFlags(rawValue: 512)
    /// Full-A model: eigenvalues of A were raised to the floor to make it positive definite.
    public static let projected = DecisionFlags(rawValue: 1024)
    /// Armijo: max_backtracks decreases did not reach sufficient decrease; the last trial rate
    /// was used.
    public static let backtrackLimit = DecisionFlags(rawValue: 2048)
    /// The caller reported that it could not measure the losses the step needed
    /// (`Tuner.observeFailure`): GeN and Hi-DLR decayed every rate by fit_failure_decay; Armijo
    /// treated the trial as a failed sufficient-decrease test.
    public static let observationFailed = DecisionFlags(rawValue: 4096)
    /// auto: the last step more than doubled the batch loss (L(w_t) > 2·L(w_{t−1}) on the
    /// step's batch); the rate was cut at once and the averages forgotten.
    public static let lossSpike = DecisionFlags(rawValue: 8192)
}
