/// Linear warmup in front of a schedule. With W = warmup_steps, η_s = start_lr and c the child:
///
///     t < W:  η(t) = η_s + (c(0) − η_s)·t/W
///     t ≥ W:  η(t) = c(t − W)
///
/// so the ramp reaches c(0) exactly at t = W, where the child starts counting from 0. This is
/// torch's `SequentialLR([LinearLR(opt, start_factor=f, end_factor=1, total_iters=W), child],
/// milestones=[W])` with η_s = f·base_lr, optax's `join_schedules([linear_schedule(η_s, c(0),
/// W), c], [W])`, and the reference HyperbolicLR warmup with η_s = infimum_lr and the child's
/// max_iter = max_iter − W (except at step 0, where the reference runs at η₀: see
/// `HyperbolicSchedule`). W = 0 is the child itself.
enum WarmupWrapper {
    static let specs: [ScheduleParameterSpec] = [
        .steps(.warmupSteps, minimum: 0, default: 0),
        .rate(.startLR, default: 0),
    ]

    static func value(_ node: Schedule, at step: UInt64) -> Double {
        guard let child = node.children.first else { return 0 }
        let steps = node.parameters.steps(.warmupSteps)
        if step >= steps { return child.value(at: step - steps) }
        return ScheduleMath.interpolate(
            node.parameters[.startLR], child.value(at: 0), ScheduleMath.fraction(step, steps))
    }
}

extension Schedule {
    /// `child` preceded by a linear warmup of `steps` steps from `startValue` to
    /// `child.value(at: 0)` (see `WarmupWrapper`). `steps` ≤ 2⁵³, `startValue` a finite rate
    /// ≥ 0; the tree must stay within `maxDepth` and `maxNodes`.
    public static func warmup(_ child: Schedule, steps: UInt64, startValue: Double) throws(HLRError) -> Schedule {
        guard steps <= 1 << 53 else {
            throw .invalid("warmup: warmup_steps must be in [0, 2^53], got \(steps)")
        }
        var node = Schedule(node: .warmup)
        try node.set([.warmupSteps: Double(steps), .startLR: startValue])
        try node.attach([child], boundaries: [])
        return node
    }
}
