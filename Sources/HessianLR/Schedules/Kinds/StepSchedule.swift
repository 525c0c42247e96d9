/// Decay by γ every step_size steps (torch `StepLR`):
///
///     η(t) = base_lr·γ^⌊t / step_size⌋
///
/// γ ∈ [0, 1] (torch accepts any γ; γ > 1 would overflow for large t, and every value must be
/// finite for every step). step_size has no torch default; ours is 30.
enum StepSchedule {
    static let specs: [ScheduleParameterSpec] = [
        .rate(.baseLR, default: 1e-3),
        .steps(.stepSize, minimum: 1, default: 30),
        ScheduleParameterSpec(.gamma, minimum: 0, maximum: 1, default: 0.1),
    ]

    static func value(_ p: ScheduleParameters, at step: UInt64) -> Double {
        let size = max(p.steps(.stepSize), 1)
        return p[.baseLR] * ScheduleMath.power(p[.gamma], Double(step / size))
    }
}
