import HessianLR

/// What lives behind a C handle: a class the registry can hold and name in messages.
protocol HandleBox: AnyObject, Sendable {
    /// "tuner", "schedule", … for messages.
    static var kind: String { get }
}

extension HandleBox {
    /// "a" or "an" before `kind` in messages.
    static var article: String { kind.first.map { "aeiou".contains($0) } == true ? "an" : "a" }
}

/// One live tuner (always a `ScheduledTuner`, with or without a base schedule). The lock
/// serialises calls on the same handle from several threads; different handles never contend
/// on it. `generation` counts mutations, so work done outside the lock (host steps that call
/// back into the caller) can commit only if nothing changed the tuner meanwhile.
final class TunerBox: HandleBox {
    static let kind = "tuner"

    private struct Cell: Sendable {
        var tuner: ScheduledTuner
        var generation: UInt64 = 0
    }

    private let cell: Locked<Cell>

    init(_ tuner: ScheduledTuner) { cell = Locked(Cell(tuner: tuner)) }

    /// Runs a read-only body under the lock.
    func read<R, E: Error>(_ body: (ScheduledTuner) throws(E) -> R) throws(E) -> R {
        try cell.withLock { (cell) throws(E) -> R in try body(cell.tuner) }
    }

    /// Runs a mutating body under the lock; the generation advances only when the body
    /// succeeds (a throwing body leaves the tuner unchanged, so nothing was modified).
    func mutate<R, E: Error>(_ body: (inout ScheduledTuner) throws(E) -> R) throws(E) -> R {
        try cell.withLock { (cell) throws(E) -> R in
            let result = try body(&cell.tuner)
            cell.generation &+= 1
            return result
        }
    }

    /// A copy of the tuner and its generation, for work done outside the lock (host-mode steps
    /// that call back into the caller). The copy shares no storage with the stored tuner: it is
    /// rebuilt from the tuner's snapshot (taken under the lock), so nothing this thread reads or
    /// writes while the lock is not held can be memory another thread mutates in place under it.
    /// A plain copy would be safe too (copy-on-write), but its synchronisation lives in the
    /// reference counts of the statically linked, uninstrumented Swift runtime, which
    /// ThreadSanitizer cannot see; it reported such a copy as a race (test_threads, one-handle
    /// hammer, an observe_host copy read while set_param mutated the shared storage).
    func checkout() throws(HLRError) -> (tuner: ScheduledTuner, generation: UInt64) {
        let (bytes, method, groups, generation) = cell.withLock {
            ($0.tuner.snapshot(), $0.tuner.method, $0.tuner.groupCount, $0.generation)
        }
        var tuner = ScheduledTuner(base: try makeTuner(method: method, groups: groups))
        try tuner.restore(snapshot: bytes)
        return (tuner, generation)
    }

    /// Replaces the tuner with `tuner` if no mutation happened since `checkout`; otherwise
    /// `HLR_ERR_WRONG_STATE` and nothing changes.
    func commit(_ tuner: ScheduledTuner, ifGeneration generation: UInt64) throws(ABIError) {
        try cell.withLock { (cell) throws(ABIError) in
            guard cell.generation == generation else {
                throw ABIError(
                    Status.wrongState,
                    "the tuner was changed by another call while this step ran its callbacks; nothing was applied")
            }
            cell.tuner = tuner
            cell.generation &+= 1
        }
    }
}

/// One live schedule definition.
final class ScheduleBox: HandleBox {
    static let kind = "schedule"

    private let cell: Locked<Schedule>

    init(_ schedule: Schedule) { cell = Locked(schedule) }

    func read<R, E: Error>(_ body: (Schedule) throws(E) -> R) throws(E) -> R {
        try cell.withLock { (schedule) throws(E) -> R in try body(schedule) }
    }

    func mutate<R, E: Error>(_ body: (inout Schedule) throws(E) -> R) throws(E) -> R {
        try cell.withLock { (schedule) throws(E) -> R in try body(&schedule) }
    }
}

/// One live estimator: its configuration and the results of its last successful run. Runs call
/// back into the caller outside the lock (on a copy of the configuration) and store their results
/// under it.
final class EstimatorBox: HandleBox {
    static let kind = "estimator"

    private let cell: Locked<EstimatorState>

    init(_ config: EstimatorConfig) { cell = Locked(EstimatorState(config: config)) }

    func read<R, E: Error>(_ body: (EstimatorState) throws(E) -> R) throws(E) -> R {
        try cell.withLock { (state) throws(E) -> R in try body(state) }
    }

    func mutate<R, E: Error>(_ body: (inout EstimatorState) throws(E) -> R) throws(E) -> R {
        try cell.withLock { (state) throws(E) -> R in try body(&state) }
    }
}
