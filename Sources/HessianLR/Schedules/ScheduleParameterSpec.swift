/// Range, default and kind of one parameter of one schedule kind (`hlr_schedule_param_bounds`).
/// Bounds are inclusive; integral parameters (step counts, enum choices) reject fractions and are
/// exact in a Double (at most 2⁵³).
///
/// This mirrors `ParameterSpec` (the tuner options) but is keyed by `ScheduleParameter`, and a
/// key may have a different range or default in different kinds (gamma is 0.1 for StepLR and
/// 0.96 for ExponentialLR).
public struct ScheduleParameterSpec: Sendable, Equatable {
    /// The parameter this spec describes.
    public let parameter: ScheduleParameter
    /// Smallest accepted value (inclusive).
    public let minimum: Double
    /// Largest accepted value (inclusive).
    public let maximum: Double
    /// The value a new schedule of the kind starts with.
    public let defaultValue: Double
    /// Whether only integers are accepted (step counts, enum choices).
    public let integral: Bool

    /// A spec with inclusive bounds [minimum, maximum].
    public init(
        _ parameter: ScheduleParameter, minimum: Double, maximum: Double,
        default defaultValue: Double, integral: Bool = false
    ) {
        self.parameter = parameter
        self.minimum = minimum
        self.maximum = maximum
        self.defaultValue = defaultValue
        self.integral = integral
    }

    /// Largest value of an integral parameter: 2⁵³, so every step count is exact in a Double.
    public static let maxIntegral: Double = 9_007_199_254_740_992

    /// Largest rate a schedule accepts. Far above any learning rate, and low enough that no
    /// intermediate of any formula (torch's operation order, e.g. (base − η_min)·(1 + cos)) can
    /// overflow, so every value is finite.
    public static let maxRate: Double = 1e300

    /// A rate in the caller's unit, in [0, maxRate].
    static func rate(_ parameter: ScheduleParameter, default value: Double) -> ScheduleParameterSpec {
        ScheduleParameterSpec(parameter, minimum: 0, maximum: maxRate, default: value)
    }

    /// A step count in [minimum, 2⁵³].
    static func steps(
        _ parameter: ScheduleParameter, minimum: Double, default value: Double
    ) -> ScheduleParameterSpec {
        ScheduleParameterSpec(
            parameter, minimum: minimum, maximum: maxIntegral, default: value, integral: true)
    }

    /// A strictly positive divisor.
    static func divisor(_ parameter: ScheduleParameter, default value: Double) -> ScheduleParameterSpec {
        ScheduleParameterSpec(
            parameter, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude, default: value)
    }

    /// An enum choice 0...count−1.
    static func choice(
        _ parameter: ScheduleParameter, count: Int, default value: Double
    ) -> ScheduleParameterSpec {
        ScheduleParameterSpec(
            parameter, minimum: 0, maximum: Double(count - 1), default: value, integral: true)
    }

    /// Checks one value; the message names the kind, the parameter and the value.
    public func validate(_ value: Double, kind: ScheduleKind) throws(HLRError) {
        let name = "\(kind.name): \(parameter.name)"
        guard value.isFinite else {
            throw .invalid("\(name) must be finite, got \(value)")
        }
        guard value >= minimum && value <= maximum else {
            throw .invalid("\(name) must be in [\(minimum), \(maximum)], got \(value)")
        }
        if integral && value.rounded(.towardZero) != value {
            throw .invalid("\(name) must be an integer, got \(value)")
        }
    }
}
