/// The one observation/decision interface every learning-rate rule implements.
///
/// A trainer drives a tuner step by step (steps are 0-based optimizer steps and only increase):
///
/// 1. `need(atStep: t)`: what must the trainer measure before the rates of step t are final?
///    Curvature (only then does it build the double-backward graph), forward losses at probe
///    points, or the loss and slope. Most steps need nothing.
/// 2. It measures that at the current weights and passes it to `observe(step:kind:values:)`;
///    a step may need several observations in turn (until `need` says `nothing`).
/// 3. `learningRate(group:step:)` gives the rate to use for the update of step t.
///
/// Everything is value-typed: a throwing mutating call leaves the tuner exactly as it was.
public protocol Tuner: Sendable {
    var method: Method { get }
    var groupCount: Int { get }

    /// True when host mode needs the optimizer's update u as well as the gradient g.
    var usesUpdateDirection: Bool { get }

    /// True when a diverged trial loss (NaN or ±Inf at a probe row with a non-zero step) is
    /// information the method's `observe` takes as +∞ (a bracket search: that step is simply
    /// too long); false when the step driver reports such an observation with `observeFailure`.
    var acceptsDivergedTrials: Bool { get }

    /// What the tuner needs next at `step` (`nothing` for steps before the last observed one).
    func need(atStep step: UInt64) -> Need

    /// Throws `wrongState`, saying why and what is needed instead, unless `need(atStep: step)`
    /// is of `kind`.
    func requireObservation(_ kind: ObservationKind, atStep step: UInt64) throws(HLRError)

    /// Feeds an observation of the kind `need(atStep: step)` asked for, with
    /// `need(atStep: step).valueCount(groups:)` values (layouts in `ObservationKind`).
    mutating func observe(step: UInt64, kind: ObservationKind, values: [Double]) throws(HLRError)

    /// The caller could not measure the losses `need(atStep: step)` asks for (a probe or trial
    /// loss was NaN or ±Inf, or its forward pass failed): the reference GeN's failure path.
    /// GeN and Hi-DLR: the fit failed, every rate × fit_failure_decay (clamped), flagged
    /// `fitRejected` + `observationFailed`, counted as an update. Armijo: the trial rate fails
    /// the sufficient-decrease test (the search backtracks, or gives up at max_backtracks).
    /// Throws `wrongState`, changing nothing, unless the step needs losses (a curvature or slope
    /// observation has no failure rule: skip the observation and the rates stay as they are).
    mutating func observeFailure(step: UInt64) throws(HLRError)

    /// The learning rate of `group` for the update at `step`.
    func learningRate(group: Int, step: UInt64) throws(HLRError) -> Double

    /// The first step after `step` at which the need or the rates may differ from those at
    /// `step`, provided nothing is observed, set, reset or restored in between (`UInt64.max`:
    /// never): for every t with step < t < steadyUntil(step: step), `need(atStep: t)` is
    /// `nothing` and `learningRates(step: t) == learningRates(step: step)`. `step + 1` (no
    /// promise) when `step` itself needs an observation. A binding that keeps the rates skips the
    /// library on the steps between (`hlr_tuner_plan`).
    func steadyUntil(step: UInt64) -> UInt64

    /// Sets an option for every group (`group == nil`) or, for group-scoped keys, one group.
    mutating func setParameter(_ key: ParameterKey, _ value: Double, group: Int?) throws(HLRError)

    /// Sets several options at once, the cross-constraints checked on the result only (so any
    /// order works, e.g. moving [lr_min, lr_max] past its current bounds); all or nothing.
    mutating func setParameters(_ settings: [ParameterSetting]) throws(HLRError)

    func parameter(_ key: ParameterKey, group: Int) throws(HLRError) -> Double

    func info(_ key: InfoKey, group: Int) throws(HLRError) -> Double

    /// Forgets observations (`state`) and/or restores default options (`options`).
    mutating func reset(state: Bool, options: Bool)

    /// Options and state, for `Snapshot.seal`.
    func encodePayload() -> [UInt8]

    /// Replaces options and state with those of a payload written by `encodePayload` of the
    /// same method and group count; throws and changes nothing on any mismatch.
    mutating func restorePayload(_ payload: [UInt8]) throws(HLRError)

    /// A complete, checksummed snapshot (default: `Snapshot.seal` of `encodePayload()`).
    func snapshot() -> [UInt8]

    /// Restores from a complete snapshot; throws and changes nothing if it is corrupt, from a
    /// newer format, of another method or another group count.
    mutating func restore(snapshot bytes: [UInt8]) throws(HLRError)
}

extension Tuner {
    /// True at the steps whose next need is a curvature observation.
    public func wantsCurvature(atStep step: UInt64) -> Bool { need(atStep: step) == .curvature }

    /// `requireObservation(.curvature, atStep:)`.
    public func requireCurvatureStep(_ step: UInt64) throws(HLRError) {
        try requireObservation(.curvature, atStep: step)
    }

    /// Number of doubles a curvature observation carries: 2 per group.
    public var curvatureValueCount: Int { 2 * groupCount }

    /// `observe(step:kind: .curvature, values:)`: [gᵀd₀, dᵀHd₀, gᵀd₁, dᵀHd₁, …].
    public mutating func observeCurvature(step: UInt64, values: [Double]) throws(HLRError) {
        try observe(step: step, kind: .curvature, values: values)
    }

    /// Checks that `values` has the count `need` implies, naming both on failure.
    public func checkValueCount(_ values: [Double], for need: Need) throws(HLRError) {
        let expected = need.valueCount(groups: groupCount)
        guard values.count == expected else {
            throw .invalid(
                "expected \(expected) \(need.kind?.name ?? "") values for \(groupCount) groups, got \(values.count)")
        }
    }

    public func snapshot() -> [UInt8] {
        Snapshot.seal(method: method, payload: encodePayload())
    }

    public mutating func restore(snapshot bytes: [UInt8]) throws(HLRError) {
        let (snapshotMethod, payload) = try Snapshot.open(bytes)
        guard snapshotMethod == method else {
            throw HLRError(
                .snapshotMismatch,
                "snapshot is of method \(snapshotMethod.name), this tuner is \(method.name)")
        }
        try restorePayload(payload)
    }

    /// Learning rates of all groups at `step`.
    public func learningRates(step: UInt64) -> [Double] {
        (0..<groupCount).map { group in (try? learningRate(group: group, step: step)) ?? .nan }
    }

    /// Checks a group index, naming it and the group count on failure.
    public func checkGroup(_ group: Int) throws(HLRError) {
        guard group >= 0 && group < groupCount else {
            throw .invalid("group \(group) is out of range: the tuner has \(groupCount) groups")
        }
    }
}

/// Creates a tuner of `method` with default options (a `RuleTuner` of `method.rule`).
public func makeTuner(method: Method, groups: Int) throws(HLRError) -> any Tuner {
    try method.rule.makeTuner(groups: groups)
}
