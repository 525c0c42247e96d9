/// The self-contained, checksummed form of a schedule (`hlr_schedule_save` / `_restore`),
/// laid out like the tuner snapshots of `Snapshot` but with its own magic:
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
/// Opening checks, in order: length ≥ 20, magic, version (0 corrupt, newer `snapshotVersion`),
/// reserved = 0, exact total length, checksum, then decodes the whole payload.
public enum ScheduleSnapshot {
    /// The first four bytes of every schedule snapshot, "HLSC".
    public static let magic: [UInt8] = Array("HLSC".utf8)
    /// The format this library writes; it reads every version up to this one.
    public static let formatVersion: UInt16 = 1
    static let headerSize = 16
    static let trailerSize = 4

    /// The complete snapshot of `schedule`: header, encoded tree, checksum.
    public static func seal(_ schedule: Schedule) -> [UInt8] {
        var payload = SnapshotWriter()
        schedule.encode(into: &payload)
        var header = SnapshotWriter()
        for byte in magic { header.write(byte) }
        header.write(formatVersion)
        header.write(UInt16(0))
        header.write(UInt64(payload.bytes.count))
        var bytes = header.bytes + payload.bytes
        var trailer = SnapshotWriter()
        trailer.write(CRC32.checksum(bytes))
        bytes += trailer.bytes
        return bytes
    }

    /// Checks a complete snapshot (see the type's table for the order of the checks) and
    /// returns its schedule, re-validated as by the constructors; throws `snapshotCorrupt` or
    /// `snapshotVersion` and returns nothing on any defect.
    public static func open(_ bytes: [UInt8]) throws(HLRError) -> Schedule {
        guard bytes.count >= headerSize + trailerSize else {
            throw HLRError(
                .snapshotCorrupt,
                "schedule snapshot is truncated: \(bytes.count) bytes, at least "
                    + "\(headerSize + trailerSize) needed")
        }
        guard Array(bytes[0..<4]) == magic else {
            throw HLRError(.snapshotCorrupt, "not a libhessianlr schedule snapshot (bad magic)")
        }
        var header = SnapshotReader(Array(bytes[4..<headerSize]))
        let version = try header.readUInt16("version")
        let reserved = try header.readUInt16("reserved")
        let length = try header.readUInt64("payload length")
        guard version != 0 else {
            throw HLRError(.snapshotCorrupt, "schedule snapshot format version 0 is invalid")
        }
        guard version <= formatVersion else {
            throw HLRError(
                .snapshotVersion,
                "schedule snapshot format version \(version) is newer than this library's \(formatVersion)")
        }
        guard reserved == 0 else {
            throw HLRError(.snapshotCorrupt, "schedule snapshot reserved field is \(reserved), expected 0")
        }
        let expected = UInt64(headerSize + trailerSize).addingReportingOverflow(length)
        guard !expected.overflow, expected.partialValue == UInt64(bytes.count) else {
            throw HLRError(
                .snapshotCorrupt,
                "schedule snapshot length \(bytes.count) does not match its header (payload \(length) bytes)")
        }
        let end = bytes.count - trailerSize
        var trailer = SnapshotReader(Array(bytes[end...]))
        let stored = try trailer.readUInt32("checksum")
        guard stored == CRC32.checksum(bytes[0..<end]) else {
            throw HLRError(.snapshotCorrupt, "schedule snapshot checksum mismatch")
        }
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
