/// Options whose rates are stored per group and handed out clamped: clamp(initial_lr) before the
/// first update, clamp(current) after it, within [lr_min, `rateCeiling`] (CDAT, GeN, Hi-DLR).
public protocol ClampedRateOptions: PeriodicOptions {
    /// The ceiling every rate obeys (lr_max, or a probing method's `probeRateCeiling`).
    var rateCeiling: Double { get }
}

/// The state every rate-per-group method keeps: the current rate of each group (meaningful once
/// the history counts an update).
public protocol RateState: TunerState {
    var current: [Double] { get }
}

extension RuleTuner where Rule.Options: ClampedRateOptions, Rule.State: RateState {
    /// The rate of `group`: clamp(initial_lr) before the first update, clamp(current) after it.
    func clampedRate(_ group: Int) -> Double {
        RateSafeguards.clamp(
            history.updates > 0 ? state.current[group] : options.rate.initialLR[group], lrMin: options.rate.lrMin,
            lrMax: options.rateCeiling)
    }

    /// Current rates of every group: clamp(initial_lr) before the first update.
    public var rates: [Double] { (0..<groupCount).map(clampedRate) }
}

/// How a probing method stores its fit: GeN one curvature per group (`FitLog.Shape.perGroup`),
/// Hi-DLR the K×K matrix (`.matrix`) and the per-group influence.
public protocol FitLayout: Sendable {
    static var isMatrix: Bool { get }
}

extension FitLayout {
    static var shape: FitLog.Shape { isMatrix ? .matrix : .perGroup }
}

/// GeN's layout: a_k per group, no influence.
public enum PerGroupFit: FitLayout {
    public static var isMatrix: Bool { false }
}

/// Hi-DLR's layout: A (K×K) and the PPI influence of every group.
public enum MatrixFit: FitLayout {
    public static var isMatrix: Bool { true }
}

/// The state of a probing method (GeN, Hi-DLR): current rates, the decision log, the last fit
/// and, with the matrix layout, the influence (PPI) of every group from it.
public struct FitState<Layout: FitLayout>: RateState, TabledState {
    public internal(set) var current: [Double]
    var decisions: DecisionLog
    var fit: FitLog
    /// PPI per group (`Influence`), NaN before the first fit; only the matrix layout keeps it.
    var influence: [Double]

    public init(groups: Int) {
        current = Array(repeating: .nan, count: groups)
        decisions = DecisionLog(groups: groups)
        fit = FitLog(groups: groups, shape: Layout.shape)
        influence = Array(repeating: .nan, count: groups)
    }

    /// Records an update: the new rates, the decision of every group and the fit in step units.
    mutating func record(_ decision: ProbeFitDecision) {
        current = decision.learningRates
        decisions = DecisionLog(candidates: decision.candidates, flags: decision.flags)
        fit.record(
            intercept: decision.model.intercept, slope: decision.slopes, curvature: decision.curvature,
            r2: decision.model.r2)
        if let influence = decision.influence { self.influence = influence }
    }

    /// A failed observation: the decayed rates and their log; the fit and the influence are
    /// forgotten (NaN).
    mutating func recordFailure(rates: [Double], log: DecisionLog) {
        current = rates
        decisions = log
        fit = FitLog(groups: rates.count, shape: Layout.shape)
        influence = Array(repeating: .nan, count: rates.count)
    }

    /// Groups from most to least influential by the last fit's PPI (ties by index); empty before
    /// the first full-rank fit.
    var influenceRanking: [Int] { influence.allSatisfy(\.isNaN) ? [] : Influence.ranking(influence) }

    /// The decision, the fit and (matrix layout) the influence info of `group`; nil for any
    /// other key.
    func info(_ key: InfoKey, group: Int) -> Double? {
        if let value = decisions.info(key, group: group) ?? fit.info(key, group: group) { return value }
        guard Layout.isMatrix else { return nil }
        switch key {
        case .influence: return influence[group]
        case .influenceRank: return influenceRanking.isEmpty ? -1 : Double(Influence.ranks(influence)[group])
        default: return nil
        }
    }

    /// Payload fields: current (K doubles), decisions, fit, then fit_influence (K doubles) with
    /// the matrix layout.
    public static var payload: [StateField<Self>] {
        [.perGroup("current", \.current), .decisions(\.decisions), .fit(\.fit, shape: Layout.shape)]
            + (Layout.isMatrix ? [.perGroup("fit_influence", \.influence)] : [])
    }
}

/// The options GeN and Hi-DLR share beyond the clamp: `ProbeFitFields` as `probeFit` (used only
/// by the two probe-fit rules, so named explicitly: `options.probeFit.probeScale`).
public protocol ProbeFitOptions: ClampedRateOptions {
    var probeFit: ProbeFitFields { get set }
}

extension ProbeFitOptions {
    /// The ceiling every rate obeys: min(lr_max, 1e150 / probe_scale), so that probe steps stay
    /// finite when lr_max is +∞ (`probeRateCeiling`).
    public var rateCeiling: Double { probeRateCeiling(scale: probeFit.probeScale, lrMax: rate.lrMax) }

    /// The cross-constraints of the probing methods: the clamp, and s·lr ≤ `maxProbeStep` for the
    /// rates a tuner starts from and the floor it may be clamped to (every initial rate and
    /// lr_min; later rates obey `probeRateCeiling`); the message names the offending product.
    func checkProbeSteps() throws(HLRError) {
        try rate.checkClamp()
        let scale = probeFit.probeScale
        let largest = Swift.max(rate.lrMin, rate.initialLR.max() ?? 0)
        let step = scale * largest
        guard step <= maxProbeStep else {
            throw .invalid(
                "probe_scale (\(scale)) × the largest rate (\(largest)) = \(step) exceeds \(maxProbeStep): "
                    + "probe steps and their squares must stay finite")
        }
    }
}

/// A method that fits a quadratic to forward losses at probe steps on the periodic schedule
/// (GeN, Hi-DLR): it supplies its probes and its pure decision; the sequencing (need, checks,
/// the failure rule, rates, info, restore checks) is shared.
public protocol ProbeFitRule: TuningRule
where Options: ProbeFitOptions, State == FitState<Layout> {
    associatedtype Layout: FitLayout
    /// The probe steps ξ_jk of the next update, from the current rates (rows of K steps).
    static func probes(of tuner: RuleTuner<Self>) -> [[Double]]
    /// Records into `state` the update from the losses at `probes(of: tuner)`, in probe order
    /// (the method's pure rule decides).
    static func fit(losses: [Double], of tuner: RuleTuner<Self>, into state: inout State) throws(HLRError)
}

extension ProbeFitRule {
    /// Losses at the scheduled steps t ≥ 0 with t mod P = 0 after the last observed step.
    public static func need(atStep step: UInt64, of tuner: RuleTuner<Self>) -> Need {
        tuner.isDue(step) ? .losses(probes: probes(of: tuner)) : .nothing
    }

    public static func requireObservation(
        _ kind: ObservationKind, atStep step: UInt64, of tuner: RuleTuner<Self>
    ) throws(HLRError) {
        try tuner.requirePeriodic(kind, atStep: step)
    }

    /// Refused, changing nothing: a step that does not need losses or another kind
    /// (`wrongState`), a wrong count (`invalidArgument`), NaN/±Inf losses (`nonFinite`).
    public static func observe(
        step: UInt64, kind: ObservationKind, values: [Double], into tuner: inout RuleTuner<Self>
    ) throws(HLRError) {
        let need = tuner.need(atStep: step)
        try requireObservation(kind, atStep: step, of: tuner)
        try ObservationGuard.requireCount(
            values, need: need, groups: tuner.groupCount, layout: "one loss per probe, in probe order")
        try ObservationGuard.requireFinite(values) { "loss at probe \($0)" }
        try fit(losses: values, of: tuner, into: &tuner.state)
        tuner.history.recordUpdate(atStep: step)
    }

    /// A failed fit (see `Tuner.observeFailure`): every rate × fit_failure_decay (clamped); the
    /// last fit and the influence are forgotten (NaN), the update counter advances (Hi-DLR's next
    /// round draws new probes).
    public static func observeFailure(step: UInt64, into tuner: inout RuleTuner<Self>) throws(HLRError) {
        try requireObservation(.losses, atStep: step, of: tuner)  // nothing below throws
        let failed = RateSafeguards.failedObservation(
            tuner.rates, factor: tuner.options.probeFit.fitFailureDecay, lrMin: tuner.options.rate.lrMin,
            lrMax: tuner.options.rateCeiling)
        tuner.state.recordFailure(rates: failed.rates, log: failed.log)
        tuner.history.recordUpdate(atStep: step)
    }

    public static func rate(group: Int, step: UInt64, of tuner: RuleTuner<Self>) -> Double {
        tuner.clampedRate(group)
    }

    public static func info(_ key: InfoKey, group: Int, of tuner: RuleTuner<Self>) -> Double? {
        if let value = tuner.state.info(key, group: group) { return value }
        return key == .nextCurvatureStep ? -1 : nil
    }

    /// Loss probes every update_period steps (`PeriodicSchedule`).
    public static func nextObservationStep(of tuner: RuleTuner<Self>) -> UInt64? {
        tuner.schedule.next(after: tuner.history.lastStep)
    }

    public static func checkRestored(_ tuner: RuleTuner<Self>) throws(HLRError) {
        try tuner.checkPeriodicRestore(rates: tuner.state.current)
    }
}
