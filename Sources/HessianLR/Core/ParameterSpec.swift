/// Range, default and kind of one option of one method. Bounds are inclusive; a strictly
/// positive option has `minimum = Double.leastNormalMagnitude`.
public struct ParameterSpec: Sendable, Equatable {
    /// Whether a value is set for the whole handle or may differ per parameter group.
    public enum Scope: Sendable, Equatable { case handle, group }

    public let key: ParameterKey
    public let minimum: Double
    public let maximum: Double
    public let defaultValue: Double
    /// Integer-valued options (step counts, enums) reject fractional values.
    public let integral: Bool
    public let scope: Scope

    public init(
        _ key: ParameterKey, minimum: Double, maximum: Double, default defaultValue: Double,
        integral: Bool = false, scope: Scope = .handle
    ) {
        self.key = key
        self.minimum = minimum
        self.maximum = maximum
        self.defaultValue = defaultValue
        self.integral = integral
        self.scope = scope
    }

    /// Largest integer an integral option may take: every such value is exact in a Double.
    public static let maxIntegral: Double = 9_007_199_254_740_992  // 2⁵³

    /// Checks one value against this spec; the message names the option and the value.
    public func validate(_ value: Double) throws(HLRError) {
        guard value.isFinite else {
            throw .invalid("\(key.name) must be finite, got \(value)")
        }
        guard value >= minimum && value <= maximum else {
            throw .invalid(
                "\(key.name) must be in [\(minimum), \(maximum)], got \(value)")
        }
        if integral && value.rounded(.towardZero) != value {
            throw .invalid("\(key.name) must be an integer, got \(value)")
        }
    }
}
