/// Read-only diagnostics of a tuner (`hlr_tuner_get_info`). Raw values are the stable
/// `HLR_INFO_*` numbers of `include/hessianlr.h`.
public enum InfoKey: Int, CaseIterable, Sendable {
    /// Number of curvature observations applied since creation or the last state reset.
    case updates = 1
    /// Step of the last applied observation, or −1 when there was none.
    case lastStep = 2
    /// The next step that wants curvature (after `lastStep`), or −1 when none fits in a UInt64.
    case nextCurvatureStep = 3
    /// Per group: the raw quadratic-model candidate gᵀd / dᵀHd of the last update (NaN when the
    /// last update had none: zero gradient, not a descent direction, no update yet).
    case lastCandidate = 4
    /// Per group: `DecisionFlags` bits of the last update.
    case lastFlags = 5
    /// Per group: the observed dᵀHd of the last update (NaN before the first).
    case lastCurvature = 6
    /// Per group: the observed gᵀd of the last update (NaN before the first).
    case lastSlope = 7

    public var name: String {
        switch self {
        case .updates: return "updates"
        case .lastStep: return "last_step"
        case .nextCurvatureStep: return "next_curvature_step"
        case .lastCandidate: return "last_candidate"
        case .lastFlags: return "last_flags"
        case .lastCurvature: return "last_curvature"
        case .lastSlope: return "last_slope"
        }
    }

    /// Whether the value differs per parameter group.
    public var perGroup: Bool {
        switch self {
        case .updates, .lastStep, .nextCurvatureStep: return false
        case .lastCandidate, .lastFlags, .lastCurvature, .lastSlope: return true
        }
    }

    public static func from(rawValue: Int) throws(HLRError) -> InfoKey {
        guard let key = InfoKey(rawValue: rawValue) else {
            throw HLRError(.unknownKey, "unknown info key \(rawValue)")
        }
        return key
    }
}

/// What happened to one group's learning rate in one update (`HLR_FLAG_*` bits).
public struct DecisionFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The candidate was raised to low·lr by the relative bound.
    public static let boundedLow = DecisionFlags(rawValue: 1)
    /// The candidate was lowered to high·lr by the relative bound.
    public static let boundedHigh = DecisionFlags(rawValue: 2)
    /// The smoothed value was raised to lr_min.
    public static let clampedMin = DecisionFlags(rawValue: 4)
    /// The smoothed value was lowered to lr_max.
    public static let clampedMax = DecisionFlags(rawValue: 8)
    /// dᵀHd ≤ 0: the candidate was negative_curvature_decay·lr.
    public static let negativeCurvature = DecisionFlags(rawValue: 16)
    /// gᵀd = 0: nothing to learn from this step; the learning rate was kept.
    public static let zeroGradient = DecisionFlags(rawValue: 32)
    /// gᵀd < 0: −d is not a descent direction; the learning rate was kept.
    public static let notDescent = DecisionFlags(rawValue: 64)
}
