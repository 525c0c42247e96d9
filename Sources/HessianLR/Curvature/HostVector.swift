/// A vector of `HostVectorSpace`: n elements of float32 or float64 in a buffer the library
/// allocates (zero-filled) and frees when the last reference goes away.
public final class HostVector<T: HostScalar>: @unchecked Sendable {
    /// n.
    public let count: Int
    private let storage: UnsafeMutablePointer<T>
    /// True from the allocation (every element 0) until the elements are first reached through
    /// `base`, `buffer`, `mutableBuffer` or the public accessors: then a vector that was never
    /// written is known to be zero without reading it (`HostVectorSpace.applyOperator` skips
    /// zeroing it; its pages, still the kernel's zero pages, are first written by the HVP).
    private(set) var isUntouched = true

    init(count: Int) {
        self.count = count
        storage = HostMemory.allocateZeroed(T.self, capacity: count)  // trivial type: zeroed = initialised
    }

    deinit {
        storage.deinitialize(count: Swift.max(count, 1))
        HostMemory.deallocate(storage)
    }

    /// The elements (for reading or writing: any access ends `isUntouched`).
    var base: UnsafeMutablePointer<T> {
        isUntouched = false
        return storage
    }

    /// A copy of the elements.
    public var elements: [T] { Array(buffer) }

    var buffer: UnsafeBufferPointer<T> { UnsafeBufferPointer(start: base, count: count) }
    var mutableBuffer: UnsafeMutableBufferPointer<T> { UnsafeMutableBufferPointer(start: base, count: count) }

    /// Reads the elements in place.
    public func withUnsafeBufferPointer<R, E: Error>(
        _ body: (UnsafeBufferPointer<T>) throws(E) -> R
    ) throws(E) -> R {
        try body(buffer)
    }

    /// Writes the elements in place.
    public func withUnsafeMutableBufferPointer<R, E: Error>(
        _ body: (UnsafeMutableBufferPointer<T>) throws(E) -> R
    ) throws(E) -> R {
        try body(mutableBuffer)
    }
}
