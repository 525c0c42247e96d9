/// The knobs of the Armijo backtracking line search, the baseline of seed 002, with the
/// defaults of optax's `scale_by_backtracking_linesearch`.
///
/// | key                  | default | range       | source                                       |
/// |----------------------|---------|-------------|----------------------------------------------|
/// | initial_lr           | 1.0     | (0, max]    | optax: the state's learning rate starts at 1 |
/// | lr_max               | 1.0     | (0, max]    | optax: max_learning_rate = 1.0               |
/// | sufficient_decrease c| 1e-4    | [0, 1)      | optax: slope_rtol = 1e-4                     |
/// | decrease_factor      | 0.8     | (0, 1)      | optax: decrease_factor = 0.8                 |
/// | increase_factor      | 1.5     | [1, max]    | optax: increase_factor = 1.5                 |
/// | max_backtracks       | 15      | [0, 1000]   | optax requires max_backtracking_steps (no default); 15 as in its docstring examples |
///
/// One rate for all groups: both options are handle-scoped.
public struct ArmijoOptions: TunerOptions, SpecOrderedOptions {
    public static let method = Method.armijo

    public var initialLR: Double = 1.0
    public var lrMax: Double = 1.0
    public var sufficientDecrease: Double = 1e-4
    public var decreaseFactor: Double = 0.8
    public var increaseFactor: Double = 1.5
    public var maxBacktracks: Int = 15
    public let groupCount: Int

    public static let maxBacktracksLimit = 1000

    public init(groups: Int) { groupCount = groups }

    public static let specs: [ParameterSpec] = [
        ParameterSpec(
            .initialLR, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude, default: 1.0),
        ParameterSpec(
            .lrMax, minimum: .leastNormalMagnitude, maximum: .infinity, default: 1.0),
        ParameterSpec(.sufficientDecrease, minimum: 0, maximum: (1.0).nextDown, default: 1e-4),
        ParameterSpec(.decreaseFactor, minimum: .leastNormalMagnitude, maximum: (1.0).nextDown, default: 0.8),
        ParameterSpec(.increaseFactor, minimum: 1, maximum: .greatestFiniteMagnitude, default: 1.5),
        ParameterSpec(
            .maxBacktracks, minimum: 0, maximum: Double(maxBacktracksLimit), default: 15, integral: true),
    ]

    public func value(_ key: ParameterKey, group: Int) -> Double {
        switch key {
        case .initialLR: return initialLR
        case .lrMax: return lrMax
        case .sufficientDecrease: return sufficientDecrease
        case .decreaseFactor: return decreaseFactor
        case .increaseFactor: return increaseFactor
        case .maxBacktracks: return Double(maxBacktracks)
        default: return .nan
        }
    }

    public mutating func store(_ key: ParameterKey, _ value: Double, group: Int?) {
        switch key {
        case .initialLR: initialLR = value
        case .lrMax: lrMax = value
        case .sufficientDecrease: sufficientDecrease = value
        case .decreaseFactor: decreaseFactor = value
        case .increaseFactor: increaseFactor = value
        case .maxBacktracks: maxBacktracks = Int(value)
        default: break
        }
    }

    public func checkConsistency() throws(HLRError) {}
}
