/// Range, default and kind of one parameter of one schedule kind (`hlr_schedule_param_bounds`).
/// A key may have a different range or default in different kinds (gamma is 0.1 for StepLR and
/// 0.96 for ExponentialLR).
public typealias ScheduleParameterSpec = OptionSpec<ScheduleParameter>

extension ScheduleParameter: OptionKey {}

extension OptionSpec where Key == ScheduleParameter {
    /// The parameter this spec describes.
    public var parameter: ScheduleParameter { key }

    /// Largest rate a schedule accepts. Far above any learning rate, and low enough that no
    /// intermediate of any formula (torch's operation order, e.g. (base − η_min)·(1 + cos)) can
    /// overflow, so every value is finite.
    public static var maxRate: Double { 1e300 }

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
        try check(value, name: "\(kind.name): \(parameter.name)")
    }
}
