/// HessianLR as a state machine over scalar observations (seed 000, generalised).
///
/// Schedule of requests: curvature is wanted at steps t ≥ W with (t − W) mod P = 0 (W =
/// warmup_steps, P = update_period) that come after the last observed step. Before the first
/// update, lr(t) = η₀·(t+1)/W during warmup and η₀ after it; each observation moves every group's
/// rate by `HessianLRRule.decide`, and between observations the rate stays where it is. Every rate
/// handed out is within [lr_min, lr_max].
///
/// Observation layout: [gᵀd₀, dᵀHd₀, gᵀd₁, dᵀHd₁, …], with d = g (direction gradient) or d = u.
/// A value that is NaN or ±Inf, or gᵀg < 0 with direction gradient, is refused and nothing
/// changes.
public struct HessianLRTuner: Tuner {
    public let groupCount: Int
    public private(set) var options: HessianLROptions

    /// Current rate per group; meaningful once `history.updates > 0`.
    private var current: [Double]
    private var history = UpdateHistory()
    private var decisions: DecisionLog
    private var observed: CurvatureLog

    public var method: Method { .hessianLR }
    public var usesUpdateDirection: Bool { options.direction == .update }

    /// Largest group count a tuner accepts (keeps every size computation far from overflow).
    public static let maxGroups = 1 << 20

    public init(groups: Int) throws(HLRError) {
        try checkGroupCount(groups, maximum: Self.maxGroups)
        groupCount = groups
        options = HessianLROptions(groups: groups)
        current = Array(repeating: .nan, count: groups)
        decisions = DecisionLog(groups: groups)
        observed = CurvatureLog(groups: groups)
    }

    /// Whether the schedule (ignoring the last observed step) asks for curvature at `step`:
    /// step ≥ W and (step − W) mod P = 0.
    func isScheduled(_ step: UInt64) -> Bool {
        step >= options.warmupSteps && (step - options.warmupSteps) % options.updatePeriod == 0
    }

    /// The first step ≥ `from` at which the schedule asks for curvature, or nil when that step
    /// would not fit in a UInt64.
    func nextScheduledStep(from step: UInt64) -> UInt64? {
        let warmup = options.warmupSteps
        if step <= warmup { return warmup }
        let offset = (step - warmup) % options.updatePeriod
        if offset == 0 { return step }
        let (next, overflow) = step.addingReportingOverflow(options.updatePeriod - offset)
        return overflow ? nil : next
    }

    public func need(atStep step: UInt64) -> Need {
        if history.isStale(step) { return .nothing }
        return isScheduled(step) ? .curvature : .nothing
    }

    public mutating func observe(step: UInt64, kind: ObservationKind, values: [Double]) throws(HLRError) {
        try requireObservation(kind, atStep: step)
        try ObservationGuard.requireCount(
            values, need: .curvature, groups: groupCount, layout: "gᵀd, dᵀHd for each of \(groupCount) groups")
        for group in 0..<groupCount {
            let slope = values[2 * group]
            let curvature = values[2 * group + 1]
            guard slope.isFinite else {
                throw HLRError(.nonFinite, "gᵀd of group \(group) is not finite: \(slope)")
            }
            guard curvature.isFinite else {
                throw HLRError(.nonFinite, "dᵀHd of group \(group) is not finite: \(curvature)")
            }
            if options.direction == .gradient && slope < 0 {
                throw .invalid(
                    "gᵀg of group \(group) is negative (\(slope)); with direction gradient it is a squared norm")
            }
        }
        var next = self
        for group in 0..<groupCount {
            let slope = values[2 * group]
            let curvature = values[2 * group + 1]
            let rate = history.updates > 0
                ? current[group]
                : HessianLRRule.scheduled(initial: options.initialLR[group], step: step, options: options)
            let decision = HessianLRRule.decide(
                current: rate, slope: slope, curvature: curvature, options: options)
            next.current[group] = decision.learningRate
            next.decisions.record(group: group, candidate: decision.candidate, flags: decision.flags)
            next.observed.record(group: group, slope: slope, curvature: curvature)
        }
        next.history.recordUpdate(atStep: step)
        self = next
    }

    public func requireObservation(_ kind: ObservationKind, atStep step: UInt64) throws(HLRError) {
        guard kind == .curvature else {
            throw HLRError(.wrongState, "hessianlr observes curvature only, not \(kind.name)")
        }
        if wantsCurvature(atStep: step) { return }
        if let lastStep = history.lastStep, step <= lastStep {
            throw HLRError(
                .wrongState,
                "step \(step) does not want curvature: steps must increase and step \(lastStep) "
                    + "was already observed")
        }
        throw HLRError(
            .wrongState,
            "step \(step) does not want curvature (warmup_steps \(options.warmupSteps), "
                + "update_period \(options.updatePeriod)): the next curvature step is "
                + (nextScheduledStep(from: step).map { "\($0)" } ?? "beyond 2^64 − 1"))
    }

    /// Never needs losses: refused (`wrongState`), see `Tuner.observeFailure`.
    public mutating func observeFailure(step: UInt64) throws(HLRError) {
        try ObservationGuard.refuseFailure(of: self, step: step)
    }

    public func learningRate(group: Int, step: UInt64) throws(HLRError) -> Double {
        try checkGroup(group)
        if step < options.warmupSteps || history.updates == 0 {
            return HessianLRRule.scheduled(initial: options.initialLR[group], step: step, options: options)
        }
        var flags: DecisionFlags = []
        return HessianLRRule.clamp(current[group], options, &flags)
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
        case .nextCurvatureStep:
            // −1 when no step after the last observed one fits in a UInt64.
            guard let from = history.lastStep.map({ $0 == .max ? nil : $0 + 1 }) ?? 0,
                let next = nextScheduledStep(from: from)
            else { return -1 }
            return Double(next)
        default:
            throw key.unknown(in: method)
        }
    }

    public mutating func reset(state: Bool, options resetOptions: Bool) {
        if resetOptions { options = HessianLROptions(groups: groupCount) }
        if state {
            current = Array(repeating: .nan, count: groupCount)
            history = UpdateHistory()
            decisions = DecisionLog(groups: groupCount)
            observed = CurvatureLog(groups: groupCount)
        }
    }

    /// Payload: groups, options, history, current rates, decisions, last observation.
    public func encodePayload() -> [UInt8] {
        var writer = TunerPayload.writer(groups: groupCount)
        options.encode(into: &writer)
        history.encode(into: &writer)
        writer.write(current)
        decisions.encode(into: &writer)
        observed.encode(into: &writer)
        return writer.bytes
    }

    public mutating func restorePayload(_ payload: [UInt8]) throws(HLRError) {
        var reader = try TunerPayload.reader(payload, groups: groupCount)
        var next = try HessianLRTuner(groups: groupCount)
        next.options = try HessianLROptions.decode(from: &reader, groups: groupCount)
        next.history = try UpdateHistory.decode(from: &reader)
        next.current = try reader.readDoubles("current", count: groupCount)
        next.decisions = try DecisionLog.decode(from: &reader, groups: groupCount)
        next.observed = try CurvatureLog.decode(from: &reader, groups: groupCount)
        try reader.finish()
        if next.history.updates > 0 {
            guard next.history.lastStep != nil else {
                throw HLRError(.snapshotCorrupt, "snapshot has updates but no last step")
            }
            try TunerPayload.requireValidRates(next.current)
        }
        self = next
    }
}
