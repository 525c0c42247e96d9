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
public typealias ArmijoTuner = RuleTuner<ArmijoRule>

/// Armijo's state: the rate in use, the unfinished search and what the last search saw.
public struct ArmijoState: TunerState {
    typealias Search = ArmijoRule.Search

    /// The last accepted (or capped) rate, nil before any search finished.
    var current: Double?
    var search: Search?
    var lastSlope: [Double]
    var lastFlags: DecisionFlags = []
    var lastCandidate = Double.nan
    var referenceLoss = Double.nan
    var lastBacktracks: UInt64 = 0

    public init(groups: Int) {
        lastSlope = Array(repeating: .nan, count: groups)
    }

    /// Payload fields: has_current, current, has_search, the search (step, L0, slope, trial,
    /// backtracks, flags; zeros when none), last_slope (K doubles), last_flags, last_candidate,
    /// reference_loss, last_backtracks.
    public func encode(into writer: inout SnapshotWriter) {
        writer.write(current != nil)
        writer.write(current ?? 0)
        writer.write(search != nil)
        writer.write(search?.step ?? 0)
        writer.write(search?.loss0 ?? 0)
        writer.write(search?.slope ?? 0)
        writer.write(search?.trial ?? 0)
        writer.write(search?.backtracks ?? 0)
        writer.write(search?.flags.rawValue ?? 0)
        writer.write(lastSlope)
        writer.write(lastFlags.rawValue)
        writer.write(lastCandidate)
        writer.write(referenceLoss)
        writer.write(lastBacktracks)
    }

    /// Reads what `encode` wrote; `ArmijoRule.checkRestored` validates it.
    public static func decode(from reader: inout SnapshotReader, groups: Int) throws(HLRError) -> Self {
        var state = Self(groups: groups)
        let hasCurrent = try reader.readBool("has_current")
        let current = try reader.readDouble("current")
        state.current = hasCurrent ? current : nil
        let hasSearch = try reader.readBool("has_search")
        let search = Search(
            step: try reader.readUInt64("search_step"), loss0: try reader.readDouble("search_loss0"),
            slope: try reader.readDouble("search_slope"), trial: try reader.readDouble("search_trial"),
            backtracks: try reader.readUInt64("search_backtracks"),
            flags: DecisionFlags(rawValue: try reader.readUInt32("search_flags")))
        state.search = hasSearch ? search : nil
        state.lastSlope = try reader.readDoubles("last_slope", count: groups)
        state.lastFlags = DecisionFlags(rawValue: try reader.readUInt32("last_flags"))
        state.lastCandidate = try reader.readDouble("last_candidate")
        state.referenceLoss = try reader.readDouble("reference_loss")
        state.lastBacktracks = try reader.readUInt64("last_backtracks")
        return state
    }

    /// One trial of the active search: backtrack, or end the search with its rate (counted in
    /// `history` as an update).
    mutating func judgeTrial(
        loss: Double, failed: Bool, options: ArmijoOptions, history: inout UpdateHistory
    ) {
        guard var active = search else { return }  // unreachable: the need was losses
        let verdict = ArmijoRule.judge(
            loss0: active.loss0, slope: active.slope, rate: active.trial, trialLoss: loss,
            backtracks: Int(active.backtracks), options: options)
        lastCandidate = active.trial
        if failed { active.flags.insert(.observationFailed) }
        switch verdict {
        case .backtrack(let smaller):
            active.trial = smaller
            active.backtracks += 1
            search = active
        case .accept(let rate), .giveUp(let rate):
            var flags = active.flags
            if case .giveUp = verdict { flags.insert(.backtrackLimit) }
            current = rate
            history.countUpdate()
            lastFlags = flags
            lastBacktracks = active.backtracks
            search = nil
        }
    }
}

extension ArmijoRule: TuningRule {
    public typealias Options = ArmijoOptions
    public typealias State = ArmijoState

    public static func need(atStep step: UInt64, of tuner: ArmijoTuner) -> Need {
        if let search = tuner.state.search, search.step == step {
            return .losses(probes: [Array(repeating: search.trial, count: tuner.groupCount)])
        }
        if tuner.history.isStale(step) { return .nothing }
        return .slope
    }

    public static func requireObservation(
        _ kind: ObservationKind, atStep step: UInt64, of tuner: ArmijoTuner
    ) throws(HLRError) {
        try ObservationGuard.require(
            kind, step: step, need: need(atStep: step, of: tuner), method: .armijo,
            lastStep: tuner.history.lastStep, schedule: "every step searches", nextStep: step)
    }

    public static func observe(
        step: UInt64, kind: ObservationKind, values: [Double], into tuner: inout ArmijoTuner
    ) throws(HLRError) {
        let need = need(atStep: step, of: tuner)
        try requireObservation(kind, atStep: step, of: tuner)
        let groups = tuner.groupCount
        switch kind {
        case .slope:
            try ObservationGuard.requireCount(
                values, need: need, groups: groups, layout: "L(w), then gᵀd for each of \(groups) groups")
            try ObservationGuard.requireFinite(values) { $0 == 0 ? "L(w)" : "gᵀd of group \($0 - 1)" }
            tuner.state.search = try startSearch(
                step: step, loss0: values[0], slopes: values[1...], previous: tuner.state.current,
                options: tuner.options)
            tuner.history.observe(step: step)
            tuner.state.lastSlope = Array(values[1...])
            tuner.state.referenceLoss = values[0]
        case .losses:
            try ObservationGuard.requireCount(
                values, need: need, groups: groups, layout: "the loss at the trial rate")
            try ObservationGuard.requireFinite(values) { _ in "the trial loss" }
            tuner.state.judgeTrial(loss: values[0], failed: false, options: tuner.options, history: &tuner.history)
        case .curvature:
            return  // unreachable: requireObservation refused it
        }
    }

    /// The trial loss could not be measured (see `Tuner.observeFailure`): the trial fails the
    /// sufficient-decrease test as if its loss were +∞ (flag `observationFailed` on the
    /// search's outcome).
    public static func observeFailure(step: UInt64, into tuner: inout ArmijoTuner) throws(HLRError) {
        try requireObservation(.losses, atStep: step, of: tuner)
        tuner.state.judgeTrial(loss: .infinity, failed: true, options: tuner.options, history: &tuner.history)
    }

    public static func rate(group: Int, step: UInt64, of tuner: ArmijoTuner) -> Double { tuner.rate }

    /// A lowered lr_max applies at once: the rate in use and the trial of an unfinished search
    /// are capped to it, so every state keeps rate, trial ≤ lr_max (which `checkRestored`
    /// checks). A lowered max_backtracks ends a search that has already made more decreases at
    /// its next failed trial (`ArmijoRule.judge`).
    public static func optionsChanged(_ tuner: inout ArmijoTuner) {
        let lrMax = tuner.options.lrMax
        tuner.state.current = tuner.state.current.map { Swift.min($0, lrMax) }
        if var active = tuner.state.search {
            active.trial = Swift.min(active.trial, lrMax)
            tuner.state.search = active
        }
    }

    /// The step of the search under way, else the step after the last observed one (a search
    /// every step).
    public static func nextObservationStep(of tuner: ArmijoTuner) -> UInt64? {
        if let search = tuner.state.search { return search.step }
        guard let lastStep = tuner.history.lastStep else { return 0 }
        return lastStep == .max ? nil : lastStep + 1
    }

    public static func info(_ key: InfoKey, group: Int, of tuner: ArmijoTuner) -> Double? {
        let state = tuner.state
        switch key {
        case .nextCurvatureStep: return -1
        case .lastCandidate: return state.lastCandidate
        case .lastFlags: return Double(state.lastFlags.rawValue)
        case .lastSlope: return state.lastSlope[group]
        case .backtracks: return Double(state.search?.backtracks ?? state.lastBacktracks)
        case .trialLR: return state.search?.trial ?? .nan
        case .referenceLoss: return state.referenceLoss
        default: return nil
        }
    }

    /// Backtrack counts within the limit, a rate exactly when a search finished (finite, > 0,
    /// ≤ lr_max), a last step once updated, and a search (if any) at the last step with finite
    /// values and a trial in (0, lr_max].
    public static func checkRestored(_ tuner: ArmijoTuner) throws(HLRError) {
        let state = tuner.state
        let options = tuner.options
        let limit = UInt64(ArmijoOptions.maxBacktracksLimit)
        guard state.lastBacktracks <= limit else {
            throw HLRError(
                .snapshotCorrupt,
                "snapshot holds \(state.lastBacktracks) backtracks, at most \(ArmijoOptions.maxBacktracksLimit)")
        }
        let updates = tuner.history.updates
        let hasCurrent = state.current != nil
        guard hasCurrent == (updates > 0) else {
            throw HLRError(.snapshotCorrupt, "snapshot has \(updates) completed searches but \(hasCurrent ? "a" : "no") rate")
        }
        if let current = state.current, !(current.isFinite && current > 0 && current <= options.lrMax) {
            throw HLRError(
                .snapshotCorrupt,
                "snapshot holds an invalid learning rate \(current) (it must be finite, > 0 and "
                    + "<= its lr_max \(options.lrMax))")
        }
        if updates > 0 && tuner.history.lastStep == nil {
            throw HLRError(.snapshotCorrupt, "snapshot has completed searches but no last step")
        }
        if let search = state.search {
            guard tuner.history.lastStep == search.step, search.loss0.isFinite, search.slope.isFinite,
                search.trial.isFinite, search.trial > 0, search.trial <= options.lrMax, search.backtracks <= limit
            else {
                throw HLRError(
                    .snapshotCorrupt,
                    "snapshot holds an invalid search (step \(search.step), L0 \(search.loss0), slope \(search.slope), "
                        + "trial \(search.trial), backtracks \(search.backtracks))")
            }
        }
    }
}

extension RuleTuner where Rule == ArmijoRule {
    /// The rate in use: the last accepted (or capped) rate, min(initial_lr, lr_max) before any.
    public var rate: Double { state.current ?? ArmijoRule.firstTrial(previous: nil, options: options) }
}
