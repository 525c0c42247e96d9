/// The lazy update schedule of CDAT, GeN and Hi-DLR: an observation is wanted at the steps
/// t ≥ 0 with t mod P = 0 (P = update_period) that come after the last observed step, so the
/// first update is at step 0 and later ones every P steps.
struct PeriodicSchedule: Sendable {
    let period: UInt64

    func isScheduled(_ step: UInt64) -> Bool { step % period == 0 }

    /// The first scheduled step ≥ `step`, or nil when it would not fit in a UInt64.
    func next(from step: UInt64) -> UInt64? {
        let offset = step % period
        if offset == 0 { return step }
        let (next, overflow) = step.addingReportingOverflow(period - offset)
        return overflow ? nil : next
    }

    /// The first scheduled step after `lastStep` (from 0 when nothing was observed).
    func next(after lastStep: UInt64?) -> UInt64? {
        guard let lastStep else { return next(from: 0) }
        guard lastStep < .max else { return nil }
        return next(from: lastStep + 1)
    }
}
