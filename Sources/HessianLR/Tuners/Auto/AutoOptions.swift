/// The knobs of `auto` (`AutoRule`). Every default is a value the rule's derivation fixes, not a
/// fit to a benchmark; the optimizer options are the trainer's (the torch driver copies them
/// from the optimizer's param groups).
///
/// | key                | default | range         | meaning / source                                        |
/// |--------------------|---------|---------------|---------------------------------------------------------|
/// | initial_lr (grp)   | 1e-3    | (0, max]      | where the bracket search starts; any value within 4⁶ of the good rate is found in one step, any other in a few |
/// | update_period      | 16      | [1, 2⁵³]      | the longest period between observations (the period adapts from 1: ×2 while the rate holds within 10%) |
/// | lr_min             | 1e-12   | (0, 1e140]    | floor (> 0: probe steps stay non-zero)                  |
/// | lr_max             | +∞      | (0, +∞]       | ceiling (also min(lr_max, 1e140) so probes stay finite) |
/// | smoothing β        | 0.9     | [0, 1)        | EMA of the slope and curvature estimates, as CDAT (seed 002) |
/// | sigma σ            | 1       | (0, max]      | rate = σ·(quadratic minimiser): 1 = greedy along the update |
/// | fit_failure_decay  | 1/16    | (0, 1]        | rate factor when a probe at ±rate diverges: one bracket step (4²) down |
/// | optimizer          | 0       | {0, 1}        | 0 torch SGD, 1 Adam / AdamW                             |
/// | momentum           | 0       | [0, 1)        | SGD momentum β or Adam β₁                               |
/// | dampening          | 0       | [0, 1]        | SGD dampening τ                                         |
/// | nesterov           | 0       | {0, 1}        | SGD Nesterov                                            |
/// | probe_previous     | 0       | {0, 1}        | 1: the probes run along the previous update u_{t−1} (the torch driver's way; see `AutoRule`), 0: along the current one |
public struct AutoOptions: SpecOrderedOptions {
    public static let method = Method.auto

    public var initialLR: [Double]
    public var updatePeriod: UInt64 = 16
    public var lrMin: Double = 1e-12
    public var lrMax: Double = .infinity
    public var smoothing: Double = 0.9
    public var sigma: Double = 1
    public var fitFailureDecay: Double = 0.0625
    public var optimizer: Int = 0
    public var momentum: Double = 0
    public var dampening: Double = 0
    public var nesterov: Bool = false
    public var probePrevious: Bool = false

    public var groupCount: Int { initialLR.count }

    /// The ceiling every rate obeys: min(lr_max, 1e140), so that the bracket's largest probe
    /// step (4⁶ times a rate) stays finite.
    public var rateCeiling: Double { min(lrMax, Self.maxRate) }

    /// The largest rate auto hands out (and lr_min's upper bound): 4⁶·1e140 probe steps stay
    /// far from overflow.
    public static let maxRate = 1e140

    /// The base optimizer's linear dynamics (`OptimizerDynamics`); valid by `checkConsistency`.
    public var dynamics: OptimizerDynamics {
        (try? OptimizerDynamics(
            optimizer == 1
                ? .adam(beta1: momentum) : .sgd(momentum: momentum, dampening: dampening, nesterov: nesterov)))
            ?? .gradientDescent
    }

    public init(groups: Int) {
        initialLR = Array(repeating: Self.defaultValue(.initialLR), count: groups)
    }

    public static let specs: [ParameterSpec] = [
        ParameterSpec(
            .initialLR, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude,
            default: 1e-3, scope: .group),
        ParameterSpec(
            .updatePeriod, minimum: 1, maximum: ParameterSpec.maxIntegral, default: 16, integral: true),
        ParameterSpec(.lrMin, minimum: .leastNormalMagnitude, maximum: maxRate, default: 1e-12),
        ParameterSpec(.lrMax, minimum: .leastNormalMagnitude, maximum: .infinity, default: .infinity),
        ParameterSpec(.smoothing, minimum: 0, maximum: (1.0).nextDown, default: 0.9),
        ParameterSpec(.sigma, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude, default: 1),
        ParameterSpec(.fitFailureDecay, minimum: .leastNormalMagnitude, maximum: 1, default: 0.0625),
        ParameterSpec(.optimizer, minimum: 0, maximum: 1, default: 0, integral: true),
        ParameterSpec(.momentum, minimum: 0, maximum: (1.0).nextDown, default: 0),
        ParameterSpec(.dampening, minimum: 0, maximum: 1, default: 0),
        ParameterSpec(.nesterov, minimum: 0, maximum: 1, default: 0, integral: true),
        ParameterSpec(.probePrevious, minimum: 0, maximum: 1, default: 0, integral: true),
    ]

    public func value(_ key: ParameterKey, group: Int) -> Double {
        switch key {
        case .initialLR: return initialLR[group]
        case .updatePeriod: return Double(updatePeriod)
        case .lrMin: return lrMin
        case .lrMax: return lrMax
        case .smoothing: return smoothing
        case .sigma: return sigma
        case .fitFailureDecay: return fitFailureDecay
        case .optimizer: return Double(optimizer)
        case .momentum: return momentum
        case .dampening: return dampening
        case .nesterov: return nesterov ? 1 : 0
        case .probePrevious: return probePrevious ? 1 : 0
        default: return .nan
        }
    }

    public mutating func store(_ key: ParameterKey, _ value: Double, group: Int?) {
        switch key {
        case .initialLR: Self.assign(&initialLR, value, group)
        case .updatePeriod: updatePeriod = UInt64(value)
        case .lrMin: lrMin = value
        case .lrMax: lrMax = value
        case .smoothing: smoothing = value
        case .sigma: sigma = value
        case .fitFailureDecay: fitFailureDecay = value
        case .optimizer: optimizer = Int(value)
        case .momentum: momentum = value
        case .dampening: dampening = value
        case .nesterov: nesterov = value != 0
        case .probePrevious: probePrevious = value != 0
        default: break
        }
    }

    /// lr_min ≤ lr_max, and the optimizer coefficients valid together (`OptimizerDynamics`:
    /// Nesterov needs momentum > 0 and dampening 0).
    public func checkConsistency() throws(HLRError) {
        try checkRateClamp(lrMin: lrMin, lrMax: lrMax)
        if optimizer == 0 {
            _ = try OptimizerDynamics(.sgd(momentum: momentum, dampening: dampening, nesterov: nesterov))
        } else if nesterov || dampening != 0 {
            throw .invalid("nesterov and dampening are SGD options; with optimizer 1 (Adam) they must be 0")
        }
    }
}
