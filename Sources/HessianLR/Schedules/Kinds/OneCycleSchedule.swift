/// The 1cycle policy (torch `OneCycleLR`, learning rate only, no momentum):
///
///     initial = max_lr/div_factor,  min = initial/final_div_factor,  T = total_steps,
///     a = pct_start·T − 1
///     two phases:   [0, a]: initial → max_lr,   (a, T − 1]: max_lr → min
///     three phases: [0, a]: initial → max_lr,   (a, 2·pct_start·T − 2]: max_lr → initial,
///                   (2·pct_start·T − 2, T − 1]: initial → min
///
/// Within a phase [s, e] the fraction is p = (t − s)/(e − s) and the rate is
/// anneal(start, end, p) (`AnnealStrategy`). The phase endpoints are the same floating-point
/// numbers torch computes (a may be fractional or negative), so values match torch bit for bit
/// for t ≤ T − 1. Deviations: from t = T − 1 on the value of step T − 1 is held (torch
/// extrapolates once at t = T, giving a rate below `min` — negative with linear annealing — and
/// raises after); a first phase of zero length (pct_start·T = 1) gives p = 1, i.e. max_lr at
/// step 0 (torch divides by zero).
enum OneCycleSchedule {
    static let specs: [ScheduleParameterSpec] = [
        .rate(.maxLR, default: 0.01),
        .steps(.totalSteps, minimum: 1, default: 100),
        ScheduleParameterSpec(.pctStart, minimum: 0, maximum: 1, default: 0.3),
        .choice(.annealStrategy, count: AnnealStrategy.allCases.count, default: 0),
        .divisor(.divFactor, default: 25),
        .divisor(.finalDivFactor, default: 1e4),
        .choice(.threePhase, count: 2, default: 0),
    ]

    /// The derived rates initial = max_lr/div_factor and min = initial/final_div_factor must be
    /// rates too (≤ `ScheduleParameterSpec.maxRate`; a divisor below 1 raises them).
    static func check(_ p: ScheduleParameters) throws(HLRError) {
        let limit = ScheduleParameterSpec.maxRate
        let initial = p[.maxLR] / p[.divFactor]
        guard initial <= limit else {
            throw .invalid(
                "one_cycle: max_lr / div_factor = \(p[.maxLR]) / \(p[.divFactor]) = \(initial) "
                    + "exceeds \(limit)")
        }
        let minimum = initial / p[.finalDivFactor]
        guard minimum <= limit else {
            throw .invalid(
                "one_cycle: initial lr / final_div_factor = \(initial) / \(p[.finalDivFactor]) = "
                    + "\(minimum) exceeds \(limit)")
        }
    }

    static func value(_ p: ScheduleParameters, at step: UInt64) -> Double {
        let total = max(p.steps(.totalSteps), 1)
        let t = Double(min(step, total - 1))
        let maxLR = p[.maxLR]
        let initial = maxLR / p[.divFactor]
        let minimum = initial / p[.finalDivFactor]
        let pct = p[.pctStart]
        let last = Double(total - 1)
        let firstEnd = pct * Double(total) - 1
        let phases: [(end: Double, from: Double, to: Double)]
        if p[.threePhase] != 0 {
            phases = [
                (firstEnd, initial, maxLR),
                (2 * pct * Double(total) - 2, maxLR, initial),
                (last, initial, minimum),
            ]
        } else {
            phases = [(firstEnd, initial, maxLR), (last, maxLR, minimum)]
        }
        let strategy = AnnealStrategy(rawValue: Int(p[.annealStrategy])) ?? .cos
        var start = 0.0
        for (index, phase) in phases.enumerated() {
            if t <= phase.end || index == phases.count - 1 {
                let length = phase.end - start
                let fraction = length == 0 ? 1 : (t - start) / length
                return anneal(phase.from, phase.to, fraction, strategy)
            }
            start = phase.end
        }
        return minimum  // not reached: the last phase always answers
    }

    /// torch's `_annealing_cos` / `_annealing_linear`, same operation order.
    static func anneal(_ start: Double, _ end: Double, _ fraction: Double, _ strategy: AnnealStrategy) -> Double {
        switch strategy {
        case .cos: return end + (start - end) / 2.0 * (ScheduleMath.cos(Double.pi * fraction) + 1)
        case .linear: return (end - start) * fraction + start
        }
    }
}
