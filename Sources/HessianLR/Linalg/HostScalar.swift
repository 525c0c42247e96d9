import HessianLRLoops
import HessianLRLoopsX86V3

private typealias Base = HessianLRLoops.VectorLoops
private typealias V3 = HessianLRLoopsX86V3.VectorLoops

/// Element types of host buffers: float32 and float64. Reductions accumulate in Double whatever
/// the element type, in a fixed order, so the same buffers give the same bits on every call,
/// in every build, on every CPU and from every language.
///
/// The requirements are the element loops of the host kernels over raw memory (no threads, no
/// chunking: `ChunkedKernels` adds those); Float and Double run `VectorLoops` from the copy
/// `HostLoops` selects for this CPU.
public protocol HostScalar: BinaryFloatingPoint, SIMDScalar, Codable, Sendable {
    /// Σ xᵢ·yᵢ over equal-length buffers (see `HostKernels.dot`).
    static func dot(_ x: UnsafeBufferPointer<Self>, _ y: UnsafeBufferPointer<Self>) -> Double
    /// out[0] = dot(x0, y), out[1] = dot(x1, y) over n elements, bit for bit, in one pass over y.
    static func dot2(
        _ x0: UnsafePointer<Self>, _ x1: UnsafePointer<Self>, _ y: UnsafePointer<Self>, count n: Int,
        into out: UnsafeMutablePointer<Double>)
    /// out[j] = dot(x[j], y) over n elements for j < 4, bit for bit, in one pass over y.
    static func dot4(
        _ x: UnsafePointer<UnsafePointer<Self>>, _ y: UnsafePointer<Self>, count n: Int, into out: UnsafeMutablePointer<Double>)
    /// y[i] ← y[i] + a·x[i], i < n.
    static func axpy(_ a: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, count n: Int)
    /// Per element y ← y + a[0]·x0, then + a[1]·x1, + a[2]·x2, + a[3]·x3 (no x may be y).
    static func axpy4(
        _ a: SIMD4<Self>, _ x0: UnsafePointer<Self>, _ x1: UnsafePointer<Self>, _ x2: UnsafePointer<Self>,
        _ x3: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, count n: Int)
    /// x[i] ← a·x[i], i < n.
    static func scale(_ a: Self, _ x: UnsafeMutablePointer<Self>, count n: Int)
    /// x[j] ← the Gaussian probe element first + j of the vector with generator key `key`
    /// (`CounterRNG`), j < n, rounded once to Self.
    static func gaussianFill(_ x: UnsafeMutablePointer<Self>, count n: Int, key: UInt64, first: UInt64)
    /// ±1 from the sign bit of `bits` (+1 for 0, −1 for 1; `CounterRNG.rademacher`), built from
    /// the bit pattern without a branch or a conversion.
    static func rademacher(bits: UInt64) -> Self
    /// acc[i] ← acc[i] + (a·x[i])·y[i], i < n.
    static func multiplyAccumulate(
        _ a: Self, _ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, _ acc: UnsafeMutablePointer<Self>,
        count n: Int)
}

extension Double: HostScalar {
    @inline(__always)
    public static func rademacher(bits: UInt64) -> Double {
        Double(bitPattern: (bits & 0x8000_0000_0000_0000) | 0x3FF0_0000_0000_0000)
    }

    public static func dot(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>) -> Double {
        let n = Swift.min(x.count, y.count)  // callers pass equal lengths; never read past either
        guard n > 0, let px = x.baseAddress, let py = y.baseAddress else { return 0 }
        return HostLoops.usesX86V3 ? V3.dot(px, py, n) : Base.dot(px, py, n)
    }

    public static func dot2(
        _ x0: UnsafePointer<Double>, _ x1: UnsafePointer<Double>, _ y: UnsafePointer<Double>, count n: Int,
        into out: UnsafeMutablePointer<Double>
    ) {
        HostLoops.usesX86V3 ? V3.dot2(x0, x1, y, n, out) : Base.dot2(x0, x1, y, n, out)
    }

    public static func axpy(_ a: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count n: Int) {
        HostLoops.usesX86V3 ? V3.axpy(a, x, y, n) : Base.axpy(a, x, y, n)
    }

    public static func axpy4(
        _ a: SIMD4<Double>, _ x0: UnsafePointer<Double>, _ x1: UnsafePointer<Double>, _ x2: UnsafePointer<Double>,
        _ x3: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count n: Int
    ) {
        HostLoops.usesX86V3 ? V3.axpy4(a, x0, x1, x2, x3, y, n) : Base.axpy4(a, x0, x1, x2, x3, y, n)
    }

    public static func dot4(
        _ x: UnsafePointer<UnsafePointer<Double>>, _ y: UnsafePointer<Double>, count n: Int, into out: UnsafeMutablePointer<Double>
    ) {
        HostLoops.usesX86V3 ? V3.dot4(x, y, n, out) : Base.dot4(x, y, n, out)
    }

    public static func gaussianFill(_ x: UnsafeMutablePointer<Double>, count n: Int, key: UInt64, first: UInt64) {
        HostLoops.usesX86V3 ? V3.gaussianFill(x, n, key: key, first: first) : Base.gaussianFill(x, n, key: key, first: first)
    }

    public static func scale(_ a: Double, _ x: UnsafeMutablePointer<Double>, count n: Int) {
        HostLoops.usesX86V3 ? V3.scale(a, x, n) : Base.scale(a, x, n)
    }

    public static func multiplyAccumulate(
        _ a: Double, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ acc: UnsafeMutablePointer<Double>,
        count n: Int
    ) {
        HostLoops.usesX86V3
            ? V3.multiplyAccumulate(a, x, y, acc, n) : Base.multiplyAccumulate(a, x, y, acc, n)
    }
}

extension Float: HostScalar {
    @inline(__always)
    public static func rademacher(bits: UInt64) -> Float {
        Float(bitPattern: (UInt32(truncatingIfNeeded: bits >> 32) & 0x8000_0000) | 0x3F80_0000)
    }

    public static func dot(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Double {
        let n = Swift.min(x.count, y.count)
        guard n > 0, let px = x.baseAddress, let py = y.baseAddress else { return 0 }
        return HostLoops.usesX86V3 ? V3.dot(px, py, n) : Base.dot(px, py, n)
    }

    public static func dot2(
        _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count n: Int,
        into out: UnsafeMutablePointer<Double>
    ) {
        HostLoops.usesX86V3 ? V3.dot2(x0, x1, y, n, out) : Base.dot2(x0, x1, y, n, out)
    }

    public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        HostLoops.usesX86V3 ? V3.axpy(a, x, y, n) : Base.axpy(a, x, y, n)
    }

    public static func axpy4(
        _ a: SIMD4<Float>, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, _ x2: UnsafePointer<Float>,
        _ x3: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int
    ) {
        HostLoops.usesX86V3 ? V3.axpy4(a, x0, x1, x2, x3, y, n) : Base.axpy4(a, x0, x1, x2, x3, y, n)
    }

    public static func dot4(
        _ x: UnsafePointer<UnsafePointer<Float>>, _ y: UnsafePointer<Float>, count n: Int, into out: UnsafeMutablePointer<Double>
    ) {
        HostLoops.usesX86V3 ? V3.dot4(x, y, n, out) : Base.dot4(x, y, n, out)
    }

    public static func gaussianFill(_ x: UnsafeMutablePointer<Float>, count n: Int, key: UInt64, first: UInt64) {
        HostLoops.usesX86V3 ? V3.gaussianFill(x, n, key: key, first: first) : Base.gaussianFill(x, n, key: key, first: first)
    }

    public static func scale(_ a: Float, _ x: UnsafeMutablePointer<Float>, count n: Int) {
        HostLoops.usesX86V3 ? V3.scale(a, x, n) : Base.scale(a, x, n)
    }

    public static func multiplyAccumulate(
        _ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ acc: UnsafeMutablePointer<Float>,
        count n: Int
    ) {
        HostLoops.usesX86V3
            ? V3.multiplyAccumulate(a, x, y, acc, n) : Base.multiplyAccumulate(a, x, y, acc, n)
    }
}
