extension InfoKey {
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
