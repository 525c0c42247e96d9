/// The state a method keeps besides its options and its `UpdateHistory` (rates, EMAs, logs of the
/// last decision), with its snapshot fields. `RuleTuner` creates, resets, encodes and decodes it;
/// the method's `TuningRule` reads and changes it.
public protocol TunerState: Sendable, Equatable {
    /// The state of a fresh tuner of `groups` groups.
    init(groups: Int)
    /// The method's payload fields, after the options and the history.
    func encode(into writer: inout SnapshotWriter)
    /// Reads what `encode` wrote; `TuningRule.checkRestored` validates it afterwards.
    static func decode(from reader: inout SnapshotReader, groups: Int) throws(HLRError) -> Self
}

/// A tuning method as `RuleTuner` drives it: the method supplies its options table (`Options`),
/// its state, what it needs at a step, how an observation moves its state (sequencing its pure
/// rule, e.g. `GeNRule.decide`), its rates and its extra info; the shell owns the rest (group
/// checks, options get/set, the update history, info, reset and the snapshot framing).
///
/// Every function receives the tuner (`RuleTuner<Self>`): its options, history and state.
/// `observe` and `observeFailure` work on a copy that the shell commits only when they return,
/// so a throwing observation changes nothing.
public protocol TuningRule {
    associatedtype Options: TunerOptions
    associatedtype State: TunerState

    /// Largest group count a tuner of this method accepts.
    static var maxGroups: Int { get }
    /// Throws `invalidArgument` unless 1 ≤ groups ≤ `maxGroups` (default: `checkGroupCount`).
    static func checkGroups(_ groups: Int) throws(HLRError)
    /// Whether the payload holds the `UpdateHistory` after the options (false for a method that
    /// never observes: its history stays empty).
    static var keepsHistory: Bool { get }
    /// `Tuner.usesUpdateDirection` (default false).
    static func usesUpdateDirection(_ options: Options) -> Bool
    /// `Tuner.acceptsDivergedTrials` (default false).
    static var acceptsDivergedTrials: Bool { get }

    /// `Tuner.need(atStep:)`.
    static func need(atStep step: UInt64, of tuner: RuleTuner<Self>) -> Need
    /// `Tuner.requireObservation(_:atStep:)`.
    static func requireObservation(
        _ kind: ObservationKind, atStep step: UInt64, of tuner: RuleTuner<Self>) throws(HLRError)
    /// Applies an observation to `tuner` (a copy the shell commits on success).
    static func observe(
        step: UInt64, kind: ObservationKind, values: [Double], into tuner: inout RuleTuner<Self>
    ) throws(HLRError)
    /// `Tuner.observeFailure(step:)` (default: refused, the method has no failure rule).
    static func observeFailure(step: UInt64, into tuner: inout RuleTuner<Self>) throws(HLRError)
    /// The rate of a valid `group` at `step`.
    static func rate(group: Int, step: UInt64, of tuner: RuleTuner<Self>) -> Double
    /// The first step after `step` at which `rate` may differ from its value at `step` with the
    /// state unchanged (default `UInt64.max`: the rate does not depend on the step).
    static func rateSteadyUntil(step: UInt64, of tuner: RuleTuner<Self>) -> UInt64
    /// The next step that will need an observation, nil when none will (or none fits in a
    /// UInt64). Info `next_update_step` reports it (−1 for nil) and `steadyUntil` stops there.
    static func nextObservationStep(of tuner: RuleTuner<Self>) -> UInt64?
    /// The method's info values beyond `UpdateHistory`'s (updates, last step); nil for a key
    /// the method lacks. `group` is valid for per-group keys.
    static func info(_ key: InfoKey, group: Int, of tuner: RuleTuner<Self>) -> Double?
    /// The error for an info key the method lacks (default: `InfoKey.unknown(in:)`).
    static func unknownInfo(_ key: InfoKey) -> HLRError
    /// Keeps the state consistent after the options changed (a set or a reset of the options;
    /// default: nothing).
    static func optionsChanged(_ tuner: inout RuleTuner<Self>)
    /// Validates a restored tuner (its options, history and state were decoded and the payload
    /// fully read); throws `snapshotCorrupt` to refuse it.
    static func checkRestored(_ tuner: RuleTuner<Self>) throws(HLRError)

    /// The method's options table (`Method.parameterSpecs`; default `Options.specs`).
    static var parameterSpecs: [ParameterSpec] { get }
    /// A tuner of this method with default options (`makeTuner`).
    static func makeTuner(groups: Int) throws(HLRError) -> any Tuner
}

/// Largest group count any tuner accepts (keeps every size computation far from overflow); a
/// method may accept fewer (`TuningRule.maxGroups`: Hi-DLR 256).
public let maxTunerGroups = 1 << 20

extension TuningRule {
    /// Largest group count a tuner of this method accepts (`maxTunerGroups` unless it says less).
    public static var maxGroups: Int { maxTunerGroups }

    public static func checkGroups(_ groups: Int) throws(HLRError) {
        try checkGroupCount(groups, maximum: maxGroups)
    }

    public static var keepsHistory: Bool { true }

    public static func usesUpdateDirection(_ options: Options) -> Bool { false }

    public static var acceptsDivergedTrials: Bool { false }

    /// Never needs losses: refused (`wrongState`), see `Tuner.observeFailure`.
    public static func observeFailure(step: UInt64, into tuner: inout RuleTuner<Self>) throws(HLRError) {
        try ObservationGuard.refuseFailure(of: tuner, step: step)
    }

    public static func unknownInfo(_ key: InfoKey) -> HLRError { key.unknown(in: Options.method) }

    public static func optionsChanged(_ tuner: inout RuleTuner<Self>) {}

    public static func rateSteadyUntil(step: UInt64, of tuner: RuleTuner<Self>) -> UInt64 { .max }

    public static var parameterSpecs: [ParameterSpec] { Options.specs }

    public static func makeTuner(groups: Int) throws(HLRError) -> any Tuner {
        try RuleTuner<Self>(groups: groups)
    }
}

/// The one tuner shell: options, update history, the method's state, info and the snapshot
/// framing around a `TuningRule`. `HessianLRTuner`, `CDATTuner`, `GeNTuner`, `HiDLRTuner`,
/// `ArmijoTuner` and `ConstantTuner` are `RuleTuner`s of their rules.
///
/// Payload (`encodePayload`): groups (UInt64), the options (`TunerOptions.encode`), the history
/// (`UpdateHistory.encode`, when the rule keeps one), the state (`TunerState.encode`).
public struct RuleTuner<Rule: TuningRule>: Tuner {
    public let groupCount: Int
    public internal(set) var options: Rule.Options
    /// Updates and the last observed step.
    var history = UpdateHistory()
    /// The method's own state.
    var state: Rule.State

    public var method: Method { Rule.Options.method }
    public var usesUpdateDirection: Bool { Rule.usesUpdateDirection(options) }
    public var acceptsDivergedTrials: Bool { Rule.acceptsDivergedTrials }

    /// Largest group count a tuner of this method accepts.
    public static var maxGroups: Int { Rule.maxGroups }

    public init(groups: Int) throws(HLRError) {
        try Rule.checkGroups(groups)
        groupCount = groups
        options = Rule.Options(groups: groups)
        state = Rule.State(groups: groups)
    }

    public func need(atStep step: UInt64) -> Need { Rule.need(atStep: step, of: self) }

    public func requireObservation(_ kind: ObservationKind, atStep step: UInt64) throws(HLRError) {
        try Rule.requireObservation(kind, atStep: step, of: self)
    }

    public mutating func observe(step: UInt64, kind: ObservationKind, values: [Double]) throws(HLRError) {
        var next = self
        try Rule.observe(step: step, kind: kind, values: values, into: &next)
        self = next
    }

    public mutating func observeFailure(step: UInt64) throws(HLRError) {
        var next = self
        try Rule.observeFailure(step: step, into: &next)
        self = next
    }

    public func learningRate(group: Int, step: UInt64) throws(HLRError) -> Double {
        try checkGroup(group)
        return Rule.rate(group: group, step: step, of: self)
    }

    /// The next observation (`Rule.nextObservationStep`; none: `UInt64.max`) and the rule's
    /// `rateSteadyUntil`, whichever comes first; `step + 1` when `step` needs an observation or
    /// the next one is not after `step` (a step before the last observed one).
    public func steadyUntil(step: UInt64) -> UInt64 {
        let (following, overflow) = step.addingReportingOverflow(1)
        if overflow { return .max }
        guard need(atStep: step) == .nothing else { return following }
        let observation = Rule.nextObservationStep(of: self) ?? .max
        guard observation > step else { return following }
        return Swift.max(following, Swift.min(observation, Rule.rateSteadyUntil(step: step, of: self)))
    }

    public mutating func setParameter(_ key: ParameterKey, _ value: Double, group: Int?) throws(HLRError) {
        try setParameters([ParameterSetting(key, value, group: group)])
    }

    public mutating func setParameters(_ settings: [ParameterSetting]) throws(HLRError) {
        for case let group? in settings.map(\.group) { try checkGroup(group) }
        try options.set(settings)
        Rule.optionsChanged(&self)
    }

    public func parameter(_ key: ParameterKey, group: Int) throws(HLRError) -> Double {
        try checkGroup(group)
        return try options.get(key, group: group)
    }

    public func info(_ key: InfoKey, group: Int) throws(HLRError) -> Double {
        if key.perGroup { try checkGroup(group) }
        if key == .nextUpdateStep { return Rule.nextObservationStep(of: self).map { Double($0) } ?? -1 }
        if let value = history.info(key) ?? Rule.info(key, group: group, of: self) { return value }
        throw Rule.unknownInfo(key)
    }

    public mutating func reset(state resetState: Bool, options resetOptions: Bool) {
        if resetOptions {
            options = Rule.Options(groups: groupCount)
            Rule.optionsChanged(&self)
        }
        if resetState {
            history = UpdateHistory()
            state = Rule.State(groups: groupCount)
        }
    }

    public func encodePayload() -> [UInt8] {
        var writer = TunerPayload.writer(groups: groupCount)
        options.encode(into: &writer)
        if Rule.keepsHistory { history.encode(into: &writer) }
        state.encode(into: &writer)
        return writer.bytes
    }

    public mutating func restorePayload(_ payload: [UInt8]) throws(HLRError) {
        var reader = try TunerPayload.reader(payload, groups: groupCount)
        var next = try Self(groups: groupCount)
        next.options = try Rule.Options.decode(from: &reader, groups: groupCount)
        if Rule.keepsHistory { next.history = try UpdateHistory.decode(from: &reader) }
        next.state = try Rule.State.decode(from: &reader, groups: groupCount)
        try reader.finish()
        try Rule.checkRestored(next)
        self = next
    }
}

/// The lazy periodic schedule of CDAT, GeN and Hi-DLR (`PeriodicSchedule`, P = update_period of
/// `RateFields`).
public protocol PeriodicOptions: RateFieldOptions {}

extension RuleTuner where Rule.Options: PeriodicOptions {
    var schedule: PeriodicSchedule { PeriodicSchedule(period: options.rate.updatePeriod) }

    /// Whether `step` is a scheduled step after the last observed one.
    func isDue(_ step: UInt64) -> Bool { !history.isStale(step) && schedule.isScheduled(step) }

    /// `ObservationGuard.require` with the periodic schedule's messages.
    func requirePeriodic(_ kind: ObservationKind, atStep step: UInt64) throws(HLRError) {
        try ObservationGuard.require(
            kind, step: step, need: need(atStep: step), method: method, lastStep: history.lastStep,
            schedule: "update_period \(options.rate.updatePeriod)", nextStep: schedule.next(from: step))
    }

    /// The restore check of the periodic methods, whose every observation is an update: a last
    /// step exactly when updates > 0, and then valid rates.
    func checkPeriodicRestore(rates: [Double]) throws(HLRError) {
        try history.requireLastStepExactlyWhenUpdated()
        if history.updates > 0 { try TunerPayload.requireValidRates(rates) }
    }
}
