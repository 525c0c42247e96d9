/// Any tuner with an optional base schedule that scales its rates: a curvature rule sets the
/// level, the schedule the shape (optax's `scale_by_schedule`):
///
///     lr_k(t) = base.lr_k(t) · s.factor(t),   factor(t) = s.value(t) / s.nominalRate ∈ [0, 1]
///
/// The base rule observes and decides exactly as without a schedule; its own clamp
/// [lr_min, lr_max] applies before the factor. With a `ConstantTuner` base whose initial rate is
/// the schedule's nominal rate, the rates are the schedule's values (to within an ulp; use
/// `Schedule.value(at:)` for the exact values).
///
/// Snapshot: without a schedule exactly what the base saves; with one, the base's container with
/// the "schedule follows" bit set in its (checksummed) header, followed by the schedule's own
/// container (`ScheduleSnapshot`).
public struct ScheduledTuner: Tuner {
    public private(set) var base: any Tuner
    public var schedule: Schedule?

    public init(base: any Tuner, schedule: Schedule? = nil) {
        self.base = base
        self.schedule = schedule
    }

    public var method: Method { base.method }
    public var groupCount: Int { base.groupCount }
    public var usesUpdateDirection: Bool { base.usesUpdateDirection }
    public var acceptsDivergedTrials: Bool { base.acceptsDivergedTrials }

    public func need(atStep step: UInt64) -> Need { base.need(atStep: step) }

    public func requireObservation(_ kind: ObservationKind, atStep step: UInt64) throws(HLRError) {
        try base.requireObservation(kind, atStep: step)
    }

    public mutating func observe(step: UInt64, kind: ObservationKind, values: [Double]) throws(HLRError) {
        try base.observe(step: step, kind: kind, values: values)
    }

    public mutating func observeFailure(step: UInt64) throws(HLRError) {
        try base.observeFailure(step: step)
    }

    /// base.lr_k(t) · factor(t), then the base's absolute clamp [lr_min, lr_max] once more (a
    /// method without those options: [0, DBL_MAX]). The factor is in [0, 1] (`Schedule.factor`
    /// clamps the rounding of value/nominal), so it cannot lift a rate at lr_max = DBL_MAX to
    /// +∞, and the product never leaves the bounds every handed-out rate keeps (finite, ≥ 0, in [lr_min, lr_max]).
    /// A schedule that decays towards 0 therefore ends at lr_min; set lr_min = 0 to follow it
    /// all the way down.
    public func learningRate(group: Int, step: UInt64) throws(HLRError) -> Double {
        let rate = try base.learningRate(group: group, step: step)
        guard let schedule else { return rate }
        let factor = schedule.factor(at: step)  // in [0, 1]
        let lrMin = (try? base.parameter(.lrMin, group: group)) ?? 0
        let lrMax = (try? base.parameter(.lrMax, group: group)) ?? .infinity
        return RateSafeguards.clamp(rate * factor, lrMin: lrMin, lrMax: lrMax)
    }

    /// The base's, or `step + 1` with a schedule attached (its factor may change every step).
    public func steadyUntil(step: UInt64) -> UInt64 {
        let steady = base.steadyUntil(step: step)
        guard schedule != nil else { return steady }
        let (following, overflow) = step.addingReportingOverflow(1)
        return overflow ? .max : Swift.min(steady, following)
    }

    public mutating func setParameter(_ key: ParameterKey, _ value: Double, group: Int?) throws(HLRError) {
        try base.setParameter(key, value, group: group)
    }

    public mutating func setParameters(_ settings: [ParameterSetting]) throws(HLRError) {
        try base.setParameters(settings)
    }

    public func parameter(_ key: ParameterKey, group: Int) throws(HLRError) -> Double {
        try base.parameter(key, group: group)
    }

    public func info(_ key: InfoKey, group: Int) throws(HLRError) -> Double {
        try base.info(key, group: group)
    }

    /// Resets the base; a reset of the options also detaches the schedule.
    public mutating func reset(state: Bool, options: Bool) {
        base.reset(state: state, options: options)
        if options { schedule = nil }
    }

    public func encodePayload() -> [UInt8] { base.encodePayload() }

    public mutating func restorePayload(_ payload: [UInt8]) throws(HLRError) {
        try base.restorePayload(payload)
    }

    public func snapshot() -> [UInt8] {
        guard let schedule else { return base.snapshot() }
        return Snapshot.seal(method: base.method, payload: base.encodePayload(), scheduleFollows: true)
            + schedule.snapshot()
    }

    /// Restores the base and the schedule together; throws and changes nothing if either part is
    /// corrupt or of another method.
    public mutating func restore(snapshot bytes: [UInt8]) throws(HLRError) {
        let (snapshotMethod, payload, consumed, followed) = try Snapshot.openPrefix(bytes)
        guard snapshotMethod == method else {
            throw HLRError(
                .snapshotMismatch,
                "snapshot is of method \(snapshotMethod.name), this tuner is \(method.name)")
        }
        guard followed || consumed == bytes.count else {
            throw HLRError(.snapshotCorrupt, "snapshot has \(bytes.count - consumed) trailing bytes")
        }
        guard !followed || consumed < bytes.count else {
            throw HLRError(.snapshotCorrupt, "snapshot is truncated: its schedule section is missing")
        }
        var next = self
        try next.base.restorePayload(payload)
        next.schedule = followed ? try Schedule(snapshot: Array(bytes[consumed...])) : nil
        self = next
    }
}
