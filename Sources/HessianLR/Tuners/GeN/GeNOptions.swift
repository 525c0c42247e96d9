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
/// Each option's default and range are written once, in `probeFitRows` (`ProbeFitFields.swift`,
/// shared with Hi-DLR) and `fields` below (`hlr_param_info` reports them); the table gives why.
public struct GeNOptions: TunerOptions, ProbeFitOptions {
    public static let method = Method.gen

    // Every field is in the shared structs (`fields` binds them by key path).
    public var rate = RateFields()
    public var probeFit = ProbeFitFields()

    /// Largest probe count of GeN and Hi-DLR.
    public static let maxProbes = 65536

    public init(storageFor groups: Int) {}

    public static let fields: [OptionField<Self>] = probeFitRows(
        updatePeriod: 4, probeCount: .count(.probeCount, \.probeFit.probeCount, minimum: 3, maximum: Double(maxProbes), default: 3))

    public func checkConsistency() throws(HLRError) {
        try checkProbeSteps()
    }
}
