/// Decay by γ every step (torch `ExponentialLR`):
///
///     η(t) = base_lr·γ^t
///
/// γ ∈ [0, 1]; torch has no default, ours is 0.96 (the value of the HyperbolicLR comparison
/// suite). Torch multiplies recursively; the closed form differs from it by rounding only
/// (a few ulps per thousand steps).
enum ExponentialSchedule {
    static let specs: [ScheduleParameterSpec] = [
        .rate(.baseLR, default: 1e-3),
        ScheduleParameterSpec(.gamma, minimum: 0, maximum: 1, default: 0.96),
    ]

    static func value(_ p: ScheduleParameters, at step: UInt64) -> Double {
        p[.baseLR] * ScheduleMath.power(p[.gamma], Double(step))
    }
}
