/// Warmup-stable-decay (WSD; MiniCPM, Hu et al. 2024; Hägele et al. 2024). With W, S, D the
/// warmup, stable and decay lengths, η_s = start_lr, η_p = base_lr (the peak), η_f = final_lr:
///
///     t < W:              η_s + (η_p − η_s)·t/W
///     W ≤ t < W + S:      η_p
///     W + S ≤ t < W+S+D:  decay(u), u = (t − W − S)/D ∈ [0, 1)  (`DecayShape`)
///     t ≥ W + S + D:      η_f
///
/// decay(0) = η_p and decay(u) → η_f as u → 1, so the curve is continuous up to the step at
/// which it reaches η_f. Zero-length phases are skipped. Defaults: 100 warmup steps from 0,
/// 800 stable, 100 linear decay steps to 0.
enum WarmupStableDecaySchedule {
    static let specs: [ScheduleParameterSpec] = [
        .rate(.baseLR, default: 1e-3),
        .steps(.warmupSteps, minimum: 0, default: 100),
        .steps(.stableSteps, minimum: 0, default: 800),
        .steps(.decaySteps, minimum: 0, default: 100),
        .rate(.startLR, default: 0),
        .rate(.finalLR, default: 0),
        .choice(.decayShape, count: DecayShape.allCases.count, default: 0),
    ]

    static func value(_ p: ScheduleParameters, at step: UInt64) -> Double {
        let warmup = p.steps(.warmupSteps)
        let stable = p.steps(.stableSteps)
        let decay = p.steps(.decaySteps)
        let peak = p[.baseLR]
        if step < warmup {
            return ScheduleMath.interpolate(p[.startLR], peak, ScheduleMath.fraction(step, warmup))
        }
        let afterWarmup = step - warmup
        if afterWarmup < stable { return peak }
        let intoDecay = afterWarmup - stable
        guard intoDecay < decay else { return p[.finalLR] }
        let final = p[.finalLR]
        let u = ScheduleMath.fraction(intoDecay, decay)
        switch DecayShape(rawValue: Int(p[.decayShape])) ?? .linear {
        case .linear: return ScheduleMath.interpolate(peak, final, u)
        case .cosine: return final + (peak - final) * (1 + ScheduleMath.cos(Double.pi * u)) / 2
        case .oneMinusSqrt: return final + (peak - final) * (1 - u.squareRoot())
        }
    }
}
