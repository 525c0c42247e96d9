/// Element types of host buffers: float32 and float64. Reductions accumulate in Double whatever
/// the element type, in a fixed order, so the same buffers give the same bits on every call,
/// in every build and from every language.
public protocol HostScalar: BinaryFloatingPoint, Sendable {
    /// Σ xᵢ·yᵢ over equal-length buffers (see `HostKernels.dot`).
    static func dot(_ x: UnsafeBufferPointer<Self>, _ y: UnsafeBufferPointer<Self>) -> Double
}

extension Double: HostScalar {
    public static func dot(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>) -> Double {
        HostKernels.dot(x, y) { $0 }
    }
}

extension Float: HostScalar {
    public static func dot(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Double {
        HostKernels.dot(x, y) { SIMD8<Double>($0) }
    }
}
