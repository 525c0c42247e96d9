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
/// Each option's default and range are written once, in `probeFitRows` (`ProbeFitFields.swift`,
/// GeN's safeguards) and `fields` below (`hlr_param_info` reports them); the table gives why.
public struct HiDLROptions: TunerOptions, ProbeFitOptions {
    public static let method = Method.hidlr

    // Placeholders: `init(groups:)` sets every field to its default from `fields`.
    public var rate = RateFields()
    /// probe_count 0 = automatic (`resolvedProbeCount`).
    public var probeFit = ProbeFitFields()
    public var seed: UInt64 = 0
    public var model = QuadraticModel.Kind.diagonal
    public var eigenFloor = 0.0

    /// Largest group count of the full-A model (K(K+1)/2 + K + 1 = 153 unknowns at K = 16).
    public static let maxFullModelGroups = 16

    public init(storageFor groups: Int) {}

    /// Unknowns p of the configured model.
    public var unknowns: Int { QuadraticModel.unknowns(kind: model, dimension: groupCount) }

    /// m: probe_count, or max(4K, p + K) when it is 0 (at least K residual degrees of freedom,
    /// so the R² gate means something).
    public var resolvedProbeCount: Int {
        probeFit.probeCount > 0 ? probeFit.probeCount : max(4 * groupCount, unknowns + groupCount)
    }

    public static let fields: [OptionField<Self>] =
        probeFitRows(
            updatePeriod: 10,
            probeCount: .count(.probeCount, \.probeFit.probeCount, minimum: 0, maximum: Double(GeNOptions.maxProbes), default: 0))
        + [
            .count(.seed, \.seed, minimum: 0, maximum: ParameterSpec.maxIntegral, default: 0),
            .choice(.model, \.model, default: .diagonal),
            .real(.eigenFloor, \.eigenFloor, minimum: .leastNormalMagnitude, maximum: 1, default: 1e-3),
        ]

    public func checkConsistency() throws(HLRError) {
        try checkProbeSteps()
        if model == .full && groupCount > Self.maxFullModelGroups {
            throw .invalid(
                "model full needs at most \(Self.maxFullModelGroups) groups, this tuner has \(groupCount)")
        }
        if probeFit.probeCount > 0 && probeFit.probeCount < unknowns {
            throw .invalid(
                "probe_count \(probeFit.probeCount) is below the \(unknowns) unknowns of the \(model) model "
                    + "over \(groupCount) groups")
        }
        if resolvedProbeCount > GeNOptions.maxProbes {
            throw .invalid("the automatic probe count \(resolvedProbeCount) exceeds \(GeNOptions.maxProbes)")
        }
    }
}
