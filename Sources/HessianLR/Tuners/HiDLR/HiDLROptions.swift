/// The knobs of Hi-DLR (seed 001; Xu, Bu, Zhang, Barnett, "A Hessian-informed hyperparameter
/// optimization for differential learning rate", 2025). The rate safeguards are GeN's (the paper
/// builds on GeN); the paper publishes no code, so the probe design is the library's.
///
/// | key                | default | range          | source                                        |
/// |--------------------|---------|----------------|-----------------------------------------------|
/// | initial_lr (grp)   | 1e-3    | (0, max]       | library default                               |
/// | update_period Φ    | 10      | [1, 2⁵³]       | library choice: an update costs m ≈ 4K forward passes (GeN: 2), so lazier than GeN's 4; 10 as HessianLR |
/// | lr_bound_low       | 0.5     | (0, 1]         | GeN's clip(η, lr/2, 2·lr)                     |
/// | lr_bound_high      | 2.0     | [1, max]       | GeN's clip                                    |
/// | lr_min             | 1e-8    | [0, max]       | library clamp (seed 000)                      |
/// | lr_max             | +∞      | (0, +∞]        | none, as GeN's code; rates also obey min(lr_max, 1e150/probe_scale) so probe steps stay finite |
/// | smoothing β        | 0.9     | [0, 1)         | GeN's EMA                                     |
/// | probe_count m      | 0       | 0 or [p, 65536]| 0 = automatic max(4K, p + K) (seed: "about 4K"); p = unknowns of the model |
/// | probe_scale s      | 1.0     | (0, max]       | probes as large as GeN's ±lr                  |
/// | r2_threshold       | 0.99    | [0, 1)         | GeN                                           |
/// | fit_failure_decay  | 0.5     | (0, 1]         | GeN halves on a failed (rank-deficient) fit   |
/// | seed               | 0       | [0, 2⁵³]       | RNG seed (stream `perturbation`)              |
/// | model              | 0       | {0, 1}         | 0 diagonal (paper's default approximation), 1 full A (K ≤ 16) |
/// | eigen_floor        | 1e-3    | (0, 1]         | full A: eigenvalues raised to ≥ eigen_floor·λ_max (library choice) |
public struct HiDLROptions: SpecOrderedOptions, ProbeFitOptions {
    public static let method = Method.hidlr

    public var initialLR: [Double]
    public var updatePeriod: UInt64 = 10
    public var lrBoundLow: Double = 0.5
    public var lrBoundHigh: Double = 2.0
    public var lrMin: Double = 1e-8
    public var lrMax: Double = .infinity
    public var smoothing: Double = 0.9
    /// 0 = automatic.
    public var probeCount: Int = 0
    public var probeScale: Double = 1.0
    public var r2Threshold: Double = 0.99
    public var fitFailureDecay: Double = 0.5
    public var seed: UInt64 = 0
    public var model: QuadraticModel.Kind = .diagonal
    public var eigenFloor: Double = 1e-3

    public var groupCount: Int { initialLR.count }

    /// The ceiling every rate obeys: min(lr_max, 1e150 / probe_scale), so that probe steps stay
    /// finite when lr_max is +∞ (`probeRateCeiling`).
    public var rateCeiling: Double { probeRateCeiling(scale: probeScale, lrMax: lrMax) }

    /// Largest group count of the full-A model (K(K+1)/2 + K + 1 = 153 unknowns at K = 16).
    public static let maxFullModelGroups = 16

    public init(groups: Int) {
        initialLR = Array(repeating: Self.defaultValue(.initialLR), count: groups)
    }

    /// Unknowns p of the configured model.
    public var unknowns: Int { QuadraticModel.unknowns(kind: model, dimension: groupCount) }

    /// m: probe_count, or max(4K, p + K) when it is 0 (at least K residual degrees of freedom,
    /// so the R² gate means something).
    public var resolvedProbeCount: Int {
        probeCount > 0 ? probeCount : max(4 * groupCount, unknowns + groupCount)
    }

    public static let specs: [ParameterSpec] = [
        ParameterSpec(
            .initialLR, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude,
            default: 1e-3, scope: .group),
        ParameterSpec(
            .updatePeriod, minimum: 1, maximum: ParameterSpec.maxIntegral, default: 10, integral: true),
        ParameterSpec(.lrBoundLow, minimum: .leastNormalMagnitude, maximum: 1, default: 0.5),
        ParameterSpec(.lrBoundHigh, minimum: 1, maximum: .greatestFiniteMagnitude, default: 2.0),
        ParameterSpec(.lrMin, minimum: 0, maximum: .greatestFiniteMagnitude, default: 1e-8),
        ParameterSpec(
            .lrMax, minimum: .leastNormalMagnitude, maximum: .infinity, default: .infinity),
        ParameterSpec(.smoothing, minimum: 0, maximum: (1.0).nextDown, default: 0.9),
        ParameterSpec(
            .probeCount, minimum: 0, maximum: Double(GeNOptions.maxProbes), default: 0, integral: true),
        ParameterSpec(
            .probeScale, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude, default: 1.0),
        ParameterSpec(.r2Threshold, minimum: 0, maximum: (1.0).nextDown, default: 0.99),
        ParameterSpec(.fitFailureDecay, minimum: .leastNormalMagnitude, maximum: 1, default: 0.5),
        ParameterSpec(.seed, minimum: 0, maximum: ParameterSpec.maxIntegral, default: 0, integral: true),
        ParameterSpec(.model, minimum: 0, maximum: 1, default: 0, integral: true),
        ParameterSpec(.eigenFloor, minimum: .leastNormalMagnitude, maximum: 1, default: 1e-3),
    ]

    public func value(_ key: ParameterKey, group: Int) -> Double {
        switch key {
        case .initialLR: return initialLR[group]
        case .updatePeriod: return Double(updatePeriod)
        case .lrBoundLow: return lrBoundLow
        case .lrBoundHigh: return lrBoundHigh
        case .lrMin: return lrMin
        case .lrMax: return lrMax
        case .smoothing: return smoothing
        case .probeCount: return Double(probeCount)
        case .probeScale: return probeScale
        case .r2Threshold: return r2Threshold
        case .fitFailureDecay: return fitFailureDecay
        case .seed: return Double(seed)
        case .model: return Double(model.rawValue)
        case .eigenFloor: return eigenFloor
        default: return .nan
        }
    }

    public mutating func store(_ key: ParameterKey, _ value: Double, group: Int?) {
        switch key {
        case .initialLR: Self.assign(&initialLR, value, group)
        case .updatePeriod: updatePeriod = UInt64(value)
        case .lrBoundLow: lrBoundLow = value
        case .lrBoundHigh: lrBoundHigh = value
        case .lrMin: lrMin = value
        case .lrMax: lrMax = value
        case .smoothing: smoothing = value
        case .probeCount: probeCount = Int(value)
        case .probeScale: probeScale = value
        case .r2Threshold: r2Threshold = value
        case .fitFailureDecay: fitFailureDecay = value
        case .seed: seed = UInt64(value)
        case .model: model = value == 0 ? .diagonal : .full
        case .eigenFloor: eigenFloor = value
        default: break
        }
    }

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
