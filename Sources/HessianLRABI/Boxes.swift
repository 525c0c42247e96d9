import HessianLR

/// What lives behind a C handle: a class the registry can hold and name in messages.
protocol HandleBox: AnyObject, Sendable {
    /// "tuner", "schedule", … for messages.
    static var kind: String { get }
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

    /// A copy of the tuner and its generation, for work done outside the lock.
    func checkout() -> (tuner: ScheduledTuner, generation: UInt64) {
        cell.withLock { ($0.tuner, $0.generation) }
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
