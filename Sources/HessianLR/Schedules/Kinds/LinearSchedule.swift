/// Linear change of a multiplier over total_iters steps, then held (torch `LinearLR`):
///
///     η(t) = base_lr·(s + (e − s)·min(t, T)/T),  s = start_factor, e = end_factor, T = total_iters
///
/// Ranges as torch: s ∈ (0, 1], e ∈ [0, 1]; T ≥ 1 (torch accepts 0 and then divides by zero in
/// its closed form).
enum LinearSchedule {
    static let specs: [ScheduleParameterSpec] = [
        .rate(.baseLR, default: 1e-3),
        ScheduleParameterSpec(.startFactor, minimum: .leastNonzeroMagnitude, maximum: 1, default: 1.0 / 3),
        ScheduleParameterSpec(.endFactor, minimum: 0, maximum: 1, default: 1),
        .steps(.totalIters, minimum: 1, default: 5),
    ]

    static func value(_ p: ScheduleParameters, at step: UInt64) -> Double {
        let total = p.steps(.totalIters)
        let start = p[.startFactor]
        let end = p[.endFactor]
        let done = Double(min(step, total))
        return p[.baseLR] * (start + (end - start) * done / Double(total))
    }
}
