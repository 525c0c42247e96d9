/// The knobs of GeN (seed 001; Bu & Xu, "Gradient descent with generalized Newton's method",
/// ICLR 2025; reference code ShiyunXu/AutoGeN, PyPI `gen-optim`, function `lr_parabola`).
///
/// | key | source |
/// |---|---|
/// | initial_lr (grp) | library default (GeN starts from the optimizer's lr) |
/// | update_period | GeN README: "lazy_freq >= 4 for efficiency"; the smallest recommended value, 2 extra forward passes per 4 steps |
/// | lr_bound_low | GeN: clip(b/a, lr/2, 2·lr) |
/// | lr_bound_high | GeN: clip(b/a, lr/2, 2·lr) |
/// | lr_min | library clamp (seed 000); GeN has none, a floor keeps repeated halving from reaching 0 |
/// | lr_max | none, as GeN's code (its rate is unbounded); rates also obey min(lr_max, 1e150/probe_scale) so probe steps stay finite |
/// | smoothing β | GeN: smooth = 0.9 |
/// | probe_count m | GeN: lr_factor = [−1, 0, 1] |
/// | probe_scale s | GeN: probes at ±1·lr |
/// | r2_threshold | GeN: accept only if R² > 0.99 |
/// | fit_failure_decay | GeN: a failed (rank-deficient) fit halves the lr |
///
/// Each option's default and range are written once, in `fields` below (`hlr_param_info`
/// reports them); the table gives why.
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
