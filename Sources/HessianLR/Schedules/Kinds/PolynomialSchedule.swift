/// Polynomial decay to zero over total_iters steps, then zero (torch `PolynomialLR`):
///
///     η(t) = base_lr·(1 − min(t, T)/T)^power
///
/// T ≥ 1, power ≥ 0 (a negative power would be infinite at t = T; 0⁰ = 1 as in Python).
enum PolynomialSchedule {
    static let specs: [ScheduleParameterSpec] = [
        .rate(.baseLR, default: 1e-3),
        .steps(.totalIters, minimum: 1, default: 5),
        ScheduleParameterSpec(.power, minimum: 0, maximum: .greatestFiniteMagnitude, default: 1),
    ]

    static func value(_ p: ScheduleParameters, at step: UInt64) -> Double {
        let total = p.steps(.totalIters)
        let remaining = 1.0 - Double(min(step, total)) / Double(total)
        return p[.baseLR] * ScheduleMath.power(remaining, p[.power])
    }
}
