/// Cosine annealing with warm restarts, SGDR (torch `CosineAnnealingWarmRestarts`):
///
///     η(t) = η_min + (base_lr − η_min)·(1 + cos(π·T_cur/T_i))/2
///
/// where cycle i (from 0) has length T_i = T_0·T_mult^i and T_cur = t − (start of the cycle
/// containing t); starts are 0, T_0, T_0 + T_0·T_mult, … (T_cur = t mod T_0 when T_mult = 1).
/// Integer cycle arithmetic is exact and never overflows: a cycle whose end would not fit in a
/// UInt64 simply contains every later step.
enum CosineWarmRestartsSchedule {
    static let specs: [ScheduleParameterSpec] = [
        .rate(.baseLR, default: 1e-3),
        .steps(.t0, minimum: 1, default: 10),
        .steps(.tMult, minimum: 1, default: 1),
        .rate(.etaMin, default: 0),
    ]

    static func value(_ p: ScheduleParameters, at step: UInt64) -> Double {
        let (current, length) = position(of: step, t0: max(p.steps(.t0), 1), tMult: max(p.steps(.tMult), 1))
        return CosineSchedule.annealed(p[.baseLR], p[.etaMin], Double(current), length)
    }

    /// (T_cur, T_i) of `step`. T_i is returned as a Double because the cycle containing a step
    /// near UInt64.max may be longer than any UInt64.
    static func position(of step: UInt64, t0: UInt64, tMult: UInt64) -> (UInt64, Double) {
        if tMult == 1 { return (step % t0, Double(t0)) }
        var current = step
        var length = t0
        while current >= length {
            current -= length
            let (next, overflow) = length.multipliedReportingOverflow(by: tMult)
            if overflow {
                // This cycle outlasts every UInt64 step, so it contains `step`.
                return (current, Double(length) * Double(tMult))
            }
            length = next
        }
        return (current, Double(length))
    }
}
