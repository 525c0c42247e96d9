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
    private var updates: UInt64 = 0
    private var lastStep: UInt64?
    private var lastCandidate: [Double]
    private var lastFlags: [DecisionFlags]
    private var lastSlope: [Double]
    private var lastCurvature: [Double]

    public var method: Method { .cdat }
    public var usesUpdateDirection: Bool { options.direction == .update }

    public static let maxGroups = HessianLRTuner.maxGroups

    public init(groups: Int) throws(HLRError) {
        guard groups >= 1 && groups <= Self.maxGroups else {
            throw .invalid("groups must be in [1, \(Self.maxGroups)], got \(groups)")
        }
        groupCount = groups
        options = CDATOptions(groups: groups)
        current = Array(repeating: .nan, count: groups)
        numerator = Array(repeating: 0, count: groups)
        denominator = Array(repeating: 0, count: groups)
        lastCandidate = Array(repeating: .nan, count: groups)
        lastFlags = Array(repeating: [], count: groups)
        lastSlope = Array(repeating: .nan, count: groups)
        lastCurvature = Array(repeating: .nan, count: groups)
    }

    var schedule: PeriodicSchedule { PeriodicSchedule(period: options.updatePeriod) }

    public func need(atStep step: UInt64) -> Need {
        if let lastStep, step <= lastStep { return .nothing }
        return schedule.isScheduled(step) ? .curvature : .nothing
    }

    public func requireObservation(_ kind: ObservationKind, atStep step: UInt64) throws(HLRError) {
        try ObservationGuard.require(
            kind, step: step, need: need(atStep: step), method: method, lastStep: lastStep,
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
            next.lastCandidate[group] = decision.candidate
            next.lastFlags[group] = decision.flags
            next.lastSlope[group] = slope
            next.lastCurvature[group] = curvature
        }
        next.updates = next.updates.incrementedSaturating()
        next.lastStep = step
        self = next
    }

    public func learningRate(group: Int, step: UInt64) throws(HLRError) -> Double {
        try checkGroup(group)
        return rate(group)
    }

    /// The current rate of `group`: clamp(initial_lr) before the first observation.
    func rate(_ group: Int) -> Double {
        RateSafeguards.clamp(
            updates > 0 ? current[group] : options.initialLR[group], lrMin: options.lrMin,
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
        switch key {
        case .updates: return Double(updates)
        case .lastStep: return lastStep.map { Double($0) } ?? -1
        case .nextCurvatureStep, .nextUpdateStep: return schedule.infoValue(after: lastStep)
        case .lastCandidate: return lastCandidate[group]
        case .lastFlags: return Double(lastFlags[group].rawValue)
        case .lastCurvature: return lastCurvature[group]
        case .lastSlope: return lastSlope[group]
        case .smoothedNumerator: return numerator[group]
        case .smoothedDenominator: return denominator[group]
        case .edgeOfStability:
            let sharpness = options.sharpness[group]
            return sharpness > 0 ? rate(group) * sharpness : .nan
        default:
            throw HLRError(.unknownKey, "method cdat has no info key \(key.name) (key \(key.rawValue))")
        }
    }

    public mutating func reset(state: Bool, options resetOptions: Bool) {
        if resetOptions { options = CDATOptions(groups: groupCount) }
        if state {
            current = Array(repeating: .nan, count: groupCount)
            numerator = Array(repeating: 0, count: groupCount)
            denominator = Array(repeating: 0, count: groupCount)
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
        writer.write(numerator)
        writer.write(denominator)
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
            throw HLRError(.snapshotMismatch, "snapshot has \(groups) groups, this tuner has \(groupCount)")
        }
        var next = try CDATTuner(groups: groupCount)
        next.options = try CDATOptions.decode(from: &reader, groups: groupCount)
        next.updates = try reader.readUInt64("updates")
        let hasLastStep = try reader.readBool("has_last_step")
        let step = try reader.readUInt64("last_step")
        next.lastStep = hasLastStep ? step : nil
        next.current = try reader.readDoubles("current", count: groupCount)
        next.numerator = try reader.readDoubles("numerator", count: groupCount)
        next.denominator = try reader.readDoubles("denominator", count: groupCount)
        next.lastCandidate = try reader.readDoubles("last_candidate", count: groupCount)
        for group in 0..<groupCount {
            next.lastFlags[group] = DecisionFlags(rawValue: try reader.readUInt32("last_flags"))
        }
        next.lastSlope = try reader.readDoubles("last_slope", count: groupCount)
        next.lastCurvature = try reader.readDoubles("last_curvature", count: groupCount)
        try reader.finish()
        guard (next.updates > 0) == hasLastStep else {
            throw HLRError(.snapshotCorrupt, "snapshot has \(next.updates) updates but \(hasLastStep ? "a" : "no") last step")
        }
        for group in 0..<groupCount {
            let n = next.numerator[group]
            let d = next.denominator[group]
            guard n.isFinite && n >= 0 && d.isFinite && d >= 0 else {
                throw HLRError(.snapshotCorrupt, "snapshot holds invalid EMAs n̂ = \(n), d̂ = \(d) for group \(group)")
            }
            if next.updates > 0 {
                let rate = next.current[group]
                guard rate.isFinite && rate >= 0 else {
                    throw HLRError(.snapshotCorrupt, "snapshot holds an invalid learning rate \(rate) for group \(group)")
                }
            }
        }
        self = next
    }
}
