/// GeN (seed 001) as a state machine over forward losses: backprop-free, lazy, one shared
/// scale for all groups (see `GeNRule` for the math and the multi-group meaning).
///
/// Protocol: `need(atStep: t)` is `.losses(probes:)` at the steps t ≥ 0 with t mod P = 0
/// (P = update_period, default 4) after the last observed step, `.nothing` otherwise. The probes
/// are m rows of K step sizes ξ_jk = s·lr_k·ρ_j computed from the current rates (change no option
/// between `need` and `observe`: the tuner recomputes the same probes to interpret the losses).
/// The trainer evaluates L(w − Σ_k ξ_jk·d_k) at each (d = the optimizer's update, or g; ξ = 0 is
/// the current loss) and observes the m losses in probe order, then reads the rates of step t.
/// The optimizer is stepped once, with the new rates (GeN's reference steps it twice).
///
/// Before the first update the rate is clamp(initial_lr). Refused, changing nothing: a step that
/// does not need losses or another kind (`wrongState`), a wrong count (`invalidArgument`),
/// NaN/±Inf losses (`nonFinite`). A caller that cannot measure the losses reports it with
/// `observeFailure(step:)` instead: the rate is multiplied by fit_failure_decay (GeN halves).
public struct GeNTuner: Tuner {
    public let groupCount: Int
    public private(set) var options: GeNOptions

    private var current: [Double]
    private var history = UpdateHistory()
    private var decisions: DecisionLog
    private var fit: FitLog

    public var method: Method { .gen }
    /// The losses are taken along whatever direction the trainer steps (given to the host
    /// drivers explicitly); there is no curvature observation.
    public var usesUpdateDirection: Bool { false }

    public static let maxGroups = HessianLRTuner.maxGroups

    public init(groups: Int) throws(HLRError) {
        try checkGroupCount(groups, maximum: Self.maxGroups)
        groupCount = groups
        options = GeNOptions(groups: groups)
        current = Array(repeating: .nan, count: groups)
        decisions = DecisionLog(groups: groups)
        fit = FitLog(groups: groups, shape: .perGroup)
    }

    var schedule: PeriodicSchedule { PeriodicSchedule(period: options.updatePeriod) }

    /// Current rates: clamp(initial_lr) before the first update.
    public var rates: [Double] { (0..<groupCount).map(rate) }

    func rate(_ group: Int) -> Double {
        RateSafeguards.clamp(
            history.updates > 0 ? current[group] : options.initialLR[group], lrMin: options.lrMin,
            lrMax: options.rateCeiling)
    }

    public func need(atStep step: UInt64) -> Need {
        if history.isStale(step) { return .nothing }
        guard schedule.isScheduled(step) else { return .nothing }
        return .losses(probes: GeNRule.probes(rates: rates, options: options))
    }

    public func requireObservation(_ kind: ObservationKind, atStep step: UInt64) throws(HLRError) {
        try ObservationGuard.require(
            kind, step: step, need: need(atStep: step), method: method, lastStep: history.lastStep,
            schedule: "update_period \(options.updatePeriod)", nextStep: schedule.next(from: step))
    }

    public mutating func observe(step: UInt64, kind: ObservationKind, values: [Double]) throws(HLRError) {
        let need = need(atStep: step)
        try requireObservation(kind, atStep: step)
        try ObservationGuard.requireCount(
            values, need: need, groups: groupCount, layout: "one loss per probe, in probe order")
        try ObservationGuard.requireFinite(values) { "loss at probe \($0)" }
        let decision = try GeNRule.decide(current: rates, losses: values, options: options)
        var next = self
        next.current = decision.learningRates
        next.decisions = DecisionLog(candidates: decision.candidates, flags: decision.flags)
        next.fit.record(
            intercept: decision.model.intercept, slope: decision.slopes, curvature: decision.curvatures,
            r2: decision.model.r2)
        next.history.recordUpdate(atStep: step)
        self = next
    }

    public mutating func observeFailure(step: UInt64) throws(HLRError) {
        try requireObservation(.losses, atStep: step)  // nothing below throws
        (current, decisions) = RateSafeguards.failedObservation(
            rates, factor: options.fitFailureDecay, lrMin: options.lrMin, lrMax: options.rateCeiling)
        fit = FitLog(groups: groupCount, shape: .perGroup)
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
        default:
            throw key.unknown(in: method)
        }
    }

    public mutating func reset(state: Bool, options resetOptions: Bool) {
        if resetOptions { options = GeNOptions(groups: groupCount) }
        if state {
            current = Array(repeating: .nan, count: groupCount)
            history = UpdateHistory()
            decisions = DecisionLog(groups: groupCount)
            fit = FitLog(groups: groupCount, shape: .perGroup)
        }
    }

    /// Payload: groups, options, history, current rates, decisions, fit.
    public func encodePayload() -> [UInt8] {
        var writer = TunerPayload.writer(groups: groupCount)
        options.encode(into: &writer)
        history.encode(into: &writer)
        writer.write(current)
        decisions.encode(into: &writer)
        fit.encode(into: &writer)
        return writer.bytes
    }

    public mutating func restorePayload(_ payload: [UInt8]) throws(HLRError) {
        var reader = try TunerPayload.reader(payload, groups: groupCount)
        var next = try GeNTuner(groups: groupCount)
        next.options = try GeNOptions.decode(from: &reader, groups: groupCount)
        next.history = try UpdateHistory.decode(from: &reader)
        next.current = try reader.readDoubles("current", count: groupCount)
        next.decisions = try DecisionLog.decode(from: &reader, groups: groupCount)
        next.fit = try FitLog.decode(from: &reader, groups: groupCount, shape: .perGroup)
        try reader.finish()
        try next.history.requireLastStepExactlyWhenUpdated()
        if next.history.updates > 0 { try TunerPayload.requireValidRates(next.current) }
        self = next
    }
}
