/// One row of a method's options table: the option's spec (key, range, default, integrality,
/// scope) bound to the field of the options struct `Options` that holds it, with the conversions
/// between the field's type and the Double of the key/value interface.
///
/// A method lists its rows in `TunerOptions.fields`; defaults (`init(groups:)`), `get`, `set`,
/// `hlr_param_bounds` and the spec-order snapshot coding all work from that one table, so a
/// default, a range or a field binding is written once. Build rows with the constructors below,
/// one per field type: `real` (Double), `perGroup` ([Double], one value per group), `count`
/// (an integer type), `choice` (an Int-backed enum), `flag` (Bool).
public struct OptionField<Options>: Sendable {
    /// Key, range, default, integrality and scope (what `hlr_param_bounds` reports).
    public let spec: ParameterSpec
    /// The field's value as a Double (of `group` for a per-group field).
    let read: @Sendable (Options, Int) -> Double
    /// Stores a value already validated against `spec`: into one group's slot of a per-group
    /// field, or (nil) into the whole field.
    let write: @Sendable (inout Options, Double, Int?) -> Void
    /// Sets the field to the spec's default for `groups` groups.
    let reset: @Sendable (inout Options, Int) -> Void

    private init(
        _ spec: ParameterSpec, read: @escaping @Sendable (Options, Int) -> Double,
        write: @escaping @Sendable (inout Options, Double, Int?) -> Void,
        reset: (@Sendable (inout Options, Int) -> Void)? = nil
    ) {
        self.spec = spec
        self.read = read
        self.write = write
        self.reset = reset ?? { options, _ in write(&options, spec.defaultValue, nil) }
    }

    /// A real option for the whole tuner, held in a Double field.
    public static func real(
        _ key: ParameterKey, _ field: WritableKeyPath<Options, Double> & Sendable,
        minimum: Double, maximum: Double, default value: Double
    ) -> Self {
        Self(
            ParameterSpec(key, minimum: minimum, maximum: maximum, default: value),
            read: { options, _ in options[keyPath: field] },
            write: { options, value, _ in options[keyPath: field] = value })
    }

    /// A real option with one value per group, held in a [Double] field of one element per
    /// group; set for one group or (no group) for all.
    public static func perGroup(
        _ key: ParameterKey, _ field: WritableKeyPath<Options, [Double]> & Sendable,
        minimum: Double, maximum: Double, default value: Double
    ) -> Self {
        Self(
            ParameterSpec(key, minimum: minimum, maximum: maximum, default: value, scope: .group),
            read: { options, group in options[keyPath: field][group] },
            write: { options, value, group in
                if let group {
                    options[keyPath: field][group] = value
                } else {
                    options[keyPath: field] = Array(repeating: value, count: options[keyPath: field].count)
                }
            },
            reset: { options, groups in options[keyPath: field] = Array(repeating: value, count: groups) })
    }

    /// An integral option (a count, a period, a seed) for the whole tuner, held in an integer
    /// field; `minimum`…`maximum` must be exact in both the field's type and a Double.
    public static func count<Integer: BinaryInteger & Sendable>(
        _ key: ParameterKey, _ field: WritableKeyPath<Options, Integer> & Sendable,
        minimum: Double, maximum: Double, default value: Double
    ) -> Self {
        Self(
            ParameterSpec(key, minimum: minimum, maximum: maximum, default: value, integral: true),
            read: { options, _ in Double(options[keyPath: field]) },
            write: { options, value, _ in options[keyPath: field] = Integer(value) })
    }

    /// A choice among the cases of an Int-backed enum (range: the smallest to the largest raw
    /// value, which must be contiguous), held in a field of that enum.
    public static func choice<Choice: RawRepresentable & CaseIterable & Sendable>(
        _ key: ParameterKey, _ field: WritableKeyPath<Options, Choice> & Sendable, default value: Choice
    ) -> Self where Choice.RawValue == Int {
        let raws = Choice.allCases.map(\.rawValue)
        return Self(
            ParameterSpec(
                key, minimum: Double(raws.min() ?? 0), maximum: Double(raws.max() ?? 0),
                default: Double(value.rawValue), integral: true),
            read: { options, _ in Double(options[keyPath: field].rawValue) },
            write: { options, raw, _ in options[keyPath: field] = Choice(rawValue: Int(raw)) ?? value })
    }

    /// A switch (0 off, 1 on) held in a Bool field.
    public static func flag(
        _ key: ParameterKey, _ field: WritableKeyPath<Options, Bool> & Sendable, default value: Bool
    ) -> Self {
        Self(
            ParameterSpec(key, minimum: 0, maximum: 1, default: value ? 1 : 0, integral: true),
            read: { options, _ in options[keyPath: field] ? 1 : 0 },
            write: { options, value, _ in options[keyPath: field] = value != 0 })
    }
}

/// The rows several methods share, each with its one range; the default stays the method's.
extension OptionField {
    /// initial_lr per group: η₀ in (0, max], default 1e-3 (the library's initial rate, seed 000).
    public static func initialLR(_ field: WritableKeyPath<Options, [Double]> & Sendable) -> Self {
        perGroup(.initialLR, field, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude, default: 1e-3)
    }

    /// update_period P in [1, 2⁵³].
    public static func updatePeriod(
        _ field: WritableKeyPath<Options, UInt64> & Sendable, default value: Double
    ) -> Self {
        count(.updatePeriod, field, minimum: 1, maximum: ParameterSpec.maxIntegral, default: value)
    }

    /// lr_bound_low in (0, 1]: the candidate is at least low·lr (`RateSafeguards`).
    public static func lrBoundLow(_ field: WritableKeyPath<Options, Double> & Sendable, default value: Double) -> Self {
        real(.lrBoundLow, field, minimum: .leastNormalMagnitude, maximum: 1, default: value)
    }

    /// lr_bound_high in [1, max]: the candidate is at most high·lr (`RateSafeguards`).
    public static func lrBoundHigh(_ field: WritableKeyPath<Options, Double> & Sendable, default value: Double) -> Self {
        real(.lrBoundHigh, field, minimum: 1, maximum: .greatestFiniteMagnitude, default: value)
    }

    /// lr_min in [0, max]: the absolute floor of every rate.
    public static func lrMin(_ field: WritableKeyPath<Options, Double> & Sendable, default value: Double) -> Self {
        real(.lrMin, field, minimum: 0, maximum: .greatestFiniteMagnitude, default: value)
    }

    /// lr_max in (0, +∞]: the absolute ceiling of every rate (+∞: none).
    public static func lrMax(_ field: WritableKeyPath<Options, Double> & Sendable, default value: Double) -> Self {
        real(.lrMax, field, minimum: .leastNormalMagnitude, maximum: .infinity, default: value)
    }

    /// smoothing β in [0, 1): the EMA's weight of the old value.
    public static func smoothing(_ field: WritableKeyPath<Options, Double> & Sendable, default value: Double) -> Self {
        real(.smoothing, field, minimum: 0, maximum: (1.0).nextDown, default: value)
    }

    /// sigma σ in (0, max]: the factor on the quadratic minimiser.
    public static func sigma(_ field: WritableKeyPath<Options, Double> & Sendable, default value: Double) -> Self {
        real(.sigma, field, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude, default: value)
    }

    /// probe_scale s in (0, max]: probes at ±s·lr.
    public static func probeScale(_ field: WritableKeyPath<Options, Double> & Sendable, default value: Double) -> Self {
        real(.probeScale, field, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude, default: value)
    }

    /// r2_threshold in [0, 1): a fit is accepted only above it.
    public static func r2Threshold(_ field: WritableKeyPath<Options, Double> & Sendable, default value: Double) -> Self {
        real(.r2Threshold, field, minimum: 0, maximum: (1.0).nextDown, default: value)
    }

    /// fit_failure_decay in (0, 1]: the rate factor after a failed fit or observation.
    public static func fitFailureDecay(
        _ field: WritableKeyPath<Options, Double> & Sendable, default value: Double
    ) -> Self {
        real(.fitFailureDecay, field, minimum: .leastNormalMagnitude, maximum: 1, default: value)
    }
}
