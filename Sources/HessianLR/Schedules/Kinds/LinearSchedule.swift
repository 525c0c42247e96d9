/// Linear change of a multiplier over total_iters steps, then held (torch `LinearLR`):
///
///     η(t) = base_lr·(s + (e − s)·min(t, T)/T),  s = start_factor, e = end_factor, T = total_iters
///
/// Ranges as torch: s ∈ (0, 1], e ∈ [0, 1]; T ≥ 1 (torch accepts 0 and then divides by zero in
/// its closed form).
///
/// The multiplier is evaluated exactly as torch's closed form (`_get_closed_form_lr`) writes it,
/// then clamped to [min(s, e), max(s, e)], the range the exact line stays in. The clamp changes
/// only results that rounding pushed out of that range: with s = 0.9313166610544982, e = 0,
/// T = 5 the unclamped form gives s + (−s·5)/5 = −1.1e−16 at t ≥ T (torch's closed form too; its
/// recursive form gives +6.2e−20), and a negative rate must never be handed out. The clamped
/// value is then e (0) exactly. Every other value is bit-identical to torch's closed form.
enum LinearSchedule {
    static let specs: [ScheduleParameterSpec] = [
        .rate(.baseLR, default: 1e-3),
        ScheduleParameterSpec(.startFactor, minimum: .leastNonzeroMagnitude, maximum: 1, default: 1.0 / 3),
        ScheduleParameterSpec(.endFactor, minimum: 0, maximum: 1, default: 1),
        .steps(.totalIters, minimum: 1, default: 5),
    ]

    static func value(_ p: ScheduleParameters, at step: UInt64) -> Double {
        p[.baseLR] * factor(p, at: step)
    }

    /// s + (e − s)·min(t, T)/T in torch's order of operations, clamped to [min(s, e), max(s, e)]
    /// (so ≥ 0 and ≤ 1 whatever the rounding).
    static func factor(_ p: ScheduleParameters, at step: UInt64) -> Double {
        let total = p.steps(.totalIters)
        let start = p[.startFactor]
        let end = p[.endFactor]
        let done = Double(min(step, total))
        let raw = start + (end - start) * done / Double(total)
        return min(max(raw, min(start, end)), max(start, end))
    }
}
