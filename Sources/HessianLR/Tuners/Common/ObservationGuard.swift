/// The checks every tuner runs before an observation touches its state, with messages that say
/// what was wrong and what is needed instead.
enum ObservationGuard {
    /// Throws `wrongState` unless `need` (what the tuner needs at `step`) is of `kind`.
    ///
    /// - Parameters:
    ///   - lastStep: the last step an observation was applied at (steps must increase).
    ///   - schedule: how the method schedules its updates, e.g. "update_period 4".
    ///   - nextStep: the next step that will need something, nil when none fits in a UInt64.
    static func require(
        _ kind: ObservationKind, step: UInt64, need: Need, method: Method, lastStep: UInt64?,
        schedule: String, nextStep: UInt64?
    ) throws(HLRError) {
        if let needed = need.kind {
            if needed == kind { return }
            throw HLRError(
                .wrongState, "\(method.name) needs \(needed.name) at step \(step), not \(kind.name)")
        }
        if let lastStep, step <= lastStep {
            throw HLRError(
                .wrongState,
                "step \(step) needs nothing: steps must increase and step \(lastStep) was already observed")
        }
        throw HLRError(
            .wrongState,
            "step \(step) needs nothing (\(schedule)): the next update step is "
                + (nextStep.map { "\($0)" } ?? "beyond 2^64 − 1"))
    }

    /// `Tuner.observeFailure` of a method that never needs losses: always throws `wrongState`,
    /// saying what the step needs instead (or that it needs nothing).
    static func refuseFailure(of tuner: some Tuner, step: UInt64) throws(HLRError) {
        try tuner.requireObservation(.losses, atStep: step)
        throw HLRError(.wrongState, "\(tuner.method.name) has no failed-observation rule")
    }

    /// Throws `invalidArgument` unless `values` has the count `need` implies.
    static func requireCount(_ values: [Double], need: Need, groups: Int, layout: String) throws(HLRError) {
        let expected = need.valueCount(groups: groups)
        guard values.count == expected else {
            throw .invalid("expected \(expected) \(need.kind?.name ?? "") values (\(layout)), got \(values.count)")
        }
    }

    /// Throws `nonFinite` naming the first NaN or ±Inf value.
    static func requireFinite(_ values: [Double], name: (Int) -> String) throws(HLRError) {
        for (index, value) in values.enumerated() where !value.isFinite {
            throw HLRError(.nonFinite, "\(name(index)) is not finite: \(value)")
        }
    }
}
