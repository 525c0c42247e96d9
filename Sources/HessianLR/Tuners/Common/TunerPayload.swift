/// The parts every tuner's snapshot payload shares (`Tuner.encodePayload`): it starts with the
/// group count (UInt64), which a restore compares with its own; the rates it holds are checked
/// the same way by every method.
enum TunerPayload {
    /// A writer holding the group count, ready for the method's fields.
    static func writer(groups: Int) -> SnapshotWriter {
        var writer = SnapshotWriter()
        writer.write(UInt64(groups))
        return writer
    }

    /// A reader past the group count, which must be `groups` (`snapshotMismatch` otherwise).
    static func reader(_ payload: [UInt8], groups: Int) throws(HLRError) -> SnapshotReader {
        var reader = SnapshotReader(payload)
        let stored = try reader.readUInt64("groups")
        guard stored == UInt64(groups) else {
            throw HLRError(.snapshotMismatch, "snapshot has \(stored) groups, this tuner has \(groups)")
        }
        return reader
    }

    /// Throws `snapshotCorrupt` unless the restored rate of `group` is finite and ≥ 0.
    static func requireValidRate(_ rate: Double, group: Int) throws(HLRError) {
        guard rate.isFinite && rate >= 0 else {
            throw HLRError(.snapshotCorrupt, "snapshot holds an invalid learning rate \(rate) for group \(group)")
        }
    }

    /// `requireValidRate` for every group, in order.
    static func requireValidRates(_ rates: [Double]) throws(HLRError) {
        for (group, rate) in rates.enumerated() { try requireValidRate(rate, group: group) }
    }
}
