/// Option keys. Raw values are the stable `HLR_PARAM_*` numbers of `include/hessianlr.h`: adding
/// an option adds a key, never changes a signature. Which keys a method has, their ranges and
/// defaults are in that method's `ParameterSpec` table.
public enum ParameterKey: Int, CaseIterable, Sendable {
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

    public var name: String {
        switch self {
        case .initialLR: return "initial_lr"
        case .warmupSteps: return "warmup_steps"
        case .updatePeriod: return "update_period"
        case .lrBoundLow: return "lr_bound_low"
        case .lrBoundHigh: return "lr_bound_high"
        case .lrMin: return "lr_min"
        case .lrMax: return "lr_max"
        case .smoothing: return "smoothing"
        case .negativeCurvatureDecay: return "negative_curvature_decay"
        case .direction: return "direction"
        }
    }

    /// Parses a C key, naming the bad value on failure.
    public static func from(rawValue: Int) throws(HLRError) -> ParameterKey {
        guard let key = ParameterKey(rawValue: rawValue) else {
            throw HLRError(.unknownKey, "unknown parameter key \(rawValue)")
        }
        return key
    }
}
