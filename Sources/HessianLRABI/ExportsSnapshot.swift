import HessianLR

// Snapshots: query the size, save into the caller's buffer, restore.

@_cdecl("hlr_tuner_snapshot_size")
public func hlr_tuner_snapshot_size(_ handle: OpaquePointer?, _ size: UnsafeMutablePointer<UInt>?) -> Int32 {
    exported("hlr_tuner_snapshot_size") {
        let box = try Registry.lookup(handle)
        let out = try Arguments.pointer(size, "size")
        out.pointee = UInt(box.tuner.withLock { $0.snapshot().count })
    }
}

@_cdecl("hlr_tuner_save")
public func hlr_tuner_save(
    _ handle: OpaquePointer?, _ buffer: UnsafeMutableRawPointer?, _ capacity: UInt,
    _ written: UnsafeMutablePointer<UInt>?
) -> Int32 {
    exported("hlr_tuner_save") {
        let box = try Registry.lookup(handle)
        let buffer = try Arguments.pointer(buffer, "buffer")
        let bytes = box.tuner.withLock { $0.snapshot() }
        written?.pointee = UInt(bytes.count)
        guard UInt(bytes.count) <= capacity else {
            throw ABIError(
                Status.bufferTooSmall,
                "capacity \(capacity) is smaller than the snapshot (\(bytes.count) bytes; see hlr_tuner_snapshot_size)")
        }
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }
}

@_cdecl("hlr_tuner_restore")
public func hlr_tuner_restore(
    _ handle: OpaquePointer?, _ buffer: UnsafeRawPointer?, _ size: UInt
) -> Int32 {
    exported("hlr_tuner_restore") {
        let box = try Registry.lookup(handle)
        let buffer = try Arguments.pointer(buffer, "buffer")
        let count = try Arguments.count(size, "size", limit: 1 << 40)
        let bytes = Array(UnsafeRawBufferPointer(start: buffer, count: count))
        try box.tuner.withLock { (tuner) throws(HLRError) in
            try tuner.restore(snapshot: bytes)
        }
    }
}
