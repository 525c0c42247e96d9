/// The versioned, checksummed container of every saved tuner state.
///
/// Layout (all integers little-endian):
///
/// | offset    | size | field                                                  |
/// |-----------|------|--------------------------------------------------------|
/// | 0         | 4    | magic "HLRS"                                           |
/// | 4         | 2    | format version (`formatVersion`)                       |
/// | 6         | 2    | method id (`Method.rawValue`) | 0x8000 if a schedule follows |
/// | 8         | 8    | payload length L                                       |
/// | 16        | L    | payload, written by the method (`SnapshotWriter`)      |
/// | 16 + L    | 4    | CRC-32 of bytes [0, 16 + L)                            |
///
/// The framing is `SnapshotContainer`'s. `open` checks, in this order: length ≥ header, magic,
/// version (0 is corrupt, any other than `formatVersion` is `snapshotVersion`), exact total length,
/// checksum, known method.
///
/// A tuner with a base schedule (`ScheduledTuner`) sets bit 15 of the method field and appends
/// the schedule's own container (`ScheduleSnapshot`) after the CRC; the bit is covered by the
/// CRC, so cutting the schedule off is detected.
public enum Snapshot {
    public static let magic: [UInt8] = [0x48, 0x4C, 0x52, 0x53]  // "HLRS"
    /// 2: every method's options in the order of its options table (version 1, refused since,
    /// wrote HessianLR's options in a layout of their own).
    public static let formatVersion: UInt16 = 2
    public static let headerSize = SnapshotContainer.headerSize
    public static let trailerSize = SnapshotContainer.trailerSize
    /// Bit of the method field announcing a schedule container after this one.
    public static let scheduleFollows: UInt16 = 0x8000

    static let container = SnapshotContainer(
        magic: magic, formatVersion: formatVersion, oldestVersion: formatVersion, noun: "snapshot",
        namesChecksums: true)

    /// Wraps a method's payload into a complete snapshot.
    public static func seal(method: Method, payload: [UInt8], scheduleFollows: Bool = false) -> [UInt8] {
        container.seal(
            field: UInt16(method.rawValue) | (scheduleFollows ? Self.scheduleFollows : 0), payload: payload)
    }

    /// The number of bytes the snapshot at the start of a caller's buffer declares: its own
    /// container (16 + L + 4) plus, when bit 15 of its method field says so, the schedule
    /// container after it (`ScheduleSnapshot.declaredLength`). `header(offset)` returns the 16
    /// bytes at `offset`, or nil where they lie beyond what the caller passed; a schedule header
    /// beyond it declares nothing more (the snapshot is then reported truncated). nil: the first
    /// header declares no length (too short, wrong magic, overflow); read only the header.
    public static func declaredLength(header: (Int) -> [UInt8]?) -> Int? {
        guard let first = header(0), let own = container.declaredLength(header: first) else { return nil }
        guard own.field & scheduleFollows != 0,
            let scheduleLength = ScheduleSnapshot.declaredLength(header: { header(own.length + $0) })
        else { return own.length }
        let total = own.length.addingReportingOverflow(scheduleLength)
        return total.overflow ? own.length : total.partialValue
    }

    /// Validates a complete snapshot and returns its method and payload.
    public static func open(_ bytes: [UInt8]) throws(HLRError) -> (method: Method, payload: [UInt8]) {
        let (method, payload, consumed, followed) = try openPrefix(bytes)
        guard !followed else {
            throw HLRError(
                .snapshotMismatch,
                "snapshot carries a base schedule; restore it into a tuner handle (ScheduledTuner)")
        }
        guard consumed == bytes.count else {
            throw HLRError(
                .snapshotCorrupt,
                "snapshot length \(bytes.count) does not match its header (payload \(payload.count) bytes)")
        }
        return (method, payload)
    }

    /// Validates the snapshot at the start of `bytes` and returns its method, its payload and
    /// how many bytes it occupies (16 + L + 4), and whether its header announces a schedule
    /// container after it; whatever follows is the caller's business.
    public static func openPrefix(_ bytes: [UInt8]) throws(HLRError) -> (
        method: Method, payload: [UInt8], consumed: Int, scheduleFollows: Bool
    ) {
        let header = try container.header(of: bytes)
        let methodID = header.field & ~scheduleFollows
        let total = UInt64(headerSize + trailerSize).addingReportingOverflow(header.payloadLength)
        guard !total.overflow, total.partialValue <= UInt64(bytes.count) else {
            throw HLRError(
                .snapshotCorrupt,
                "snapshot is truncated: its header announces a \(header.payloadLength)-byte payload, "
                    + "\(bytes.count) bytes in all")
        }
        let end = Int(total.partialValue) - trailerSize
        try container.verifyChecksum(of: bytes, end: end)
        guard let method = Method(rawValue: Int(methodID)) else {
            throw HLRError(.snapshotMismatch, "snapshot of unknown method id \(methodID)")
        }
        return (method, Array(bytes[headerSize..<end]), end + trailerSize, header.field & scheduleFollows != 0)
    }
}
