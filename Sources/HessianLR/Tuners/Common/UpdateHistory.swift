/// How many updates a tuner applied and the step it last observed: the bookkeeping behind
/// "steps must increase", `InfoKey.updates` and `InfoKey.lastStep`, and the first state fields
/// of every stateful tuner's payload.
///
/// An update is what the method counts (HessianLR, CDAT: curvature observations; GeN, Hi-DLR:
/// fits, accepted or rejected; Armijo: finished line searches). The counter saturates at
/// UInt64.max, so a counter restored from a crafted snapshot can never trap on overflow.
struct UpdateHistory: Sendable, Equatable {
    private(set) var updates: UInt64 = 0
    /// Step of the last applied observation, nil before the first.
    private(set) var lastStep: UInt64?

    /// Whether `step` is at or before the last observed step: steps must increase, so such a
    /// step needs nothing.
    func isStale(_ step: UInt64) -> Bool {
        guard let lastStep else { return false }
        return step <= lastStep
    }

    /// Records an observation at `step` (Armijo's slope, which starts a search).
    mutating func observe(step: UInt64) { lastStep = step }

    /// Counts one update (Armijo's finished search).
    mutating func countUpdate() { updates = updates == .max ? .max : updates + 1 }

    /// Records an observation at `step` that completed an update.
    mutating func recordUpdate(atStep step: UInt64) {
        countUpdate()
        observe(step: step)
    }

    /// `updates`, or `lastStep` (−1 before the first), for those two keys; nil for any other.
    func info(_ key: InfoKey) -> Double? {
        switch key {
        case .updates: return Double(updates)
        case .lastStep: return lastStep.map { Double($0) } ?? -1
        default: return nil
        }
    }

    /// Payload fields: updates (UInt64), has_last_step (Bool), last_step (UInt64, 0 when none).
    func encode(into writer: inout SnapshotWriter) {
        writer.write(updates)
        writer.write(lastStep != nil)
        writer.write(lastStep ?? 0)
    }

    /// Reads what `encode` wrote; the tuner checks how it fits the rest of its state.
    static func decode(from reader: inout SnapshotReader) throws(HLRError) -> UpdateHistory {
        var history = UpdateHistory()
        history.updates = try reader.readUInt64("updates")
        let hasLastStep = try reader.readBool("has_last_step")
        let step = try reader.readUInt64("last_step")
        history.lastStep = hasLastStep ? step : nil
        return history
    }

    /// The restore check of the methods whose every observation is an update (CDAT, GeN,
    /// Hi-DLR): a last step exactly when updates > 0, else `snapshotCorrupt`.
    func requireLastStepExactlyWhenUpdated() throws(HLRError) {
        let hasLastStep = lastStep != nil
        guard (updates > 0) == hasLastStep else {
            throw HLRError(
                .snapshotCorrupt, "snapshot has \(updates) updates but \(hasLastStep ? "a" : "no") last step")
        }
    }
}
