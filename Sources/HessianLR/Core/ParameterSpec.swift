/// Range, default, kind and scope of one tuner option (`hlr_param_bounds`).
public typealias ParameterSpec = OptionSpec<ParameterKey>

extension ParameterKey: OptionKey {}

extension OptionSpec where Key == ParameterKey {
    /// Checks one value against this spec; the message names the option and the value.
    public func validate(_ value: Double) throws(HLRError) {
        try check(value, name: key.name)
    }
}
