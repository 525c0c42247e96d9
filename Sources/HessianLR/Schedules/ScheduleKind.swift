/// The kinds of schedule. Raw values are stable (`HLR_SCHED_*` in the C header) and never
/// reused. Every kind except `join` and `warmup` is a leaf created with `Schedule(_:)` and
/// configured by `ScheduleParameter` keys; `join` and `warmup` combine existing schedules
/// (`Schedule.join`, `Schedule.warmup`).
///
/// Steps are 0-based optimizer steps: `value(at: t)` is the rate of the t-th update, i.e. what
/// torch's scheduler reports through `get_last_lr()` after `t` calls of `scheduler.step()`.
public enum ScheduleKind: Int, CatalogEnum {
    /// base_lr·factor for t < total_iters, base_lr after (torch ConstantLR; defaults make it a
    /// plain constant base_lr).
    case constant = 1
    /// base_lr·(s + (e − s)·min(t, T)/T) (torch LinearLR).
    case linear = 2
    /// base_lr·γ^⌊t / step_size⌋ (torch StepLR).
    case step = 3
    /// base_lr·γ^(number of milestones ≤ t), repeats counted (torch MultiStepLR).
    case multiStep = 4
    /// base_lr·γ^t (torch ExponentialLR).
    case exponential = 5
    /// base_lr·(1 − min(t, T)/T)^power (torch PolynomialLR).
    case polynomial = 6
    /// η_min + (base_lr − η_min)·(1 + cos(π·t/T_max))/2 for every t (torch CosineAnnealingLR,
    /// which keeps oscillating with period 2·T_max).
    case cosine = 7
    /// Cosine annealing restarted after T_0, T_0·T_mult, T_0·T_mult², … steps (torch
    /// CosineAnnealingWarmRestarts).
    case cosineWarmRestarts = 8
    /// The 1cycle policy (torch OneCycleLR), holding its last value from total_steps − 1 on.
    case oneCycle = 9
    /// Cyclical learning rates between base_lr and max_lr (torch CyclicLR, rate only).
    case cyclic = 10
    /// Linear warmup, constant peak, decay to final_lr, then final_lr.
    case warmupStableDecay = 11
    /// HyperbolicLR (Kim 2024): η₀ + (η₀ − η_inf)·(h(x) − h(0)).
    case hyperbolic = 12
    /// ExpHyperbolicLR (Kim 2024): η₀·(η₀/η_inf)^(h(x) − h(0)).
    case expHyperbolic = 13
    /// Pieces joined at step boundaries; each piece counts steps from its own boundary (optax
    /// `join_schedules`).
    case join = 14
    /// Linear warmup from start_lr to the child's value at 0 over warmup_steps, then the child
    /// counted from warmup_steps.
    case warmup = 15

    /// True for the kinds built from other schedules (`join`, `warmup`).
    public var isComposite: Bool { self == .join || self == .warmup }

    /// Ranges and defaults of every parameter this kind has, in a fixed order.
    public var parameterSpecs: [ScheduleParameterSpec] {
        switch self {
        case .constant: return ConstantSchedule.specs
        case .linear: return LinearSchedule.specs
        case .step: return StepSchedule.specs
        case .multiStep: return MultiStepSchedule.specs
        case .exponential: return ExponentialSchedule.specs
        case .polynomial: return PolynomialSchedule.specs
        case .cosine: return CosineSchedule.specs
        case .cosineWarmRestarts: return CosineWarmRestartsSchedule.specs
        case .oneCycle: return OneCycleSchedule.specs
        case .cyclic: return CyclicSchedule.specs
        case .warmupStableDecay: return WarmupStableDecaySchedule.specs
        case .hyperbolic: return HyperbolicSchedule.specs
        case .expHyperbolic: return HyperbolicSchedule.expSpecs
        case .join: return []
        case .warmup: return WarmupWrapper.specs
        }
    }

    /// The spec of one parameter, or `unknownKey` naming the parameter and the kind.
    public func spec(for parameter: ScheduleParameter) throws(HLRError) -> ScheduleParameterSpec {
        guard let spec = parameterSpecs.first(where: { $0.parameter == parameter }) else {
            throw HLRError(.unknownKey, "schedule kind \(name) has no parameter \(parameter.name)")
        }
        return spec
    }

    /// Parses a C kind id, naming the bad value on failure (`unknownMethod`).
    public static func from(rawValue: Int) throws(HLRError) -> ScheduleKind {
        guard let kind = ScheduleKind(rawValue: rawValue) else {
            throw HLRError(.unknownMethod, "unknown schedule kind \(rawValue)")
        }
        return kind
    }

    /// Constraints between parameters of one kind (single values are checked by their spec).
    func checkConsistency(_ parameters: ScheduleParameters) throws(HLRError) {
        switch self {
        case .oneCycle: try OneCycleSchedule.check(parameters)
        case .hyperbolic, .expHyperbolic: try HyperbolicSchedule.check(parameters, kind: self)
        default: return
        }
    }
}
