/// The one observation/decision interface every learning-rate rule implements.
///
/// A trainer drives a tuner step by step (steps are 0-based optimizer steps and only increase):
///
/// 1. `wantsCurvature(atStep: t)`: should the trainer pay for curvature at step t? Only then
///    does it build the double-backward graph.
/// 2. If so, it measures the scalars of `observeCurvature` at the current weights and passes them.
/// 3. `learningRate(group:step:)` gives the rate to use for the update of step t.
///
/// Everything is value-typed: a throwing mutating call leaves the tuner exactly as it was.
public protocol Tuner: Sendable {
    var method: Method { get }
    var groupCount: Int { get }

    /// Number of doubles `observeCurvature` expects (2 per group for quadratic-model rules).
    var curvatureValueCount: Int { get }

    /// True when host mode needs the optimizer's update u as well as the gradient g.
    var usesUpdateDirection: Bool { get }

    /// True at the steps where the rule wants a curvature observation.
    func wantsCurvature(atStep step: UInt64) -> Bool

    /// Throws `wrongState`, saying why and which step is next, unless `step` wants curvature.
    func requireCurvatureStep(_ step: UInt64) throws(HLRError)

    /// Feeds the curvature observation of a step that wants one. For quadratic-model rules the
    /// layout is [gᵀd₀, dᵀHd₀, gᵀd₁, dᵀHd₁, …] (one pair per group).
    mutating func observeCurvature(step: UInt64, values: [Double]) throws(HLRError)

    /// The learning rate of `group` for the update at `step`.
    func learningRate(group: Int, step: UInt64) throws(HLRError) -> Double

    /// Sets an option for every group (`group == nil`) or, for group-scoped keys, one group.
    mutating func setParameter(_ key: ParameterKey, _ value: Double, group: Int?) throws(HLRError)

    func parameter(_ key: ParameterKey, group: Int) throws(HLRError) -> Double

    func info(_ key: InfoKey, group: Int) throws(HLRError) -> Double

    /// Forgets observations (`state`) and/or restores default options (`options`).
    mutating func reset(state: Bool, options: Bool)

    /// Options and state, for `Snapshot.seal`.
    func encodePayload() -> [UInt8]

    /// Replaces options and state with those of a payload written by `encodePayload` of the
    /// same method and group count; throws and changes nothing on any mismatch.
    mutating func restorePayload(_ payload: [UInt8]) throws(HLRError)
}

extension Tuner {
    /// A complete, checksummed snapshot of this tuner.
    public func snapshot() -> [UInt8] {
        Snapshot.seal(method: method, payload: encodePayload())
    }

    /// Restores from a complete snapshot; throws and changes nothing if it is corrupt, from a
    /// newer format, of another method or another group count.
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

/// Creates a tuner of `method` with default options.
public func makeTuner(method: Method, groups: Int) throws(HLRError) -> any Tuner {
    switch method {
    case .hessianLR: return try HessianLRTuner(groups: groups)
    }
}
