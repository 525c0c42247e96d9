/// Cosine annealing without restarts (torch `CosineAnnealingLR`):
///
///     η(t) = η_min + (base_lr − η_min)·(1 + cos(π·t/T_max))/2   for every t ≥ 0
///
/// Torch's recursive update reproduces this closed form for every t, including past T_max,
/// where the rate climbs back to base_lr at 2·T_max (period 2·T_max); this is not clamped.
/// The angle is π·t/T_max in floating point exactly as torch computes it (not reduced modulo
/// 2π first), which keeps the values within ~1e-14 of torch's stepped ones; for astronomically
/// large t the angle loses precision, but the value stays within [min, max](η_min, base_lr).
enum CosineSchedule {
    static let specs: [ScheduleParameterSpec] = [
        .rate(.baseLR, default: 1e-3),
        .steps(.tMax, minimum: 1, default: 100),
        .rate(.etaMin, default: 0),
    ]

    static func value(_ p: ScheduleParameters, at step: UInt64) -> Double {
        annealed(p[.baseLR], p[.etaMin], Double(step), Double(p.steps(.tMax)))
    }

    /// η_min + (η_max − η_min)·(1 + cos(π·current/period))/2, in torch's operation order.
    static func annealed(_ high: Double, _ low: Double, _ current: Double, _ period: Double) -> Double {
        low + (high - low) * (1 + ScheduleMath.cos(Double.pi * current / period)) / 2
    }
}
