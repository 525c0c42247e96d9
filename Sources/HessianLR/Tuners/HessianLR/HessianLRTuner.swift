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

    /// Current rate per group; meaningful once `updates > 0`.
    private var current: [Double]
    private var updates: UInt64 = 0
    private var lastStep: UInt64?
    private var lastCandidate: [Double]
    private var lastFlags: [DecisionFlags]
    private var lastSlope: [Double]
    private var lastCurvature: [Double]

    public var method: Method { .hessianLR }
    public var usesUpdateDirection: Bool { options.direction == .update }

    /// Largest group count a tuner accepts (keeps every size computation far from overflow).
    public static let maxGroups = 1 << 20

    public init(groups: Int) throws(HLRError) {
        guard groups >= 1 && groups <= Self.maxGroups else {
            throw .invalid("groups must be in [1, \(Self.maxGroups)], got \(groups)")
        }
        groupCount = groups
        options = HessianLROptions(groups: groups)
        current = Array(repeating: .nan, count: groups)
        lastCandidate = Array(repeating: .nan, count: groups)
        lastFlags = Array(repeating: [], count: groups)
        lastSlope = Array(repeating: .nan, count: groups)
        lastCurvature = Array(repeating: .nan, count: groups)
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
        if let lastStep, step <= lastStep { return .nothing }
        return isScheduled(step) ? .curvature : .nothing
    }

    public mutating func observe(step: UInt64, kind: ObservationKind, values: [Double]) throws(HLRError) {
        try requireObservation(kind, atStep: step)
        guard values.count == curvatureValueCount else {
            throw .invalid(
                "expected \(curvatureValueCount) curvature values (gᵀd, dᵀHd for each of "
                    + "\(groupCount) groups), got \(values.count)")
        }
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
            let rate = updates > 0
                ? current[group]
                : HessianLRRule.scheduled(initial: options.initialLR[group], step: step, options: options)
            let decision = HessianLRRule.decide(
                current: rate, slope: values[2 * group], curvature: values[2 * group + 1],
                options: options)
            next.current[group] = decision.learningRate
            next.lastCandidate[group] = decision.candidate
            next.lastFlags[group] = decision.flags
            next.lastSlope[group] = values[2 * group]
            next.lastCurvature[group] = values[2 * group + 1]
        }
        next.updates = next.updates == .max ? .max : next.updates + 1  // saturating: a crafted snapshot may hold .max
        next.lastStep = step
        self = next
    }

    public func requireObservation(_ kind: ObservationKind, atStep step: UInt64) throws(HLRError) {
        guard kind == .curvature else {
            throw HLRError(.wrongState, "hessianlr observes curvature only, not \(kind.name)")
        }
        if wantsCurvature(atStep: step) { return }
        if let lastStep, step <= lastStep {
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

    public func learningRate(group: Int, step: UInt64) throws(HLRError) -> Double {
        try checkGroup(group)
        if step < options.warmupSteps || updates == 0 {
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
        switch key {
        case .updates: return Double(updates)
        case .lastStep: return lastStep.map { Double($0) } ?? -1
        case .nextCurvatureStep:
            // −1 when no step after the last observed one fits in a UInt64.
            guard let from = lastStep.map({ $0 == .max ? nil : $0 + 1 }) ?? 0,
                let next = nextScheduledStep(from: from)
            else { return -1 }
            return Double(next)
        case .lastCandidate: return lastCandidate[group]
        case .lastFlags: return Double(lastFlags[group].rawValue)
        case .lastCurvature: return lastCurvature[group]
        case .lastSlope: return lastSlope[group]
        default:
            throw HLRError(.unknownKey, "method hessianlr has no info key \(key.name) (key \(key.rawValue))")
        }
    }

    public mutating func reset(state: Bool, options resetOptions: Bool) {
        if resetOptions { options = HessianLROptions(groups: groupCount) }
        if state {
            current = Array(repeating: .nan, count: groupCount)
            updates = 0
            lastStep = nil
            lastCandidate = Array(repeating: .nan, count: groupCount)
            lastFlags = Array(repeating: [], count: groupCount)
            lastSlope = Array(repeating: .nan, count: groupCount)
            lastCurvature = Array(repeating: .nan, count: groupCount)
        }
    }

    public func encodePayload() -> [UInt8] {
        var writer = SnapshotWriter()
        writer.write(UInt64(groupCount))
        options.encode(into: &writer)
        writer.write(updates)
        writer.write(lastStep != nil)
        writer.write(lastStep ?? 0)
        writer.write(current)
        writer.write(lastCandidate)
        for flags in lastFlags { writer.write(flags.rawValue) }
        writer.write(lastSlope)
        writer.write(lastCurvature)
        return writer.bytes
    }

    public mutating func restorePayload(_ payload: [UInt8]) throws(HLRError) {
        var reader = SnapshotReader(payload)
        let groups = try reader.readUInt64("groups")
        guard groups == UInt64(groupCount) else {
            throw HLRError(
                .snapshotMismatch,
                "snapshot has \(groups) groups, this tuner has \(groupCount)")
        }
        var next = try HessianLRTuner(groups: groupCount)
        next.options = try HessianLROptions.decode(from: &reader, groups: groupCount)
        next.updates = try reader.readUInt64("updates")
        let hasLastStep = try reader.readBool("has_last_step")
        let step = try reader.readUInt64("last_step")
        next.lastStep = hasLastStep ? step : nil
        next.current = try reader.readDoubles("current", count: groupCount)
        next.lastCandidate = try reader.readDoubles("last_candidate", count: groupCount)
        for group in 0..<groupCount {
            next.lastFlags[group] = DecisionFlags(rawValue: try reader.readUInt32("last_flags"))
        }
        next.lastSlope = try reader.readDoubles("last_slope", count: groupCount)
        next.lastCurvature = try reader.readDoubles("last_curvature", count: groupCount)
        try reader.finish()
        if next.updates > 0 {
            guard hasLastStep else {
                throw HLRError(.snapshotCorrupt, "snapshot has updates but no last step")
            }
            for (group, rate) in next.current.enumerated() where !(rate.isFinite && rate >= 0) {
                throw HLRError(
                    .snapshotCorrupt, "snapshot holds an invalid learning rate \(rate) for group \(group)")
            }
        }
        self = next
    }
}
