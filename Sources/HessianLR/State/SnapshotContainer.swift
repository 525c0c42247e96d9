/// The checksummed framing shared by the tuner snapshot (`Snapshot`, magic "HLRS") and the
/// schedule snapshot (`ScheduleSnapshot`, magic "HLSC"). Layout (all integers little-endian):
///
/// | offset | size | field                                                       |
/// |--------|------|-------------------------------------------------------------|
/// | 0      | 4    | magic                                                       |
/// | 4      | 2    | format version                                              |
/// | 6      | 2    | header field, meaning the container's own (tuner: method id and flags; schedule: reserved, 0) |
/// | 8      | 8    | payload length L                                            |
/// | 16     | L    | payload                                                     |
/// | 16 + L | 4    | CRC-32 of bytes [0, 16 + L)                                 |
///
/// The containers check their bytes in their own order from these pieces: a minimum length,
/// then `header(of:)` (magic, version), then their header field, the total length and
/// `verifyChecksum(of:end:)`.
struct SnapshotContainer: Sendable {
    static let headerSize = 16
    static let trailerSize = 4

    /// The first four bytes.
    let magic: [UInt8]
    /// The format this library writes; it reads every version from `oldestVersion` up to this
    /// one.
    let formatVersion: UInt16
    /// The oldest format this library still reads (≥ 1); an older one is `snapshotVersion`.
    let oldestVersion: UInt16
    /// How messages name the container ("snapshot", "schedule snapshot").
    let noun: String
    /// Whether a checksum mismatch names the stored and the computed value.
    let namesChecksums: Bool

    /// The header after the magic.
    struct Header {
        let version: UInt16
        let field: UInt16
        let payloadLength: UInt64
    }

    /// Header, payload and checksum: a complete container.
    func seal(field: UInt16, payload: [UInt8]) -> [UInt8] {
        var header = SnapshotWriter()
        for byte in magic { header.write(byte) }
        header.write(formatVersion)
        header.write(field)
        header.write(UInt64(payload.count))
        var bytes = header.bytes + payload
        var trailer = SnapshotWriter()
        trailer.write(CRC32.checksum(bytes))
        bytes += trailer.bytes
        return bytes
    }

    /// The length (header + payload + CRC) that the 16 header bytes `header` declare for a
    /// container with this magic, and its header field; nil when the bytes are not this
    /// container's header (wrong magic, fewer than 16 bytes) or the length overflows `Int`.
    /// A reader of a caller's buffer uses it to take no byte beyond what the data declares.
    func declaredLength(header: [UInt8]) -> (length: Int, field: UInt16)? {
        guard header.count >= Self.headerSize, Array(header[0..<magic.count]) == magic else { return nil }
        var reader = SnapshotReader(Array(header[magic.count..<Self.headerSize]))
        guard (try? reader.readUInt16("version")) != nil,
            let field = try? reader.readUInt16("header field"),
            let payload = try? reader.readUInt64("payload length")
        else { return nil }
        let total = UInt64(Self.headerSize + Self.trailerSize).addingReportingOverflow(payload)
        guard !total.overflow, let length = Int(exactly: total.partialValue) else { return nil }
        return (length, field)
    }

    /// Checks that `bytes` hold at least a header, then its magic and its version: too short, a
    /// bad magic or version 0 is `snapshotCorrupt`, a version newer than `formatVersion` or older
    /// than `oldestVersion` `snapshotVersion`.
    func header(of bytes: [UInt8]) throws(HLRError) -> Header {
        guard bytes.count >= Self.headerSize else {
            throw HLRError(
                .snapshotCorrupt,
                "\(noun) is truncated: \(bytes.count) bytes, at least \(Self.headerSize + Self.trailerSize) needed")
        }
        guard Array(bytes[0..<magic.count]) == magic else {
            throw HLRError(.snapshotCorrupt, "not a libhessianlr \(noun) (bad magic)")
        }
        var reader = SnapshotReader(Array(bytes[magic.count..<Self.headerSize]))
        let version = try reader.readUInt16("version")
        let field = try reader.readUInt16("header field")
        let payloadLength = try reader.readUInt64("payload length")
        guard version != 0 else {
            throw HLRError(.snapshotCorrupt, "\(noun) format version 0 is invalid")
        }
        guard version <= formatVersion else {
            throw HLRError(
                .snapshotVersion,
                "\(noun) format version \(version) is newer than this library's \(formatVersion)")
        }
        guard version >= oldestVersion else {
            throw HLRError(
                .snapshotVersion,
                "\(noun) format version \(version) is older than the oldest this library reads (\(oldestVersion))")
        }
        return Header(version: version, field: field, payloadLength: payloadLength)
    }

    /// Checks the CRC-32 stored at `end` against the one of bytes [0, end).
    func verifyChecksum(of bytes: [UInt8], end: Int) throws(HLRError) {
        var trailer = SnapshotReader(Array(bytes[end..<(end + Self.trailerSize)]))
        let stored = try trailer.readUInt32("checksum")
        let computed = CRC32.checksum(bytes[0..<end])
        guard stored == computed else {
            let values = namesChecksums ? " (stored \(Self.hex(stored)), computed \(Self.hex(computed)))" : ""
            throw HLRError(.snapshotCorrupt, "\(noun) checksum mismatch\(values)")
        }
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
