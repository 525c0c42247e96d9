/// A vector of `HostVectorSpace`: n elements of float32 or float64 in a buffer the library
/// allocates (zero-filled) and frees when the last reference goes away.
public final class HostVector<T: HostScalar>: @unchecked Sendable {
    /// n.
    public let count: Int
    let base: UnsafeMutablePointer<T>

    init(count: Int) {
        self.count = count
        base = HostMemory.allocateZeroed(T.self, capacity: count)  // trivial type: zeroed = initialised
    }

    deinit {
        base.deinitialize(count: Swift.max(count, 1))
        HostMemory.deallocate(base)
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
