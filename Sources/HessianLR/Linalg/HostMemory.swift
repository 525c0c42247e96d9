#if canImport(Glibc)
import Glibc
#endif

/// Allocation of the library's large host buffers (host vectors, the HVP output of host mode),
/// zero-filled.
///
/// On Linux a buffer comes from `calloc`, which for large sizes maps fresh pages that the kernel
/// supplies already zeroed, so no separate zeroing pass runs; buffers of at least
/// `hugePageThreshold` bytes are also advised `MADV_HUGEPAGE` (as numpy does for its arrays), so
/// that with transparent huge pages in `madvise` mode their first touch faults in 2 MiB pages
/// instead of 4 KiB ones. Elsewhere: `allocate` and an explicit zero fill. Free with `deallocate`.
enum HostMemory {
    static let hugePageBytes = 2 << 20
    static let hugePageThreshold = 4 << 20

    /// `capacity` (at least one) zeroed, initialised elements of a trivial type.
    static func allocateZeroed<T: HostScalar>(_ type: T.Type, capacity: Int) -> UnsafeMutablePointer<T> {
        let count = Swift.max(capacity, 1)
        #if canImport(Glibc)
        guard let raw = calloc(count, MemoryLayout<T>.stride) else {
            fatalError("HostMemory: out of memory allocating \(count) elements")
        }
        let bytes = count * MemoryLayout<T>.stride
        if bytes >= hugePageThreshold {
            // Advice only (an error, e.g. no THP, changes nothing): the 2 MiB-aligned interior.
            let start = (Int(bitPattern: raw) + hugePageBytes - 1) / hugePageBytes * hugePageBytes
            let end = (Int(bitPattern: raw) + bytes) / hugePageBytes * hugePageBytes
            if end > start, let advised = UnsafeMutableRawPointer(bitPattern: start) {
                _ = madvise(advised, end - start, MADV_HUGEPAGE)
            }
        }
        return raw.bindMemory(to: T.self, capacity: count)
        #else
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: count)
        ChunkedKernels.zero(pointer, count: count)
        return pointer
        #endif
    }

    static func deallocate<T>(_ pointer: UnsafeMutablePointer<T>) {
        #if canImport(Glibc)
        free(pointer)
        #else
        pointer.deallocate()
        #endif
    }
}
