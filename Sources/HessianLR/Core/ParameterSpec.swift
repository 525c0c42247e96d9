/// Range, default, kind and scope of one tuner option (`hlr_param_bounds`).
public typealias ParameterSpec = OptionSpec<ParameterKey>

extension ParameterKey: OptionKey {}

extension OptionSpec where Key == ParameterKey {
    /// Checks one value against this spec; the message names the option and the value. An
    /// infinite value is accepted only where it is the spec's bound (lr_max = +∞: no ceiling).
    public func validate(_ value: Double) throws(HLRError) {
        try check(value, name: key.name, infiniteBounds: true)
    }
}
