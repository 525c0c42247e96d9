/// CDAT (Curvature Dynamics Aware Tuning, seed 002) as a state machine over scalar
/// observations, one rate per parameter group.
///
/// Protocol: `need(atStep: t)` is `.curvature` at the steps t ≥ 0 with t mod P = 0
/// (P = update_period, default 1: every step) after the last observed step, `.nothing`
/// otherwise. The observation is [gᵀu₀, u₀ᵀHu₀, gᵀu₁, u₁ᵀHu₁, …] (2K values, u = the
/// optimizer's update, or g with direction gradient), exactly HessianLR's layout, so
/// `hlr_tuner_observe_curvature` and host mode (`QuadraticTerms`) serve both. Each observation
/// moves every group by `CDATRule.decide`; between observations the rate stays. Before the first
/// observation the rate is clamp(initial_lr). Every rate handed out is within [lr_min, lr_max].
///
/// Edge-of-stability diagnostic: the caller supplies λ_max per group through the `sharpness`
/// option (e.g. from the library's Lanczos estimator, at its own cadence); `info(.edgeOfStability)`
/// is then η_k·λ_max,k, which gradient descent keeps below 2 to stay stable. An option rather
/// than an observation because it never drives the rule: a diagnostic input measured on another
/// schedule, settable from C and Python with the existing set_group_param, and leaving the
/// curvature layout shared with HessianLR unchanged.
///
/// Refused, changing nothing: a step that does not need curvature (`wrongState`), a wrong value
/// count (`invalidArgument`), NaN/±Inf values or an overflowing d = |uᵀHu| + ε or EMA
/// (`nonFinite`), gᵀg < 0 with direction gradient (`invalidArgument`).
public struct CDATTuner: Tuner {
    public let groupCount: Int
    public private(set) var options: CDATOptions

    private var current: [Double]
    private var numerator: [Double]
    private var denominator: [Double]
    private var history = UpdateHistory()
    private var decisions: DecisionLog
    private var observed: CurvatureLog

    public var method: Method { .cdat }
    public var usesUpdateDirection: Bool { options.direction == .update }

    public static let maxGroups = 1 << 20

    public init(groups: Int) throws(HLRError) {
        try checkGroupCount(groups, maximum: Self.maxGroups)
        groupCount = groups
        options = CDATOptions(groups: groups)
        current = Array(repeating: .nan, count: groups)
        numerator = Array(repeating: 0, count: groups)
        denominator = Array(repeating: 0, count: groups)
        decisions = DecisionLog(groups: groups)
        observed = CurvatureLog(groups: groups)
    }

    var schedule: PeriodicSchedule { PeriodicSchedule(period: options.updatePeriod) }

    public func need(atStep step: UInt64) -> Need {
        if history.isStale(step) { return .nothing }
        return schedule.isScheduled(step) ? .curvature : .nothing
    }

    public func requireObservation(_ kind: ObservationKind, atStep step: UInt64) throws(HLRError) {
        try ObservationGuard.require(
            kind, step: step, need: need(atStep: step), method: method, lastStep: history.lastStep,
            schedule: "update_period \(options.updatePeriod)",
            nextStep: schedule.next(from: step))
    }

    public mutating func observe(step: UInt64, kind: ObservationKind, values: [Double]) throws(HLRError) {
        try requireObservation(kind, atStep: step)
        try ObservationGuard.requireCount(
            values, need: .curvature, groups: groupCount, layout: "gᵀu, uᵀHu for each of \(groupCount) groups")
        try ObservationGuard.requireFinite(values) { index in
            "\(index % 2 == 0 ? "gᵀu" : "uᵀHu") of group \(index / 2)"
        }
        var next = self
        for group in 0..<groupCount {
            let slope = values[2 * group]
            let curvature = values[2 * group + 1]
            if options.direction == .gradient && slope < 0 {
                throw .invalid(
                    "gᵀg of group \(group) is negative (\(slope)); with direction gradient it is a squared norm")
            }
            guard (abs(curvature) + options.epsilon).isFinite else {
                throw HLRError(.nonFinite, "d = |uᵀHu| + ε of group \(group) overflows (uᵀHu = \(curvature))")
            }
            let decision = CDATRule.decide(
                numerator: numerator[group], denominator: denominator[group], slope: slope,
                curvature: curvature, options: options)
            guard decision.numerator.isFinite && decision.denominator.isFinite else {
                throw HLRError(.nonFinite, "the EMAs of n or d of group \(group) overflow")
            }
            next.current[group] = decision.learningRate
            next.numerator[group] = decision.numerator
            next.denominator[group] = decision.denominator
            next.decisions.record(group: group, candidate: decision.candidate, flags: decision.flags)
            next.observed.record(group: group, slope: slope, curvature: curvature)
        }
        next.history.recordUpdate(atStep: step)
        self = next
    }

    /// Never needs losses: refused (`wrongState`), see `Tuner.observeFailure`.
    public mutating func observeFailure(step: UInt64) throws(HLRError) {
        try ObservationGuard.refuseFailure(of: self, step: step)
    }

    public func learningRate(group: Int, step: UInt64) throws(HLRError) -> Double {
        try checkGroup(group)
        return rate(group)
    }

    /// The current rate of `group`: clamp(initial_lr) before the first observation.
    func rate(_ group: Int) -> Double {
        RateSafeguards.clamp(
            history.updates > 0 ? current[group] : options.initialLR[group], lrMin: options.lrMin,
            lrMax: options.lrMax)
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
        if let value = history.info(key) ?? decisions.info(key, group: group) ?? observed.info(key, group: group) {
            return value
        }
        switch key {
        case .nextCurvatureStep, .nextUpdateStep: return schedule.infoValue(after: history.lastStep)
        case .smoothedNumerator: return numerator[group]
        case .smoothedDenominator: return denominator[group]
        case .edgeOfStability:
            let sharpness = options.sharpness[group]
            return sharpness > 0 ? rate(group) * sharpness : .nan
        default:
            throw key.unknown(in: method)
        }
    }

    public mutating func reset(state: Bool, options resetOptions: Bool) {
        if resetOptions { options = CDATOptions(groups: groupCount) }
        if state {
            current = Array(repeating: .nan, count: groupCount)
            numerator = Array(repeating: 0, count: groupCount)
            denominator = Array(repeating: 0, count: groupCount)
            history = UpdateHistory()
            decisions = DecisionLog(groups: groupCount)
            observed = CurvatureLog(groups: groupCount)
        }
    }

    /// Payload: groups, options, history, current rates, the EMAs n̂ and d̂, decisions, last
    /// observation.
    public func encodePayload() -> [UInt8] {
        var writer = TunerPayload.writer(groups: groupCount)
        options.encode(into: &writer)
        history.encode(into: &writer)
        writer.write(current)
        writer.write(numerator)
        writer.write(denominator)
        decisions.encode(into: &writer)
        observed.encode(into: &writer)
        return writer.bytes
    }

    public mutating func restorePayload(_ payload: [UInt8]) throws(HLRError) {
        var reader = try TunerPayload.reader(payload, groups: groupCount)
        var next = try CDATTuner(groups: groupCount)
        next.options = try CDATOptions.decode(from: &reader, groups: groupCount)
        next.history = try UpdateHistory.decode(from: &reader)
        next.current = try reader.readDoubles("current", count: groupCount)
        next.numerator = try reader.readDoubles("numerator", count: groupCount)
        next.denominator = try reader.readDoubles("denominator", count: groupCount)
        next.decisions = try DecisionLog.decode(from: &reader, groups: groupCount)
        next.observed = try CurvatureLog.decode(from: &reader, groups: groupCount)
        try reader.finish()
        try next.history.requireLastStepExactlyWhenUpdated()
        for group in 0..<groupCount {
            let n = next.numerator[group]
            let d = next.denominator[group]
            guard n.isFinite && n >= 0 && d.isFinite && d >= 0 else {
                throw HLRError(.snapshotCorrupt, "snapshot holds invalid EMAs n̂ = \(n), d̂ = \(d) for group \(group)")
            }
            if next.history.updates > 0 { try TunerPayload.requireValidRate(next.current[group], group: group) }
        }
        self = next
    }
}
