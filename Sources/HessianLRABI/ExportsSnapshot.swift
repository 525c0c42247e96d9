import HessianLR

// Snapshots: query the size, save into the caller's buffer, restore.

@_cdecl("hlr_tuner_snapshot_size")
public func hlr_tuner_snapshot_size(_ handle: OpaquePointer?, _ size: UnsafeMutablePointer<UInt>?) -> Int32 {
    exported("hlr_tuner_snapshot_size") {
        let box = try Registry.lookup(handle)
        try Arguments.pointer(size, "size").pointee = UInt(box.read { $0.snapshot().count })
    }
}

@_cdecl("hlr_tuner_save")
public func hlr_tuner_save(
    _ handle: OpaquePointer?, _ buffer: UnsafeMutableRawPointer?, _ capacity: UInt,
    _ written: UnsafeMutablePointer<UInt>?
) -> Int32 {
    exported("hlr_tuner_save") {
        let box = try Registry.lookup(handle)
        try writeBlob(box.read { $0.snapshot() }, into: buffer, capacity: capacity, written: written)
    }
}

@_cdecl("hlr_tuner_restore")
public func hlr_tuner_restore(
    _ handle: OpaquePointer?, _ buffer: UnsafeRawPointer?, _ size: UInt
) -> Int32 {
    exported("hlr_tuner_restore") {
        let box = try Registry.lookup(handle)
        let bytes = try readTunerBlob(buffer, size)
        try box.mutate { (tuner) throws(HLRError) in
            try tuner.restore(snapshot: bytes)
        }
    }
}

/// Copies a snapshot into the caller's buffer (NULL is refused, naming `buffer`); *written
/// receives its size, also when the buffer is too small (HLR_ERR_BUFFER_TOO_SMALL).
func writeBlob(
    _ bytes: [UInt8], into buffer: UnsafeMutableRawPointer?, capacity: UInt,
    written: UnsafeMutablePointer<UInt>?
) throws(ABIError) {
    let buffer = try Arguments.pointer(buffer, "buffer")
    written?.pointee = UInt(bytes.count)
    guard UInt(bytes.count) <= capacity else {
        throw ABIError(
            Status.bufferTooSmall,
            "capacity \(capacity) is smaller than the snapshot (\(bytes.count) bytes; query the size first)")
    }
    bytes.withUnsafeBytes { raw in
        if let base = raw.baseAddress { buffer.copyMemory(from: base, byteCount: raw.count) }
    }
}

/// The caller's snapshot bytes, read as the data declares them: the 16-byte header first, then
/// only the length it announces (`declaredLength`), so a `size` larger than the real buffer is
/// never read past the snapshot. A size above what the header declares is refused
/// (`HLR_ERR_SNAPSHOT_CORRUPT`, naming both) without reading the excess; a smaller one is handed
/// on for the core to report as truncated. A NULL buffer is HLR_ERR_NULL_POINTER whatever the size.
func readBlob(
    _ buffer: UnsafeRawPointer?, _ size: UInt, noun: String,
    declaredLength: ((Int) -> [UInt8]?) -> Int?
) throws(ABIError) -> [UInt8] {
    let count = try Arguments.count(size, "size", limit: 1 << 40)
    let buffer = try Arguments.pointer(buffer, "buffer")
    let headerSize = Snapshot.headerSize
    let header = { (offset: Int) -> [UInt8]? in
        guard offset >= 0, offset <= count - headerSize else { return nil }
        return Array(UnsafeRawBufferPointer(start: buffer + offset, count: headerSize))
    }
    guard let declared = declaredLength(header) else {
        return Array(UnsafeRawBufferPointer(start: buffer, count: min(count, headerSize)))
    }
    guard count <= declared else {
        throw ABIError(
            Status.snapshotCorrupt,
            "size \(count) disagrees with the \(noun), whose header declares \(declared) bytes "
                + "(\(count - declared) trailing bytes)")
    }
    return Array(UnsafeRawBufferPointer(start: buffer, count: count))
}

/// A tuner snapshot (`Snapshot`, with its schedule container when it announces one).
func readTunerBlob(_ buffer: UnsafeRawPointer?, _ size: UInt) throws(ABIError) -> [UInt8] {
    try readBlob(buffer, size, noun: "snapshot", declaredLength: Snapshot.declaredLength)
}

/// A schedule snapshot (`ScheduleSnapshot`).
func readScheduleBlob(_ buffer: UnsafeRawPointer?, _ size: UInt) throws(ABIError) -> [UInt8] {
    try readBlob(buffer, size, noun: "schedule snapshot", declaredLength: ScheduleSnapshot.declaredLength)
}
