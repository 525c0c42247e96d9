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
public struct GeNOptions: SpecOrderedOptions, ProbeFitOptions {
    public static let method = Method.gen

    public var initialLR: [Double]
    public var updatePeriod: UInt64 = 4
    public var lrBoundLow: Double = 0.5
    public var lrBoundHigh: Double = 2.0
    public var lrMin: Double = 1e-8
    public var lrMax: Double = .infinity
    public var smoothing: Double = 0.9
    public var probeCount: Int = 3
    public var probeScale: Double = 1.0
    public var r2Threshold: Double = 0.99
    public var fitFailureDecay: Double = 0.5

    public var groupCount: Int { initialLR.count }

    /// The ceiling every rate obeys: min(lr_max, 1e150 / probe_scale), so that probe steps stay
    /// finite when lr_max is +∞ (`probeRateCeiling`).
    public var rateCeiling: Double { probeRateCeiling(scale: probeScale, lrMax: lrMax) }

    /// Largest probe count of GeN and Hi-DLR.
    public static let maxProbes = 65536

    public init(groups: Int) {
        initialLR = Array(repeating: Self.defaultValue(.initialLR), count: groups)
    }

    public static let specs: [ParameterSpec] = [
        ParameterSpec(
            .initialLR, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude,
            default: 1e-3, scope: .group),
        ParameterSpec(
            .updatePeriod, minimum: 1, maximum: ParameterSpec.maxIntegral, default: 4, integral: true),
        ParameterSpec(.lrBoundLow, minimum: .leastNormalMagnitude, maximum: 1, default: 0.5),
        ParameterSpec(.lrBoundHigh, minimum: 1, maximum: .greatestFiniteMagnitude, default: 2.0),
        ParameterSpec(.lrMin, minimum: 0, maximum: .greatestFiniteMagnitude, default: 1e-8),
        ParameterSpec(
            .lrMax, minimum: .leastNormalMagnitude, maximum: .infinity, default: .infinity),
        ParameterSpec(.smoothing, minimum: 0, maximum: (1.0).nextDown, default: 0.9),
        ParameterSpec(
            .probeCount, minimum: 3, maximum: Double(maxProbes), default: 3, integral: true),
        ParameterSpec(
            .probeScale, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude, default: 1.0),
        ParameterSpec(.r2Threshold, minimum: 0, maximum: (1.0).nextDown, default: 0.99),
        ParameterSpec(.fitFailureDecay, minimum: .leastNormalMagnitude, maximum: 1, default: 0.5),
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
        default: break
        }
    }

    public func checkConsistency() throws(HLRError) {
        try checkRateClamp(lrMin: lrMin, lrMax: lrMax)
        try checkProbeSteps(scale: probeScale, initialLR: initialLR, lrMin: lrMin)
    }
}
