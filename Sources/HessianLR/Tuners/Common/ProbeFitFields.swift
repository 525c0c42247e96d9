/// The option fields GeN and Hi-DLR share beyond `RateFields`: the bound on the change per
/// update, the probe design, the fit's acceptance gate and the failure factor. Their ranges are
/// the shared rows of `OptionField`; each method's table gives their defaults.
///
/// Placeholders: `TunerOptions.init(groups:)` sets every field to its default from the
/// method's table.
public struct ProbeFitFields: Sendable, Equatable {
    /// lr_bounds = (low, high): the fitted rate is clipped to [low·lr, high·lr].
    public var lrBoundLow = 0.0
    public var lrBoundHigh = 0.0
    /// m, the probes per update (Hi-DLR: 0 = automatic).
    public var probeCount = 0
    /// s: probes at ±s·lr.
    public var probeScale = 0.0
    /// A fit is accepted only when its R² exceeds this.
    public var r2Threshold = 0.0
    /// The rate factor after a failed fit.
    public var fitFailureDecay = 0.0

    public init() {}
}

extension ProbeFitOptions {
    /// GeN's options table, in snapshot order, with its defaults (seed 001; why each value: the
    /// table in `GeNOptions`). Hi-DLR takes GeN's safeguards, so both methods build their table
    /// here and differ only in the update period and the probe count's row.
    static func probeFitRows(updatePeriod: Double, probeCount: OptionField<Self>) -> [OptionField<Self>] {
        [
            .initialLR(\.initialLR),
            .updatePeriod(\.updatePeriod, default: updatePeriod),
            .lrBoundLow(\.probeFit.lrBoundLow, default: 0.5),
            .lrBoundHigh(\.probeFit.lrBoundHigh, default: 2.0),
            .lrMin(\.lrMin, default: 1e-8),
            .lrMax(\.lrMax, default: .infinity),
            .smoothing(\.smoothing, default: 0.9),
            probeCount,
            .probeScale(\.probeFit.probeScale, default: 1.0),
            .r2Threshold(\.probeFit.r2Threshold, default: 0.99),
            .fitFailureDecay(\.probeFit.fitFailureDecay, default: 0.5),
        ]
    }
}

/// What a probe-fit rule (GeN, Hi-DLR) decided at one update: the new rates, the decision of
/// every group, and the fit both in the rule's probe coordinates and in step units.
public struct ProbeFitDecision: Sendable, Equatable {
    public let learningRates: [Double]
    /// The rule's rate per group before the safeguards (NaN where the fit was rejected or the
    /// group kept its rate).
    public let candidates: [Double]
    public let flags: [DecisionFlags]
    /// The fit in the rule's probe coordinates.
    public let model: QuadraticModel
    /// b_k per group in step units (NaN when rank-deficient).
    public let slopes: [Double]
    /// The curvature in step units (NaN when rank-deficient): a_k per group (GeN) or A, K×K
    /// row-major (Hi-DLR).
    public let curvature: [Double]
    /// PPI_k per group (`Influence`; Hi-DLR), nil where the rule has none (GeN).
    public let influence: [Double]?
}
