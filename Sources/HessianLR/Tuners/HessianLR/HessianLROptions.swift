/// Which direction the quadratic model is taken along.
public enum Direction: Int, Sendable, CaseIterable {
    /// d = g: lr* = gᵀg / gᵀHg, the exact minimiser of the local quadratic along −g (SGD).
    case gradient = 0
    /// d = u, the optimizer's update (w ← w − η·u, e.g. Adam's m̂/(√v̂+ε)): lr* = gᵀu / uᵀHu.
    case update = 1
}

/// All knobs of HessianLR (seed 000's README, same defaults) plus the direction.
public struct HessianLROptions: RateFieldOptions {
    public static let method = Method.hessianLR

    // Placeholders: `init(groups:)` sets every field to its default from `fields`.
    /// η₀ per group, P (the update period), the clamp [lr_min, lr_max] and β of the EMA.
    public var rate = RateFields()
    /// W, the warmup steps.
    public var warmupSteps: UInt64 = 0
    /// lr_bounds = (low, high): the bound on the change per update.
    public var lrBoundLow = 0.0
    public var lrBoundHigh = 0.0
    /// The factor for dᵀHd ≤ 0.
    public var negativeCurvatureDecay = 0.0
    public var direction = Direction.gradient

    public init(storageFor groups: Int) {}

    /// Every HessianLR option with the defaults of seed 000's README (`hlr_param_bounds`).
    public static let fields: [OptionField<Self>] = [
        .initialLR(\.initialLR),
        .count(.warmupSteps, \.warmupSteps, minimum: 0, maximum: ParameterSpec.maxIntegral, default: 0),
        .updatePeriod(\.updatePeriod, default: 10),
        .lrBoundLow(\.lrBoundLow, default: 0.3),
        .lrBoundHigh(\.lrBoundHigh, default: 3.0),
        .lrMin(\.lrMin, default: 1e-8),
        .lrMax(\.lrMax, default: 1.0),
        .smoothing(\.smoothing, default: 0.9),
        .real(.negativeCurvatureDecay, \.negativeCurvatureDecay, minimum: .leastNormalMagnitude, maximum: 1, default: 0.5),
        .choice(.direction, \.direction, default: .gradient),
    ]

    public func checkConsistency() throws(HLRError) {
        try rate.checkClamp()
    }
}
