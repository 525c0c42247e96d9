/// Appends little-endian fields to a byte array: the payload of a snapshot. Doubles are stored
/// as their IEEE-754 bit patterns, so a restored value is bit-identical to the saved one.
public struct SnapshotWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    public mutating func write(_ value: UInt16) { append(UInt64(value), width: 2) }

    public mutating func write(_ value: UInt32) { append(UInt64(value), width: 4) }

    public mutating func write(_ value: UInt64) { append(value, width: 8) }

    public mutating func write(_ value: Double) { append(value.bitPattern, width: 8) }

    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// A length-prefixed array of doubles.
    public mutating func write(_ values: [Double]) {
        write(UInt64(values.count))
        for value in values { write(value) }
    }

    private mutating func append(_ value: UInt64, width: Int) {
        for index in 0..<width {
            bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))))
        }
    }
}
