/// Numeric keys of schedule parameters. Raw values are stable (they become `HLR_SCHED_PARAM_*`
/// in the C header) and are never reused; a key means the same quantity in every kind that has
/// it. Which kinds have which key, with ranges and defaults, is `ScheduleKind.parameterSpecs`.
///
/// Units: rates (`base_lr`, `eta_min`, `max_lr`, `start_lr`, `final_lr`, `infimum_lr`) are in
/// the caller's learning-rate unit; step counts are counts of 0-based optimizer steps.
public enum ScheduleParameter: Int, CatalogEnum {
    /// The schedule's base rate: torch's param-group `lr` (its `initial_lr`) for the
    /// multiplicative schedulers, the lower bound of CyclicLR, the peak of warmup-stable-decay,
    /// η₀ of the hyperbolic schedules.
    case baseLR = 1
    /// ConstantLR's factor: the rate is base_lr·factor before `total_iters`.
    case factor = 2
    /// Number of steps a ConstantLR / LinearLR / PolynomialLR phase lasts.
    case totalIters = 3
    /// LinearLR's multiplier at step 0.
    case startFactor = 4
    /// LinearLR's multiplier from step `total_iters` on.
    case endFactor = 5
    /// StepLR's period.
    case stepSize = 6
    /// Multiplicative decay (StepLR, MultiStepLR, ExponentialLR) or CyclicLR's exp_range base.
    case gamma = 7
    /// PolynomialLR's exponent.
    case power = 8
    /// CosineAnnealingLR's half period T_max.
    case tMax = 9
    /// Lowest rate of the cosine schedules.
    case etaMin = 10
    /// CosineAnnealingWarmRestarts' first period T_0.
    case t0 = 11
    /// CosineAnnealingWarmRestarts' period multiplier T_mult.
    case tMult = 12
    /// Peak rate of OneCycleLR and CyclicLR.
    case maxLR = 13
    /// OneCycleLR's cycle length.
    case totalSteps = 14
    /// OneCycleLR's fraction of the cycle spent increasing the rate.
    case pctStart = 15
    /// OneCycleLR's annealing: `AnnealStrategy` raw value (0 cos, 1 linear).
    case annealStrategy = 16
    /// OneCycleLR: initial rate = max_lr / div_factor.
    case divFactor = 17
    /// OneCycleLR: final rate = initial rate / final_div_factor.
    case finalDivFactor = 18
    /// OneCycleLR: 1 for the three-phase variant, 0 for two phases.
    case threePhase = 19
    /// CyclicLR: steps of the increasing half of a cycle.
    case stepSizeUp = 20
    /// CyclicLR: steps of the decreasing half; −1 means "equal to step_size_up" (torch's None).
    case stepSizeDown = 21
    /// CyclicLR: `CyclicMode` raw value (0 triangular, 1 triangular2, 2 exp_range).
    case mode = 22
    /// Linear-warmup length (warmup-stable-decay and the warmup wrapper).
    case warmupSteps = 23
    /// Warmup-stable-decay: steps held at the peak.
    case stableSteps = 24
    /// Warmup-stable-decay: steps of the decay to `final_lr`.
    case decaySteps = 25
    /// Rate at step 0 of a linear warmup.
    case startLR = 26
    /// Warmup-stable-decay: rate at the end of the decay and after it.
    case finalLR = 27
    /// Warmup-stable-decay: `DecayShape` raw value (0 linear, 1 cosine, 2 one_minus_sqrt).
    case decayShape = 28
    /// Hyperbolic schedules: N, the step at which the decay ends (held after).
    case maxIter = 29
    /// Hyperbolic schedules: U ≥ N, the upper bound on the max_iter values one would try.
    case upperBound = 30
    /// Hyperbolic schedules: η_inf, the infimum the curve approaches as N → U.
    case infimumLR = 31

    /// torch's spelling T_0 (`HLR_SCHED_PARAM_T_0`); every other name follows `CatalogEnum`.
    public var name: String { self == .t0 ? "t_0" : snakeCaseName }

    /// Parses a C key, naming the bad value on failure (`unknownKey`).
    public static func from(rawValue: Int) throws(HLRError) -> ScheduleParameter {
        guard let parameter = ScheduleParameter(rawValue: rawValue) else {
            throw HLRError(.unknownKey, "unknown schedule parameter \(rawValue)")
        }
        return parameter
    }
}
