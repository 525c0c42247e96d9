/// Hi-DLR (seed 001) as a state machine over forward losses: per-group learning rates from a
/// least-squares quadratic fit of the loss over random per-group probe steps (see `HiDLRRule`).
///
/// Protocol: `need(atStep: t)` is `.losses(probes:)` at the steps t ≥ 0 with t mod Φ = 0
/// (Φ = update_period, default 10) after the last observed step, `.nothing` otherwise. The m
/// probes (rows of K steps ξ_jk) are a function of the current rates, the options and the
/// update counter (the RNG index), so `observe` recomputes exactly the probes `need` returned
/// (change no option between the two). The trainer evaluates L(w − Σ_k ξ_jk·d_k) at each and
/// observes the m losses in probe order; the rates of step t are then final.
///
/// The update counter counts applied observations (accepted or rejected fits) since creation or
/// the last state reset; it is in the snapshot, so a restored tuner draws the same probes.
///
/// At most `maxGroups` = 256 groups (an update costs m ≥ 2K + 1 forward passes and a dense
/// least-squares solve); the full-A model at most 16. Refused, changing nothing: a step that does
/// not need losses or another kind (`wrongState`), a wrong count (`invalidArgument`), NaN/±Inf
/// losses (`nonFinite`).
public struct HiDLRTuner: Tuner {
    public let groupCount: Int
    public private(set) var options: HiDLROptions

    private var current: [Double]
    private var history = UpdateHistory()
    private var decisions: DecisionLog
    /// The last fit, with A K×K row-major in step units.
    private var fit: FitLog
    private var fitInfluence: [Double]

    public var method: Method { .hidlr }
    public var usesUpdateDirection: Bool { false }

    public static let maxGroups = 256

    public init(groups: Int) throws(HLRError) {
        try checkGroupCount(groups, maximum: Self.maxGroups, method: .hidlr)
        groupCount = groups
        options = HiDLROptions(groups: groups)
        current = Array(repeating: .nan, count: groups)
        decisions = DecisionLog(groups: groups)
        fit = FitLog(groups: groups, shape: .matrix)
        fitInfluence = Array(repeating: .nan, count: groups)
    }

    var schedule: PeriodicSchedule { PeriodicSchedule(period: options.updatePeriod) }

    /// Current rates: clamp(initial_lr) before the first update.
    public var rates: [Double] { (0..<groupCount).map(rate) }

    func rate(_ group: Int) -> Double {
        RateSafeguards.clamp(
            history.updates > 0 ? current[group] : options.initialLR[group], lrMin: options.lrMin,
            lrMax: options.rateCeiling)
    }

    /// The fitted quadratic of the last update in step units, nil before the first (or after a
    /// rank-deficient one): c, b (K), A (K×K row-major), R².
    public var lastFit: (intercept: Double, slope: [Double], curvature: [Double], r2: Double)? {
        guard history.updates > 0, !fit.r2.isNaN else { return nil }
        return (fit.intercept, fit.slope, fit.curvature, fit.r2)
    }

    /// PPI of every group from the last fit (see `Influence`); NaN before the first.
    public var influence: [Double] { fitInfluence }

    /// Groups from most to least influential by the last fit's PPI (ties by index); empty before
    /// the first full-rank fit.
    public func influenceRanking() -> [Int] {
        fitInfluence.allSatisfy(\.isNaN) ? [] : Influence.ranking(fitInfluence)
    }

    public func need(atStep step: UInt64) -> Need {
        if history.isStale(step) { return .nothing }
        guard schedule.isScheduled(step) else { return .nothing }
        return .losses(probes: HiDLRRule.probes(rates: rates, options: options, round: history.updates))
    }

    public func requireObservation(_ kind: ObservationKind, atStep step: UInt64) throws(HLRError) {
        try ObservationGuard.require(
            kind, step: step, need: need(atStep: step), method: method, lastStep: history.lastStep,
            schedule: "update_period \(options.updatePeriod)", nextStep: schedule.next(from: step))
    }

    public mutating func observe(step: UInt64, kind: ObservationKind, values: [Double]) throws(HLRError) {
        try requireObservation(kind, atStep: step)
        let m = options.resolvedProbeCount
        guard values.count == m else {
            throw .invalid("expected \(m) losses values (one loss per probe, in probe order), got \(values.count)")
        }
        try ObservationGuard.requireFinite(values) { "loss at probe \($0)" }
        let decision = try HiDLRRule.decide(current: rates, losses: values, options: options, round: history.updates)
        var next = self
        next.current = decision.learningRates
        next.decisions = DecisionLog(candidates: decision.candidates, flags: decision.flags)
        next.fit.record(
            intercept: decision.model.intercept, slope: decision.slopes, curvature: decision.curvature,
            r2: decision.model.r2)
        next.fitInfluence = decision.influence
        next.history.recordUpdate(atStep: step)
        self = next
    }

    /// A failed fit (see `Tuner.observeFailure`): every rate × fit_failure_decay; the last fit
    /// and the influence are forgotten (NaN), the update counter advances (the next round draws
    /// new probes).
    public mutating func observeFailure(step: UInt64) throws(HLRError) {
        try requireObservation(.losses, atStep: step)  // nothing below throws
        (current, decisions) = RateSafeguards.failedObservation(
            rates, factor: options.fitFailureDecay, lrMin: options.lrMin, lrMax: options.rateCeiling)
        fit = FitLog(groups: groupCount, shape: .matrix)
        fitInfluence = Array(repeating: .nan, count: groupCount)
        history.recordUpdate(atStep: step)
    }

    public func learningRate(group: Int, step: UInt64) throws(HLRError) -> Double {
        try checkGroup(group)
        return rate(group)
    }

    public mutating func setParameter(_ key: ParameterKey, _ value: Double, group: Int?) throws(HLRError) {
        if let group { try checkGroup(group) }
        try options.set(key, value, group: group)
    }

    public func parameter(_ key: ParameterKey, group: Int) throws(HLRError) -> Double {
        try checkGroup(group)
        return try options.get(key, group: group)
    }

    public func info(_ key: InfoKey, group: Int) throws(HLRError) -> Double {
        if key.perGroup { try checkGroup(group) }
        if let value = history.info(key) ?? decisions.info(key, group: group) ?? fit.info(key, group: group) {
            return value
        }
        switch key {
        case .nextCurvatureStep: return -1
        case .nextUpdateStep: return schedule.infoValue(after: history.lastStep)
        case .influence: return fitInfluence[group]
        case .influenceRank:
            let ranking = influenceRanking()
            return ranking.isEmpty ? -1 : Double(Influence.ranks(fitInfluence)[group])
        default:
            throw key.unknown(in: method)
        }
    }

    public mutating func reset(state: Bool, options resetOptions: Bool) {
        if resetOptions { options = HiDLROptions(groups: groupCount) }
        if state {
            current = Array(repeating: .nan, count: groupCount)
            history = UpdateHistory()
            decisions = DecisionLog(groups: groupCount)
            fit = FitLog(groups: groupCount, shape: .matrix)
            fitInfluence = Array(repeating: .nan, count: groupCount)
        }
    }

    /// Payload: groups, options, history, current rates, decisions, fit, influence.
    public func encodePayload() -> [UInt8] {
        var writer = TunerPayload.writer(groups: groupCount)
        options.encode(into: &writer)
        history.encode(into: &writer)
        writer.write(current)
        decisions.encode(into: &writer)
        fit.encode(into: &writer)
        writer.write(fitInfluence)
        return writer.bytes
    }

    public mutating func restorePayload(_ payload: [UInt8]) throws(HLRError) {
        var reader = try TunerPayload.reader(payload, groups: groupCount)
        var next = try HiDLRTuner(groups: groupCount)
        next.options = try HiDLROptions.decode(from: &reader, groups: groupCount)
        next.history = try UpdateHistory.decode(from: &reader)
        next.current = try reader.readDoubles("current", count: groupCount)
        next.decisions = try DecisionLog.decode(from: &reader, groups: groupCount)
        next.fit = try FitLog.decode(from: &reader, groups: groupCount, shape: .matrix)
        next.fitInfluence = try reader.readDoubles("fit_influence", count: groupCount)
        try reader.finish()
        try next.history.requireLastStepExactlyWhenUpdated()
        if next.history.updates > 0 { try TunerPayload.requireValidRates(next.current) }
        self = next
    }
}
