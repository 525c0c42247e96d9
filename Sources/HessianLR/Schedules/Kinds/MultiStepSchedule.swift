/// Decay by γ at each milestone (torch `MultiStepLR`):
///
///     η(t) = base_lr·γ^k,  k = number of milestones m with m ≤ t
///
/// Milestones are 0-based steps, any order, repeats allowed and counted (torch keeps them in a
/// Counter and multiplies by γ^count); they are stored sorted. A milestone 0 applies at step 0
/// as in torch. γ ∈ [0, 1].
enum MultiStepSchedule {
    static let specs: [ScheduleParameterSpec] = [
        .rate(.baseLR, default: 1e-3),
        ScheduleParameterSpec(.gamma, minimum: 0, maximum: 1, default: 0.1),
    ]

    /// `milestones` sorted ascending.
    static func value(_ p: ScheduleParameters, milestones: [UInt64], at step: UInt64) -> Double {
        p[.baseLR] * ScheduleMath.power(p[.gamma], Double(countNotAfter(step, in: milestones)))
    }

    /// Number of elements ≤ step in a sorted array (bisect_right).
    static func countNotAfter(_ step: UInt64, in sorted: [UInt64]) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let mid = low + (high - low) / 2
            if sorted[mid] <= step { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
