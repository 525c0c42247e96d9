/// The knobs of `auto` (`AutoRule`). Every default is a value the rule's derivation fixes, not a
/// fit to a benchmark; the optimizer options are the trainer's (the torch driver copies them
/// from the optimizer's param groups).
///
/// | key | meaning / source |
/// |---|---|
/// | initial_lr (grp) | where the bracket search starts; any value within 4⁶ of the good rate is found in one step, any other in a few |
/// | update_period | the longest period between observations (the period adapts from 1: ×2 while the rate holds within 10%) |
/// | lr_min | floor (> 0: probe steps stay non-zero) |
/// | lr_max | ceiling (also min(lr_max, 1e140) so probes stay finite) |
/// | smoothing β | EMA of the slope and curvature estimates, as CDAT (seed 002) |
/// | sigma σ | rate = σ·(quadratic minimiser): 1 = greedy along the update |
/// | fit_failure_decay | rate factor when a probe at ±rate diverges: one bracket step (4²) down |
/// | optimizer | 0 torch SGD, 1 Adam / AdamW |
/// | momentum | SGD momentum β or Adam β₁ |
/// | dampening | SGD dampening τ |
/// | nesterov | SGD Nesterov |
/// | probe_previous | 1: the probes run along the previous update u_{t−1} (the torch driver's way; see `AutoRule`), 0: along the current one |
///
/// Each option's default and range are written once, in `fields` below (`hlr_param_info`
/// reports them); the table gives why.
public struct AutoOptions: TunerOptions {
    public static let method = Method.auto

    // Placeholders: `init(groups:)` sets every field to its default from `fields`.
    public var rate = RateFields()
    public var sigma = 0.0
    public var fitFailureDecay = 0.0
    public var optimizer = 0
    public var momentum = 0.0
    public var dampening = 0.0
    public var nesterov = false
    public var probePrevious = false

    /// The ceiling every rate obeys: min(lr_max, 1e140), so that the bracket's largest probe
    /// step (4⁶ times a rate) stays finite.
    public var rateCeiling: Double { min(rate.lrMax, Self.maxRate) }

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

    public init(storageFor groups: Int) {}

    public static let fields: [OptionField<Self>] = [
        .initialLR(\.initialLR),
        .updatePeriod(\.updatePeriod, default: 16),
        .real(.lrMin, \.lrMin, minimum: .leastNormalMagnitude, maximum: maxRate, default: 1e-12),
        .lrMax(\.lrMax, default: .infinity),
        .smoothing(\.smoothing, default: 0.9),
        .sigma(\.sigma, default: 1),
        .fitFailureDecay(\.fitFailureDecay, default: 0.0625),
        .count(.optimizer, \.optimizer, minimum: 0, maximum: 1, default: 0),
        .real(.momentum, \.momentum, minimum: 0, maximum: (1.0).nextDown, default: 0),
        .real(.dampening, \.dampening, minimum: 0, maximum: 1, default: 0),
        .flag(.nesterov, \.nesterov, default: false),
        .flag(.probePrevious, \.probePrevious, default: false),
    ]

    /// lr_min ≤ lr_max, and the optimizer coefficients valid together (`OptimizerDynamics`:
    /// Nesterov needs momentum > 0 and dampening 0).
    public func checkConsistency() throws(HLRError) {
        try rate.checkClamp()
        if optimizer == 0 {
            _ = try OptimizerDynamics(.sgd(momentum: momentum, dampening: dampening, nesterov: nesterov))
        } else if nesterov || dampening != 0 {
            throw .invalid("nesterov and dampening are SGD options; with optimizer 1 (Adam) they must be 0")
        }
    }
}
