/// The self-contained, checksummed form of a schedule (`hlr_schedule_save` / `_restore`): the
/// `SnapshotContainer` framing of the tuner snapshots (`Snapshot`) with its own magic:
///
/// | offset | size | field                                             |
/// |--------|------|---------------------------------------------------|
/// | 0      | 4    | magic "HLSC"                                      |
/// | 4      | 2    | format version (`formatVersion`)                  |
/// | 6      | 2    | reserved, 0                                       |
/// | 8      | 8    | payload length L                                  |
/// | 16     | L    | the tree (`Schedule.encode(into:)`)               |
/// | 16 + L | 4    | CRC-32 of bytes [0, 16 + L)                       |
///
/// Opening checks, in order: length ≥ 16, magic, version (0 corrupt, newer `snapshotVersion`),
/// reserved = 0, exact total length, checksum, then decodes the whole payload.
public enum ScheduleSnapshot {
    /// The first four bytes of every schedule snapshot, "HLSC".
    public static let magic: [UInt8] = Array("HLSC".utf8)
    /// The format this library writes; it reads every version up to this one.
    public static let formatVersion: UInt16 = 1

    static let container = SnapshotContainer(
        magic: magic, formatVersion: formatVersion, oldestVersion: 1, noun: "schedule snapshot",
        namesChecksums: false)

    /// The complete snapshot of `schedule`: header, encoded tree, checksum.
    public static func seal(_ schedule: Schedule) -> [UInt8] {
        var payload = SnapshotWriter()
        schedule.encode(into: &payload)
        return container.seal(field: 0, payload: payload.bytes)
    }

    /// The number of bytes the schedule snapshot at the start of a caller's buffer declares
    /// (16 + L + 4); `header(offset)` returns the 16 bytes at `offset` or nil beyond the
    /// caller's size. nil: no length is declared (too short, wrong magic, overflow).
    public static func declaredLength(header: (Int) -> [UInt8]?) -> Int? {
        header(0).flatMap { container.declaredLength(header: $0)?.length }
    }

    /// Checks a complete snapshot (see the type's table for the order of the checks) and
    /// returns its schedule, re-validated as by the constructors; throws `snapshotCorrupt` or
    /// `snapshotVersion` and returns nothing on any defect.
    public static func open(_ bytes: [UInt8]) throws(HLRError) -> Schedule {
        let headerSize = SnapshotContainer.headerSize
        let trailerSize = SnapshotContainer.trailerSize
        let header = try container.header(of: bytes)
        guard header.field == 0 else {
            throw HLRError(.snapshotCorrupt, "schedule snapshot reserved field is \(header.field), expected 0")
        }
        let expected = UInt64(headerSize + trailerSize).addingReportingOverflow(header.payloadLength)
        guard !expected.overflow, expected.partialValue == UInt64(bytes.count) else {
            throw HLRError(
                .snapshotCorrupt,
                "schedule snapshot length \(bytes.count) does not match its header (payload \(header.payloadLength) bytes)")
        }
        let end = bytes.count - trailerSize
        try container.verifyChecksum(of: bytes, end: end)
        var reader = SnapshotReader(Array(bytes[headerSize..<end]))
        let schedule = try Schedule.decode(from: &reader)
        try reader.finish()
        return schedule
    }
}

extension Schedule {
    /// A complete, checksummed snapshot (`ScheduleSnapshot`).
    public func snapshot() -> [UInt8] { ScheduleSnapshot.seal(self) }

    /// The schedule of a snapshot; throws `snapshotCorrupt` / `snapshotVersion` on any defect.
    public init(snapshot bytes: [UInt8]) throws(HLRError) {
        self = try ScheduleSnapshot.open(bytes)
    }
}
