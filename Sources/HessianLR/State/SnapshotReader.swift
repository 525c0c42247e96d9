/// Reads the fields a `SnapshotWriter` wrote, in the same order. Every read checks the remaining
/// length first and throws `snapshotCorrupt` naming the field, so a truncated or crafted payload
/// can never read out of bounds.
public struct SnapshotReader: Sendable {
    private let bytes: [UInt8]
    public private(set) var offset: Int = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var remaining: Int { bytes.count - offset }

    public mutating func readUInt8(_ field: String) throws(HLRError) -> UInt8 {
        UInt8(try read(width: 1, field))
    }

    public mutating func readUInt16(_ field: String) throws(HLRError) -> UInt16 {
        UInt16(try read(width: 2, field))
    }

    public mutating func readUInt32(_ field: String) throws(HLRError) -> UInt32 {
        UInt32(try read(width: 4, field))
    }

    public mutating func readUInt64(_ field: String) throws(HLRError) -> UInt64 {
        try read(width: 8, field)
    }

    public mutating func readDouble(_ field: String) throws(HLRError) -> Double {
        Double(bitPattern: try read(width: 8, field))
    }

    public mutating func readBool(_ field: String) throws(HLRError) -> Bool {
        switch try readUInt8(field) {
        case 0: return false
        case 1: return true
        case let other:
            throw HLRError(.snapshotCorrupt, "snapshot field \(field) is not a boolean: \(other)")
        }
    }

    /// A length-prefixed array of doubles whose length must equal `count`.
    public mutating func readDoubles(_ field: String, count: Int) throws(HLRError) -> [Double] {
        let stored = try readUInt64(field + ".count")
        guard stored == UInt64(count) else {
            throw HLRError(
                .snapshotCorrupt, "snapshot field \(field) holds \(stored) values, expected \(count)")
        }
        var values: [Double] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try readDouble(field)) }
        return values
    }

    /// Throws unless every byte was consumed.
    public func finish() throws(HLRError) {
        guard remaining == 0 else {
            throw HLRError(.snapshotCorrupt, "snapshot payload has \(remaining) trailing bytes")
        }
    }

    private mutating func read(width: Int, _ field: String) throws(HLRError) -> UInt64 {
        guard remaining >= width else {
            throw HLRError(
                .snapshotCorrupt,
                "snapshot is truncated: field \(field) needs \(width) bytes at offset \(offset), "
                    + "\(remaining) left")
        }
        var value: UInt64 = 0
        for index in 0..<width {
            value |= UInt64(bytes[offset + index]) << (8 * UInt64(index))
        }
        offset += width
        return value
    }
}
