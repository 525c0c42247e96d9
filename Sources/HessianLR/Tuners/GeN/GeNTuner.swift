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
/// NaN/±Inf losses (`nonFinite`).
public struct GeNTuner: Tuner {
    public let groupCount: Int
    public private(set) var options: GeNOptions

    private var current: [Double]
    private var updates: UInt64 = 0
    private var lastStep: UInt64?
    private var lastCandidate: [Double]
    private var lastFlags: [DecisionFlags]
    private var fitIntercept = Double.nan
    private var fitSlope: [Double]
    private var fitCurvature: [Double]
    private var fitR2 = Double.nan

    public var method: Method { .gen }
    /// The losses are taken along whatever direction the trainer steps (given to the host
    /// drivers explicitly); there is no curvature observation.
    public var usesUpdateDirection: Bool { false }

    public static let maxGroups = HessianLRTuner.maxGroups

    public init(groups: Int) throws(HLRError) {
        guard groups >= 1 && groups <= Self.maxGroups else {
            throw .invalid("groups must be in [1, \(Self.maxGroups)], got \(groups)")
        }
        groupCount = groups
        options = GeNOptions(groups: groups)
        current = Array(repeating: .nan, count: groups)
        lastCandidate = Array(repeating: .nan, count: groups)
        lastFlags = Array(repeating: [], count: groups)
        fitSlope = Array(repeating: .nan, count: groups)
        fitCurvature = Array(repeating: .nan, count: groups)
    }

    var schedule: PeriodicSchedule { PeriodicSchedule(period: options.updatePeriod) }

    /// Current rates: clamp(initial_lr) before the first update.
    public var rates: [Double] { (0..<groupCount).map(rate) }

    func rate(_ group: Int) -> Double {
        RateSafeguards.clamp(
            updates > 0 ? current[group] : options.initialLR[group], lrMin: options.lrMin,
            lrMax: options.lrMax)
    }

    public func need(atStep step: UInt64) -> Need {
        if let lastStep, step <= lastStep { return .nothing }
        guard schedule.isScheduled(step) else { return .nothing }
        return .losses(probes: GeNRule.probes(rates: rates, options: options))
    }

    public func requireObservation(_ kind: ObservationKind, atStep step: UInt64) throws(HLRError) {
        try ObservationGuard.require(
            kind, step: step, need: need(atStep: step), method: method, lastStep: lastStep,
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
        next.lastCandidate = decision.candidates
        next.lastFlags = decision.flags
        next.fitIntercept = decision.model.intercept
        next.fitSlope = decision.slopes
        next.fitCurvature = decision.curvatures
        next.fitR2 = decision.model.r2
        next.updates = next.updates.incrementedSaturating()
        next.lastStep = step
        self = next
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
        switch key {
        case .updates: return Double(updates)
        case .lastStep: return lastStep.map { Double($0) } ?? -1
        case .nextCurvatureStep: return -1
        case .nextUpdateStep: return schedule.infoValue(after: lastStep)
        case .lastCandidate: return lastCandidate[group]
        case .lastFlags: return Double(lastFlags[group].rawValue)
        case .fitIntercept: return fitIntercept
        case .fitSlope: return fitSlope[group]
        case .fitCurvature: return fitCurvature[group]
        case .fitR2: return fitR2
        default:
            throw HLRError(.unknownKey, "method gen has no info key \(key.name) (key \(key.rawValue))")
        }
    }

    public mutating func reset(state: Bool, options resetOptions: Bool) {
        if resetOptions { options = GeNOptions(groups: groupCount) }
        if state {
            current = Array(repeating: .nan, count: groupCount)
            updates = 0
            lastStep = nil
            lastCandidate = Array(repeating: .nan, count: groupCount)
            lastFlags = Array(repeating: [], count: groupCount)
            fitIntercept = .nan
            fitSlope = Array(repeating: .nan, count: groupCount)
            fitCurvature = Array(repeating: .nan, count: groupCount)
            fitR2 = .nan
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
        writer.write(fitIntercept)
        writer.write(fitSlope)
        writer.write(fitCurvature)
        writer.write(fitR2)
        return writer.bytes
    }

    public mutating func restorePayload(_ payload: [UInt8]) throws(HLRError) {
        var reader = SnapshotReader(payload)
        let groups = try reader.readUInt64("groups")
        guard groups == UInt64(groupCount) else {
            throw HLRError(.snapshotMismatch, "snapshot has \(groups) groups, this tuner has \(groupCount)")
        }
        var next = try GeNTuner(groups: groupCount)
        next.options = try GeNOptions.decode(from: &reader, groups: groupCount)
        next.updates = try reader.readUInt64("updates")
        let hasLastStep = try reader.readBool("has_last_step")
        let step = try reader.readUInt64("last_step")
        next.lastStep = hasLastStep ? step : nil
        next.current = try reader.readDoubles("current", count: groupCount)
        next.lastCandidate = try reader.readDoubles("last_candidate", count: groupCount)
        for group in 0..<groupCount {
            next.lastFlags[group] = DecisionFlags(rawValue: try reader.readUInt32("last_flags"))
        }
        next.fitIntercept = try reader.readDouble("fit_intercept")
        next.fitSlope = try reader.readDoubles("fit_slope", count: groupCount)
        next.fitCurvature = try reader.readDoubles("fit_curvature", count: groupCount)
        next.fitR2 = try reader.readDouble("fit_r2")
        try reader.finish()
        guard (next.updates > 0) == hasLastStep else {
            throw HLRError(.snapshotCorrupt, "snapshot has \(next.updates) updates but \(hasLastStep ? "a" : "no") last step")
        }
        if next.updates > 0 {
            for (group, rate) in next.current.enumerated() where !(rate.isFinite && rate >= 0) {
                throw HLRError(.snapshotCorrupt, "snapshot holds an invalid learning rate \(rate) for group \(group)")
            }
        }
        self = next
    }
}
