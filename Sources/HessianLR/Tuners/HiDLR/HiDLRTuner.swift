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
    private var updates: UInt64 = 0
    private var lastStep: UInt64?
    private var lastCandidate: [Double]
    private var lastFlags: [DecisionFlags]
    private var fitIntercept = Double.nan
    private var fitSlope: [Double]
    /// A, K×K row-major, step units.
    private var fitCurvature: [Double]
    private var fitR2 = Double.nan
    private var fitInfluence: [Double]

    public var method: Method { .hidlr }
    public var usesUpdateDirection: Bool { false }

    public static let maxGroups = 256

    public init(groups: Int) throws(HLRError) {
        guard groups >= 1 && groups <= Self.maxGroups else {
            throw .invalid("groups must be in [1, \(Self.maxGroups)] for hidlr, got \(groups)")
        }
        groupCount = groups
        options = HiDLROptions(groups: groups)
        current = Array(repeating: .nan, count: groups)
        lastCandidate = Array(repeating: .nan, count: groups)
        lastFlags = Array(repeating: [], count: groups)
        fitSlope = Array(repeating: .nan, count: groups)
        fitCurvature = Array(repeating: .nan, count: groups * groups)
        fitInfluence = Array(repeating: .nan, count: groups)
    }

    var schedule: PeriodicSchedule { PeriodicSchedule(period: options.updatePeriod) }

    /// Current rates: clamp(initial_lr) before the first update.
    public var rates: [Double] { (0..<groupCount).map(rate) }

    func rate(_ group: Int) -> Double {
        RateSafeguards.clamp(
            updates > 0 ? current[group] : options.initialLR[group], lrMin: options.lrMin,
            lrMax: options.lrMax)
    }

    /// The fitted quadratic of the last update in step units, nil before the first (or after a
    /// rank-deficient one): c, b (K), A (K×K row-major), R².
    public var lastFit: (intercept: Double, slope: [Double], curvature: [Double], r2: Double)? {
        guard updates > 0, !fitR2.isNaN else { return nil }
        return (fitIntercept, fitSlope, fitCurvature, fitR2)
    }

    /// PPI of every group from the last fit (see `Influence`); NaN before the first.
    public var influence: [Double] { fitInfluence }

    /// Groups from most to least influential by the last fit's PPI (ties by index); empty before
    /// the first full-rank fit.
    public func influenceRanking() -> [Int] {
        fitInfluence.allSatisfy(\.isNaN) ? [] : Influence.ranking(fitInfluence)
    }

    public func need(atStep step: UInt64) -> Need {
        if let lastStep, step <= lastStep { return .nothing }
        guard schedule.isScheduled(step) else { return .nothing }
        return .losses(probes: HiDLRRule.probes(rates: rates, options: options, round: updates))
    }

    public func requireObservation(_ kind: ObservationKind, atStep step: UInt64) throws(HLRError) {
        try ObservationGuard.require(
            kind, step: step, need: need(atStep: step), method: method, lastStep: lastStep,
            schedule: "update_period \(options.updatePeriod)", nextStep: schedule.next(from: step))
    }

    public mutating func observe(step: UInt64, kind: ObservationKind, values: [Double]) throws(HLRError) {
        try requireObservation(kind, atStep: step)
        let m = options.resolvedProbeCount
        guard values.count == m else {
            throw .invalid("expected \(m) losses values (one loss per probe, in probe order), got \(values.count)")
        }
        try ObservationGuard.requireFinite(values) { "loss at probe \($0)" }
        let decision = try HiDLRRule.decide(current: rates, losses: values, options: options, round: updates)
        var next = self
        next.current = decision.learningRates
        next.lastCandidate = decision.candidates
        next.lastFlags = decision.flags
        next.fitIntercept = decision.model.intercept
        next.fitSlope = decision.slopes
        next.fitCurvature = decision.curvature
        next.fitR2 = decision.model.r2
        next.fitInfluence = decision.influence
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
        case .fitCurvature: return fitCurvature[group * groupCount + group]
        case .fitR2: return fitR2
        case .influence: return fitInfluence[group]
        case .influenceRank:
            let ranking = influenceRanking()
            return ranking.isEmpty ? -1 : Double(Influence.ranks(fitInfluence)[group])
        default:
            throw HLRError(.unknownKey, "method hidlr has no info key \(key.name) (key \(key.rawValue))")
        }
    }

    public mutating func reset(state: Bool, options resetOptions: Bool) {
        if resetOptions { options = HiDLROptions(groups: groupCount) }
        if state {
            current = Array(repeating: .nan, count: groupCount)
            updates = 0
            lastStep = nil
            lastCandidate = Array(repeating: .nan, count: groupCount)
            lastFlags = Array(repeating: [], count: groupCount)
            fitIntercept = .nan
            fitSlope = Array(repeating: .nan, count: groupCount)
            fitCurvature = Array(repeating: .nan, count: groupCount * groupCount)
            fitR2 = .nan
            fitInfluence = Array(repeating: .nan, count: groupCount)
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
        writer.write(fitInfluence)
        return writer.bytes
    }

    public mutating func restorePayload(_ payload: [UInt8]) throws(HLRError) {
        var reader = SnapshotReader(payload)
        let groups = try reader.readUInt64("groups")
        guard groups == UInt64(groupCount) else {
            throw HLRError(.snapshotMismatch, "snapshot has \(groups) groups, this tuner has \(groupCount)")
        }
        var next = try HiDLRTuner(groups: groupCount)
        next.options = try HiDLROptions.decode(from: &reader, groups: groupCount)
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
        next.fitCurvature = try reader.readDoubles("fit_curvature", count: groupCount * groupCount)
        next.fitR2 = try reader.readDouble("fit_r2")
        next.fitInfluence = try reader.readDoubles("fit_influence", count: groupCount)
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
