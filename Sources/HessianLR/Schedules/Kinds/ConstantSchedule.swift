/// Constant rate, optionally reduced at the start (torch `ConstantLR`):
///
///     η(t) = base_lr·factor   for t < total_iters
///     η(t) = base_lr          for t ≥ total_iters
///
/// Defaults (factor 1, total_iters 0) give the plain constant base_lr; torch's ConstantLR
/// defaults are factor 1/3, total_iters 5. Torch's stepped form with total_iters = 0 never
/// removes the factor (its `_get_closed_form_lr` does); this follows the closed form. Torch
/// raises ZeroDivisionError at t = total_iters for factor 0; here the rate is base_lr there.
enum ConstantSchedule {
    static let specs: [ScheduleParameterSpec] = [
        .rate(.baseLR, default: 1e-3),
        ScheduleParameterSpec(.factor, minimum: 0, maximum: 1, default: 1),
        .steps(.totalIters, minimum: 0, default: 0),
    ]

    static func value(_ p: ScheduleParameters, at step: UInt64) -> Double {
        step < p.steps(.totalIters) ? p[.baseLR] * p[.factor] : p[.baseLR]
    }
}
