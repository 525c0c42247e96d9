/// Cyclical learning rates (torch `CyclicLR`, learning rate only: no momentum cycling, no
/// custom scale_fn). With up = step_size_up, down = step_size_down (−1 means up, torch's None),
/// L = up + down:
///
///     cycle = ⌊1 + t/L⌋,  x = 1 + t/L − cycle ∈ [0, 1)
///     s = x/(up/L) if x ≤ up/L, else (x − 1)/(up/L − 1)
///     η(t) = base_lr + (max_lr − base_lr)·s·scale
///     scale = 1 (triangular), 1/2^(cycle − 1) (triangular2), γ^t (exp_range)
///
/// Computed in torch's floating-point order, so values match torch bit for bit. Ranges:
/// step_size_up ≥ 1 (0 divides by zero in torch), step_size_down ≥ 0 or −1, γ ∈ [0, 1]
/// (only used by exp_range). Torch raises OverflowError in triangular2 after ~1024 cycles;
/// here the scale underflows to 0 and the rate is base_lr. max_lr < base_lr is allowed (an
/// inverted cycle), as in torch. Torch's CyclicLR overwrites the optimizer's lr with base_lr;
/// `base_lr` here is that argument.
enum CyclicSchedule {
    static let specs: [ScheduleParameterSpec] = [
        .rate(.baseLR, default: 1e-3),
        .rate(.maxLR, default: 1e-2),
        .steps(.stepSizeUp, minimum: 1, default: 2000),
        .steps(.stepSizeDown, minimum: -1, default: -1),
        .choice(.mode, count: CyclicMode.allCases.count, default: 0),
        ScheduleParameterSpec(.gamma, minimum: 0, maximum: 1, default: 1),
    ]

    static func value(_ p: ScheduleParameters, at step: UInt64) -> Double {
        let up = p[.stepSizeUp]
        let down = p[.stepSizeDown] < 0 ? up : p[.stepSizeDown]
        let total = up + down
        let ratio = up / total
        let t = Double(step)
        let cycle = (1 + t / total).rounded(.down)
        let x = 1.0 + t / total - cycle
        let shape = x <= ratio ? x / ratio : (x - 1) / (ratio - 1)
        let height = (p[.maxLR] - p[.baseLR]) * shape
        let scale: Double
        switch CyclicMode(rawValue: Int(p[.mode])) ?? .triangular {
        case .triangular: scale = 1
        case .triangular2: scale = 1 / ScheduleMath.power(2.0, cycle - 1)
        case .expRange: scale = ScheduleMath.power(p[.gamma], t)
        }
        return p[.baseLR] + height * scale
    }
}
