/// Range, default and kind of one parameter of one estimator kind
/// (`hlr_estimator_param_bounds`). Bounds are inclusive. Values must be numbers; they must also be
/// finite unless a bound is itself infinite and the value equals it (symmetry_tolerance = +∞
/// disables the check; grid_lower = −∞ and grid_upper = +∞ mean automatic). Integral parameters
/// (counts, choices, flags) reject fractions and are exact in a Double.
///
/// A key may have a different range or default in different kinds (tolerance is 1e-10 for
/// Lanczos and 1e-3 for power iteration); the default is the estimator's own.
public typealias EstimatorParameterSpec = OptionSpec<EstimatorParameter>

extension EstimatorParameter: OptionKey {}

extension OptionSpec where Key == EstimatorParameter {
    /// The parameter this spec describes.
    public var parameter: EstimatorParameter { key }

    /// Largest count of vectors a parameter may ask the backend to hold at once (k, Krylov
    /// dimension, sketch columns, SLQ steps), and largest SLQ run count: 2¹⁶.
    public static var maxVectors: Int { 65_536 }
    /// Largest count of HVPs or probes (samples, iterations, matvecs): 2³¹.
    public static var maxCount: Int { 2_147_483_648 }
    /// Largest thread count of host runs.
    public static var maxThreads: Int { 256 }

    static func count(
        _ parameter: EstimatorParameter, minimum: Int, maximum: Int, default value: Int
    ) -> EstimatorParameterSpec {
        EstimatorParameterSpec(
            parameter, minimum: Double(minimum), maximum: Double(maximum), default: Double(value),
            integral: true)
    }

    static func choice<C: RawRepresentable & CaseIterable>(
        _ parameter: EstimatorParameter, _: C.Type, default value: Int
    ) -> EstimatorParameterSpec where C.RawValue == Int {
        let raws = C.allCases.map(\.rawValue)
        return count(parameter, minimum: raws.min() ?? 0, maximum: raws.max() ?? 0, default: value)
    }

    static func flag(_ parameter: EstimatorParameter, default value: Bool) -> EstimatorParameterSpec {
        count(parameter, minimum: 0, maximum: 1, default: value ? 1 : 0)
    }

    /// Checks one value; the message names the kind, the parameter and the value.
    public func validate(_ value: Double, kind: EstimatorKind) throws(HLRError) {
        try check(value, name: "\(kind.name): \(parameter.name)", infiniteBounds: true)
    }
}
