/// Armijo backtracking line search (seed 002's baseline) as a state machine: one rate shared by
/// all groups, searched at every step with forward losses (see `ArmijoRule` for the math).
///
/// Protocol at each step t (every step searches):
///
/// 1. `need(atStep: t)` is `.slope`: observe [L(w), g₀ᵀd₀, …, g_{K−1}ᵀd_{K−1}] (K + 1 values) at
///    the current weights. This starts a search at η₀ (`ArmijoRule.firstTrial`).
/// 2. `need(atStep: t)` is `.losses(probes: [[η, …, η]])` (one probe, the trial η for every
///    group): observe [L(w − η·d)]. The tuner answers the next trial (η·decrease_factor) the same
///    way until the Armijo condition holds or max_backtracks decreases were made.
/// 3. `need(atStep: t)` is `.nothing`: `learningRate` is the accepted η; step the weights with it.
///
/// During a search `learningRate` still returns the previous step's rate (read it after `need`
/// says nothing). A search left unfinished is abandoned when a later step observes its slope;
/// the rate is then unchanged. Refused, changing nothing: another kind than the one needed or a
/// step already done (`wrongState`), a wrong count (`invalidArgument`), NaN/±Inf values
/// (`nonFinite`): a trainer whose trial loss overflows should report a large finite value
/// (e.g. `Double.greatestFiniteMagnitude`), which fails the test and backtracks.
public struct ArmijoTuner: Tuner {
    /// The state of an unfinished search.
    struct Search: Sendable, Equatable {
        var step: UInt64
        var loss0: Double
        /// S = Σ_k g_kᵀd_k.
        var slope: Double
        var trial: Double
        var backtracks: Int
        var flags: DecisionFlags
    }

    public let groupCount: Int
    public private(set) var options: ArmijoOptions

    private var current: Double?
    /// Updates are finished searches; the last step is that of the last slope observation.
    private var history = UpdateHistory()
    private var search: Search?
    private var lastSlope: [Double]
    private var lastFlags: DecisionFlags = []
    private var lastCandidate = Double.nan
    private var referenceLoss = Double.nan
    private var lastBacktracks = 0

    public var method: Method { .armijo }
    public var usesUpdateDirection: Bool { false }

    public static let maxGroups = 1 << 20

    public init(groups: Int) throws(HLRError) {
        try checkGroupCount(groups, maximum: Self.maxGroups)
        groupCount = groups
        options = ArmijoOptions(groups: groups)
        lastSlope = Array(repeating: .nan, count: groups)
    }

    /// The rate in use: the last accepted (or capped) rate, min(initial_lr, lr_max) before any.
    public var rate: Double { current ?? ArmijoRule.firstTrial(previous: nil, options: options) }

    public func need(atStep step: UInt64) -> Need {
        if let search, search.step == step {
            return .losses(probes: [Array(repeating: search.trial, count: groupCount)])
        }
        if history.isStale(step) { return .nothing }
        return .slope
    }

    public func requireObservation(_ kind: ObservationKind, atStep step: UInt64) throws(HLRError) {
        try ObservationGuard.require(
            kind, step: step, need: need(atStep: step), method: method, lastStep: history.lastStep,
            schedule: "every step searches", nextStep: step)
    }

    public mutating func observe(step: UInt64, kind: ObservationKind, values: [Double]) throws(HLRError) {
        let need = need(atStep: step)
        try requireObservation(kind, atStep: step)
        var next = self
        switch kind {
        case .slope:
            try ObservationGuard.requireCount(
                values, need: need, groups: groupCount, layout: "L(w), then gᵀd for each of \(groupCount) groups")
            try ObservationGuard.requireFinite(values) { $0 == 0 ? "L(w)" : "gᵀd of group \($0 - 1)" }
            var slope = 0.0
            for value in values[1...] { slope += value }
            guard slope.isFinite else {
                throw HLRError(.nonFinite, "the total slope Σ gᵀd overflows")
            }
            var flags: DecisionFlags = []
            if slope == 0 { flags.insert(.zeroGradient) }
            if slope < 0 { flags.insert(.notDescent) }
            next.search = Search(
                step: step, loss0: values[0], slope: slope,
                trial: ArmijoRule.firstTrial(previous: current, options: options), backtracks: 0,
                flags: flags)
            next.history.observe(step: step)
            next.lastSlope = Array(values[1...])
            next.referenceLoss = values[0]
        case .losses:
            try ObservationGuard.requireCount(
                values, need: need, groups: groupCount, layout: "the loss at the trial rate")
            try ObservationGuard.requireFinite(values) { _ in "the trial loss" }
            next.judgeTrial(loss: values[0], failed: false)
        case .curvature:
            return  // unreachable: requireObservation refused it
        }
        self = next
    }

    /// The trial loss could not be measured (see `Tuner.observeFailure`): the trial fails the
    /// sufficient-decrease test as if its loss were +∞ (flag `observationFailed` on the
    /// search's outcome).
    public mutating func observeFailure(step: UInt64) throws(HLRError) {
        try requireObservation(.losses, atStep: step)
        judgeTrial(loss: .infinity, failed: true)
    }

    /// One trial of the active search: backtrack, or end the search with its rate.
    private mutating func judgeTrial(loss: Double, failed: Bool) {
        guard var search else { return }  // unreachable: the need was losses
        let verdict = ArmijoRule.judge(
            loss0: search.loss0, slope: search.slope, rate: search.trial, trialLoss: loss,
            backtracks: search.backtracks, options: options)
        lastCandidate = search.trial
        if failed { search.flags.insert(.observationFailed) }
        switch verdict {
        case .backtrack(let smaller):
            search.trial = smaller
            search.backtracks += 1
            self.search = search
        case .accept(let rate), .giveUp(let rate):
            var flags = search.flags
            if case .giveUp = verdict { flags.insert(.backtrackLimit) }
            current = rate
            history.countUpdate()
            lastFlags = flags
            lastBacktracks = search.backtracks
            self.search = nil
        }
    }

    public func learningRate(group: Int, step: UInt64) throws(HLRError) -> Double {
        try checkGroup(group)
        return rate
    }

    /// Sets an option. A lowered lr_max applies at once: the rate in use and the trial of an
    /// unfinished search are capped to it, so every state keeps rate, trial ≤ lr_max (which
    /// `restorePayload` checks). A lowered max_backtracks ends a search that has already made
    /// more decreases at its next failed trial (`ArmijoRule.judge`).
    public mutating func setParameter(_ key: ParameterKey, _ value: Double, group: Int?) throws(HLRError) {
        if let group { try checkGroup(group) }
        try options.set(key, value, group: group)
        capToRateLimit()
    }

    /// Keeps the state's invariant rate, trial ≤ lr_max after the options changed (a set or a
    /// reset of the options).
    private mutating func capToRateLimit() {
        current = current.map { Swift.min($0, options.lrMax) }
        if var active = search {
            active.trial = Swift.min(active.trial, options.lrMax)
            search = active
        }
    }

    public func parameter(_ key: ParameterKey, group: Int) throws(HLRError) -> Double {
        try checkGroup(group)
        return try options.get(key, group: group)
    }

    public func info(_ key: InfoKey, group: Int) throws(HLRError) -> Double {
        if key.perGroup { try checkGroup(group) }
        if let value = history.info(key) { return value }
        switch key {
        case .nextCurvatureStep: return -1
        case .nextUpdateStep:
            if let search { return Double(search.step) }
            guard let lastStep = history.lastStep else { return 0 }
            return lastStep == .max ? -1 : Double(lastStep + 1)
        case .lastCandidate: return lastCandidate
        case .lastFlags: return Double(lastFlags.rawValue)
        case .lastSlope: return lastSlope[group]
        case .backtracks: return Double(search?.backtracks ?? lastBacktracks)
        case .trialLR: return search?.trial ?? .nan
        case .referenceLoss: return referenceLoss
        default:
            throw key.unknown(in: method)
        }
    }

    public mutating func reset(state: Bool, options resetOptions: Bool) {
        if resetOptions {
            options = ArmijoOptions(groups: groupCount)
            capToRateLimit()
        }
        if state {
            current = nil
            history = UpdateHistory()
            search = nil
            lastSlope = Array(repeating: .nan, count: groupCount)
            lastFlags = []
            lastCandidate = .nan
            referenceLoss = .nan
            lastBacktracks = 0
        }
    }

    public func encodePayload() -> [UInt8] {
        var writer = TunerPayload.writer(groups: groupCount)
        options.encode(into: &writer)
        history.encode(into: &writer)
        writer.write(current != nil)
        writer.write(current ?? 0)
        writer.write(search != nil)
        writer.write(search?.step ?? 0)
        writer.write(search?.loss0 ?? 0)
        writer.write(search?.slope ?? 0)
        writer.write(search?.trial ?? 0)
        writer.write(UInt64(search?.backtracks ?? 0))
        writer.write(search?.flags.rawValue ?? 0)
        writer.write(lastSlope)
        writer.write(lastFlags.rawValue)
        writer.write(lastCandidate)
        writer.write(referenceLoss)
        writer.write(UInt64(lastBacktracks))
        return writer.bytes
    }

    public mutating func restorePayload(_ payload: [UInt8]) throws(HLRError) {
        var reader = try TunerPayload.reader(payload, groups: groupCount)
        var next = try ArmijoTuner(groups: groupCount)
        next.options = try ArmijoOptions.decode(from: &reader, groups: groupCount)
        next.history = try UpdateHistory.decode(from: &reader)
        let hasCurrent = try reader.readBool("has_current")
        let current = try reader.readDouble("current")
        next.current = hasCurrent ? current : nil
        let hasSearch = try reader.readBool("has_search")
        let searchStep = try reader.readUInt64("search_step")
        let loss0 = try reader.readDouble("search_loss0")
        let slope = try reader.readDouble("search_slope")
        let trial = try reader.readDouble("search_trial")
        let backtracks = try reader.readUInt64("search_backtracks")
        let searchFlags = DecisionFlags(rawValue: try reader.readUInt32("search_flags"))
        next.lastSlope = try reader.readDoubles("last_slope", count: groupCount)
        next.lastFlags = DecisionFlags(rawValue: try reader.readUInt32("last_flags"))
        next.lastCandidate = try reader.readDouble("last_candidate")
        next.referenceLoss = try reader.readDouble("reference_loss")
        let lastBacktracks = try reader.readUInt64("last_backtracks")
        try reader.finish()
        let limit = UInt64(ArmijoOptions.maxBacktracksLimit)
        guard lastBacktracks <= UInt64(ArmijoOptions.maxBacktracksLimit) else {
            throw HLRError(.snapshotCorrupt, "snapshot holds \(lastBacktracks) backtracks, at most \(ArmijoOptions.maxBacktracksLimit)")
        }
        next.lastBacktracks = Int(lastBacktracks)
        let updates = next.history.updates
        guard hasCurrent == (updates > 0) else {
            throw HLRError(.snapshotCorrupt, "snapshot has \(updates) completed searches but \(hasCurrent ? "a" : "no") rate")
        }
        if hasCurrent && !(current.isFinite && current > 0 && current <= next.options.lrMax) {
            throw HLRError(
                .snapshotCorrupt,
                "snapshot holds an invalid learning rate \(current) (it must be finite, > 0 and "
                    + "<= its lr_max \(next.options.lrMax))")
        }
        if updates > 0 && next.history.lastStep == nil {
            throw HLRError(.snapshotCorrupt, "snapshot has completed searches but no last step")
        }
        if hasSearch {
            guard next.history.lastStep == searchStep, loss0.isFinite, slope.isFinite,
                trial.isFinite, trial > 0, trial <= next.options.lrMax, backtracks <= limit
            else {
                throw HLRError(
                    .snapshotCorrupt,
                    "snapshot holds an invalid search (step \(searchStep), L0 \(loss0), slope \(slope), "
                        + "trial \(trial), backtracks \(backtracks))")
            }
            next.search = Search(
                step: searchStep, loss0: loss0, slope: slope, trial: trial, backtracks: Int(backtracks),
                flags: searchFlags)
        }
        self = next
    }
}
