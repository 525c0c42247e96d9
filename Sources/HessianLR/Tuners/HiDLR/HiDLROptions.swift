/// The knobs of Hi-DLR (seed 001; Xu, Bu, Zhang, Barnett, "A Hessian-informed hyperparameter
/// optimization for differential learning rate", 2025). The rate safeguards are GeN's (the paper
/// builds on GeN); the paper publishes no code, so the probe design is the library's.
///
/// | key | source |
/// |---|---|
/// | initial_lr (grp) | library default |
/// | update_period Φ | library choice: an update costs m ≈ 4K forward passes (GeN: 2), so lazier than GeN's 4; 10 as HessianLR |
/// | lr_bound_low | GeN's clip(η, lr/2, 2·lr) |
/// | lr_bound_high | GeN's clip |
/// | lr_min | library clamp (seed 000) |
/// | lr_max | none, as GeN's code; rates also obey min(lr_max, 1e150/probe_scale) so probe steps stay finite |
/// | smoothing β | GeN's EMA |
/// | probe_count m | 0 = automatic max(4K, p + K) (seed: "about 4K"); p = unknowns of the model |
/// | probe_scale s | probes as large as GeN's ±lr |
/// | r2_threshold | GeN |
/// | fit_failure_decay | GeN halves on a failed (rank-deficient) fit |
/// | seed | RNG seed (stream `perturbation`) |
/// | model | 0 diagonal (paper's default approximation), 1 full A (K ≤ 16) |
/// | eigen_floor | full A: eigenvalues raised to ≥ eigen_floor·λ_max (library choice) |
///
/// Each option's default and range are written once, in `fields` below (`hlr_param_info`
/// reports them); the table gives why.
public struct HiDLROptions: TunerOptions, ProbeFitOptions {
    public static let method = Method.hidlr

    // Placeholders: `init(groups:)` sets every field to its default from `fields`.
    public var initialLR: [Double] = []
    public var updatePeriod: UInt64 = 0
    public var lrBoundLow = 0.0
    public var lrBoundHigh = 0.0
    public var lrMin = 0.0
    public var lrMax = 0.0
    public var smoothing = 0.0
    /// 0 = automatic.
    public var probeCount = 0
    public var probeScale = 0.0
    public var r2Threshold = 0.0
    public var fitFailureDecay = 0.0
    public var seed: UInt64 = 0
    public var model = QuadraticModel.Kind.diagonal
    public var eigenFloor = 0.0

    public var groupCount: Int { initialLR.count }

    /// The ceiling every rate obeys: min(lr_max, 1e150 / probe_scale), so that probe steps stay
    /// finite when lr_max is +∞ (`probeRateCeiling`).
    public var rateCeiling: Double { probeRateCeiling(scale: probeScale, lrMax: lrMax) }

    /// Largest group count of the full-A model (K(K+1)/2 + K + 1 = 153 unknowns at K = 16).
    public static let maxFullModelGroups = 16

    public init(storageFor groups: Int) {}

    /// Unknowns p of the configured model.
    public var unknowns: Int { QuadraticModel.unknowns(kind: model, dimension: groupCount) }

    /// m: probe_count, or max(4K, p + K) when it is 0 (at least K residual degrees of freedom,
    /// so the R² gate means something).
    public var resolvedProbeCount: Int {
        probeCount > 0 ? probeCount : max(4 * groupCount, unknowns + groupCount)
    }

    public static let fields: [OptionField<Self>] = [
        .initialLR(\.initialLR),
        .updatePeriod(\.updatePeriod, default: 10),
        .lrBoundLow(\.lrBoundLow, default: 0.5),
        .lrBoundHigh(\.lrBoundHigh, default: 2.0),
        .lrMin(\.lrMin, default: 1e-8),
        .lrMax(\.lrMax, default: .infinity),
        .smoothing(\.smoothing, default: 0.9),
        .count(.probeCount, \.probeCount, minimum: 0, maximum: Double(GeNOptions.maxProbes), default: 0),
        .probeScale(\.probeScale, default: 1.0),
        .r2Threshold(\.r2Threshold, default: 0.99),
        .fitFailureDecay(\.fitFailureDecay, default: 0.5),
        .count(.seed, \.seed, minimum: 0, maximum: ParameterSpec.maxIntegral, default: 0),
        .choice(.model, \.model, default: .diagonal),
        .real(.eigenFloor, \.eigenFloor, minimum: .leastNormalMagnitude, maximum: 1, default: 1e-3),
    ]

    public func checkConsistency() throws(HLRError) {
        try checkRateClamp(lrMin: lrMin, lrMax: lrMax)
        try checkProbeSteps(scale: probeScale, initialLR: initialLR, lrMin: lrMin)
        if model == .full && groupCount > Self.maxFullModelGroups {
            throw .invalid(
                "model full needs at most \(Self.maxFullModelGroups) groups, this tuner has \(groupCount)")
        }
        if probeCount > 0 && probeCount < unknowns {
            throw .invalid(
                "probe_count \(probeCount) is below the \(unknowns) unknowns of the \(model) model "
                    + "over \(groupCount) groups")
        }
        if resolvedProbeCount > GeNOptions.maxProbes {
            throw .invalid("the automatic probe count \(resolvedProbeCount) exceeds \(GeNOptions.maxProbes)")
        }
    }
}
