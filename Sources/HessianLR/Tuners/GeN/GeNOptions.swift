/// The knobs of GeN (seed 001; Bu & Xu, "Gradient descent with generalized Newton's method",
/// ICLR 2025; reference code ShiyunXu/AutoGeN, PyPI `gen-optim`, function `lr_parabola`).
///
/// | key                | default | range        | source                                          |
/// |--------------------|---------|--------------|-------------------------------------------------|
/// | initial_lr (grp)   | 1e-3    | (0, max]     | library default (GeN starts from the optimizer's lr) |
/// | update_period      | 4       | [1, 2⁵³]     | GeN README: "lazy_freq >= 4 for efficiency"; the smallest recommended value, 2 extra forward passes per 4 steps |
/// | lr_bound_low       | 0.5     | (0, 1]       | GeN: clip(b/a, lr/2, 2·lr)                     |
/// | lr_bound_high      | 2.0     | [1, max]     | GeN: clip(b/a, lr/2, 2·lr)                     |
/// | lr_min             | 1e-8    | [0, max]     | library clamp (seed 000); GeN has none, a floor keeps repeated halving from reaching 0 |
/// | lr_max             | +∞      | (0, +∞]      | none, as GeN's code (its rate is unbounded); rates also obey min(lr_max, 1e150/probe_scale) so probe steps stay finite |
/// | smoothing β        | 0.9     | [0, 1)       | GeN: smooth = 0.9                              |
/// | probe_count m      | 3       | [3, 65536]   | GeN: lr_factor = [−1, 0, 1]                    |
/// | probe_scale s      | 1.0     | (0, max]     | GeN: probes at ±1·lr                           |
/// | r2_threshold       | 0.99    | [0, 1)       | GeN: accept only if R² > 0.99                  |
/// | fit_failure_decay  | 0.5     | (0, 1]       | GeN: a failed (rank-deficient) fit halves the lr |
public struct GeNOptions: TunerOptions, ProbeFitOptions {
    public static let method = Method.gen

    // Placeholders: `init(groups:)` sets every field to its default from `fields`.
    public var initialLR: [Double] = []
    public var updatePeriod: UInt64 = 0
    public var lrBoundLow = 0.0
    public var lrBoundHigh = 0.0
    public var lrMin = 0.0
    public var lrMax = 0.0
    public var smoothing = 0.0
    public var probeCount = 0
    public var probeScale = 0.0
    public var r2Threshold = 0.0
    public var fitFailureDecay = 0.0

    public var groupCount: Int { initialLR.count }

    /// The ceiling every rate obeys: min(lr_max, 1e150 / probe_scale), so that probe steps stay
    /// finite when lr_max is +∞ (`probeRateCeiling`).
    public var rateCeiling: Double { probeRateCeiling(scale: probeScale, lrMax: lrMax) }

    /// Largest probe count of GeN and Hi-DLR.
    public static let maxProbes = 65536

    public init(storageFor groups: Int) {}

    public static let fields: [OptionField<Self>] = [
        .initialLR(\.initialLR),
        .updatePeriod(\.updatePeriod, default: 4),
        .lrBoundLow(\.lrBoundLow, default: 0.5),
        .lrBoundHigh(\.lrBoundHigh, default: 2.0),
        .lrMin(\.lrMin, default: 1e-8),
        .lrMax(\.lrMax, default: .infinity),
        .smoothing(\.smoothing, default: 0.9),
        .count(.probeCount, \.probeCount, minimum: 3, maximum: Double(maxProbes), default: 3),
        .probeScale(\.probeScale, default: 1.0),
        .r2Threshold(\.r2Threshold, default: 0.99),
        .fitFailureDecay(\.fitFailureDecay, default: 0.5),
    ]

    public func checkConsistency() throws(HLRError) {
        try checkRateClamp(lrMin: lrMin, lrMax: lrMax)
        try checkProbeSteps(scale: probeScale, initialLR: initialLR, lrMin: lrMin)
    }
}
