/// A key of a tunable value: a tuner option (`ParameterKey`), a schedule parameter
/// (`ScheduleParameter`) or an estimator parameter (`EstimatorParameter`).
public protocol OptionKey: Hashable, Sendable {
    /// The snake_case name used in messages and by the bindings.
    var name: String { get }
}

/// Range, default and kind of one option of one method, schedule kind or estimator kind (the
/// `*_param_bounds` functions of the C header). Bounds are inclusive; a strictly positive option
/// has `minimum = Double.leastNormalMagnitude`. Integral options (step counts, choices, flags)
/// reject fractions and are exact in a Double (at most `maxIntegral`).
///
/// The three families are `ParameterSpec`, `ScheduleParameterSpec` and `EstimatorParameterSpec`;
/// each adds its own `validate` (how messages name the key, whether an infinite bound may be
/// taken) and its constructors. A key may have a different range or default in different
/// methods or kinds (gamma is 0.1 for StepLR and 0.96 for ExponentialLR).
public struct OptionSpec<Key: OptionKey>: Sendable, Equatable {
    /// Whether a value is set for the whole handle or may differ per parameter group (only tuner
    /// options are per group; schedule and estimator parameters are always `handle`).
    public enum Scope: Sendable, Equatable { case handle, group }

    /// The option this spec describes.
    public let key: Key
    /// Smallest accepted value (inclusive).
    public let minimum: Double
    /// Largest accepted value (inclusive).
    public let maximum: Double
    /// The value a new tuner, schedule or configuration starts with.
    public let defaultValue: Double
    /// Whether only integers are accepted (step counts, enum choices, flags).
    public let integral: Bool
    public let scope: Scope

    /// A spec with inclusive bounds [minimum, maximum].
    public init(
        _ key: Key, minimum: Double, maximum: Double, default defaultValue: Double,
        integral: Bool = false, scope: Scope = .handle
    ) {
        self.key = key
        self.minimum = minimum
        self.maximum = maximum
        self.defaultValue = defaultValue
        self.integral = integral
        self.scope = scope
    }

    /// Largest integer an integral option may take: 2⁵³, so every such value is exact in a
    /// Double.
    public static var maxIntegral: Double { 9_007_199_254_740_992 }

    /// Checks one value: finite (or, with `infiniteBounds`, equal to an infinite bound, and then
    /// NaN is called "not a number"), within [minimum, maximum], integral if required. Every
    /// message starts with `name`, which is formed only for a message (names come from the
    /// catalog by reflection, and `set` runs on every observation of some methods).
    func check(_ value: Double, name: @autoclosure () -> String, infiniteBounds: Bool = false) throws(HLRError) {
        if infiniteBounds && value.isNaN {
            throw .invalid("\(name()) must be a number, got nan")
        }
        guard value.isFinite || (infiniteBounds && (value == minimum || value == maximum)) else {
            throw .invalid("\(name()) must be finite, got \(value)")
        }
        guard value >= minimum && value <= maximum else {
            throw .invalid("\(name()) must be in [\(minimum), \(maximum)], got \(value)")
        }
        if integral && value.rounded(.towardZero) != value {
            throw .invalid("\(name()) must be an integer, got \(value)")
        }
    }
}
