extension Schedule {
    /// The learning rate of the update at 0-based optimizer step `step`, in the caller's
    /// learning-rate unit: an absolute rate, not a multiplier. Never traps; finite for every
    /// step. Matches `get_last_lr()` of the corresponding torch scheduler after `step` calls of
    /// `scheduler.step()` (see each kind for the exact formula and the documented deviations).
    public func value(at step: UInt64) -> Double {
        let p = parameters
        switch kind {
        case .constant: return ConstantSchedule.value(p, at: step)
        case .linear: return LinearSchedule.value(p, at: step)
        case .step: return StepSchedule.value(p, at: step)
        case .multiStep: return MultiStepSchedule.value(p, milestones: milestones, at: step)
        case .exponential: return ExponentialSchedule.value(p, at: step)
        case .polynomial: return PolynomialSchedule.value(p, at: step)
        case .cosine: return CosineSchedule.value(p, at: step)
        case .cosineWarmRestarts: return CosineWarmRestartsSchedule.value(p, at: step)
        case .oneCycle: return OneCycleSchedule.value(p, at: step)
        case .cyclic: return CyclicSchedule.value(p, at: step)
        case .warmupStableDecay: return WarmupStableDecaySchedule.value(p, at: step)
        case .hyperbolic: return HyperbolicSchedule.value(p, at: step, exponential: false)
        case .expHyperbolic: return HyperbolicSchedule.value(p, at: step, exponential: true)
        case .join: return JoinedSchedule.value(self, at: step)
        case .warmup: return WarmupWrapper.value(self, at: step)
        }
    }

    /// Rates of `count` consecutive steps from `start` (steps past UInt64.max repeat the value
    /// at UInt64.max), for filling a caller's buffer in one call.
    public func values(from start: UInt64, count: Int) -> [Double] {
        guard count > 0 else { return [] }
        return (0..<count).map { offset in
            let (step, overflow) = start.addingReportingOverflow(UInt64(offset))
            return value(at: overflow ? .max : step)
        }
    }

    /// The schedule's nominal rate: the largest rate it names, an upper bound of every value
    /// (up to rounding), so `factor(at:)` is in [0, 1]. For the usual settings it is the level
    /// the user thinks of:
    /// - base_lr for constant, linear, step, multi_step, exponential, polynomial (torch's
    ///   `initial_lr`, of which their rate is base_lr·λ(t)) and for the hyperbolic kinds (η₀);
    /// - max(base_lr, eta_min) for cosine and cosine_warm_restarts;
    /// - max(max_lr, initial, min) for one_cycle (initial = max_lr/div_factor,
    ///   min = initial/final_div_factor);
    /// - max(base_lr, max_lr) for cyclic; max(start_lr, base_lr, final_lr) for
    ///   warmup_stable_decay;
    /// - max(start_lr, the child's) for warmup, the largest piece's for join.
    public var nominalRate: Double {
        let p = parameters
        switch kind {
        case .cosine, .cosineWarmRestarts: return max(p[.baseLR], p[.etaMin])
        case .oneCycle:
            let initial = p[.maxLR] / p[.divFactor]
            return max(p[.maxLR], initial, initial / p[.finalDivFactor])
        case .cyclic: return max(p[.baseLR], p[.maxLR])
        case .warmupStableDecay: return max(p[.startLR], p[.baseLR], p[.finalLR])
        case .warmup: return max(p[.startLR], children.first?.nominalRate ?? 0)
        case .join: return children.map(\.nominalRate).max() ?? 0
        default: return p[.baseLR]
        }
    }

    /// The schedule's shape: `value(at: step) / nominalRate` clamped to [0, 1] (0 when the
    /// nominal rate is 0).
    /// This is the hook for a curvature rule that sets the level while the schedule sets the
    /// shape: lr(t) = η_rule(t)·factor(at: t) (torch's LambdaLR convention, lr = base·λ(t)).
    /// Unlike value(t)/value(0) it is defined for warmups that start at 0.
    public func factor(at step: UInt64) -> Double {
        let nominal = nominalRate
        guard nominal > 0 else { return 0 }
        // value ≤ nominal, but the quotient can round to 1 + ulp (found by the fuzzer): clamped,
        // so the promised range holds exactly.
        let ratio = value(at: step) / nominal
        return ratio >= 0 ? Swift.min(ratio, 1) : 0
    }
}
