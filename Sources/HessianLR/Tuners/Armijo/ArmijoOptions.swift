/// The knobs of the Armijo backtracking line search, the baseline of seed 002, with the
/// defaults of optax's `scale_by_backtracking_linesearch`.
///
/// | key | source |
/// |---|---|
/// | initial_lr | optax: the state's learning rate starts at 1 |
/// | lr_max | optax: max_learning_rate = 1.0 |
/// | sufficient_decrease c | optax: slope_rtol = 1e-4 |
/// | decrease_factor | optax: decrease_factor = 0.8 |
/// | increase_factor | optax: increase_factor = 1.5 |
/// | max_backtracks | optax requires max_backtracking_steps (no default); 15 as in its docstring examples |
///
/// Each option's default and range are written once, in `fields` below (`hlr_param_info`
/// reports them); the table gives why.
///
/// One rate for all groups: both options are handle-scoped.
public struct ArmijoOptions: TunerOptions {
    public static let method = Method.armijo

    // Placeholders: `init(groups:)` sets every field to its default from `fields`.
    public var initialLR = 0.0
    public var lrMax = 0.0
    public var sufficientDecrease = 0.0
    public var decreaseFactor = 0.0
    public var increaseFactor = 0.0
    public var maxBacktracks = 0
    public let groupCount: Int

    public static let maxBacktracksLimit = 1000

    public init(storageFor groups: Int) { groupCount = groups }

    public static let fields: [OptionField<Self>] = [
        .real(.initialLR, \.initialLR, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude, default: 1.0),
        .lrMax(\.lrMax, default: 1.0),
        .real(.sufficientDecrease, \.sufficientDecrease, minimum: 0, maximum: (1.0).nextDown, default: 1e-4),
        .real(.decreaseFactor, \.decreaseFactor, minimum: .leastNormalMagnitude, maximum: (1.0).nextDown, default: 0.8),
        .real(.increaseFactor, \.increaseFactor, minimum: 1, maximum: .greatestFiniteMagnitude, default: 1.5),
        .count(.maxBacktracks, \.maxBacktracks, minimum: 0, maximum: Double(maxBacktracksLimit), default: 15),
    ]

    public func checkConsistency() throws(HLRError) {}
}
