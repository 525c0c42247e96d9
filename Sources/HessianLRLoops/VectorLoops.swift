/// The element loops of the host vector kernels over raw float32 / float64 memory: no threads, no
/// chunking, no allocation (`ChunkedKernels` in the core cuts vectors into chunks and threads).
///
/// This file is compiled twice: as module `HessianLRLoops` for the package's baseline CPU, and
/// (a symbolic link) as `HessianLRLoopsX86V3` with `-target-cpu x86-64-v3` (AVX2 registers:
/// 4 doubles or 8 floats per instruction, one `vcvtps2pd` widening 4 floats where SSE2 widens 2).
/// `HostLoops` in the core calls the second only on a CPU that has x86-64-v3. Both compile the
/// same IEEE-754 operations in the same order (Swift never contracts a·b + c into a fused
/// multiply-add, and never reassociates), so both give the same bits; only the instruction width
/// differs. The code here uses raw pointers and SIMD types only, so that neither module defines a
/// shared specialisation of a standard-library generic that the other could bind to.
public enum VectorLoops {
    // MARK: dot products (the documented order of `HostKernels.dot`)

    /// Σ xᵢ·yᵢ over i < n, float64: lane l (0…7) sums the products of elements i ≡ l (mod 8) of
    /// the first ⌊n/8⌋·8, the lanes are added ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7)), then the tail
    /// i ≥ ⌊n/8⌋·8 is added in index order.
    @inline(never)
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Double {
        finish(lanes(x, y, n) { SIMD8<Double>($0) }, x, y, n)
    }

    /// `dot` for float64.
    @inline(never)
    public static func dot(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int) -> Double {
        finish(lanes(x, y, n) { $0 }, x, y, n)
    }

    /// out[0] = dot(x0, y, n), out[1] = dot(x1, y, n), bit for bit, in one pass over y.
    @inline(never)
    public static func dot2(
        _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int,
        _ out: UnsafeMutablePointer<Double>
    ) {
        dotPair(x0, x1, y, n, out) { SIMD8<Double>($0) }
    }

    /// `dot2` for float64.
    @inline(never)
    public static func dot2(
        _ x0: UnsafePointer<Double>, _ x1: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int,
        _ out: UnsafeMutablePointer<Double>
    ) {
        dotPair(x0, x1, y, n, out) { $0 }
    }

    /// out[j] = dot(x_j, y, n) for j < 4, bit for bit, in one pass over y (y is widened once for
    /// four products: the float32 multi-dot is bound by the widening).
    @inline(never)
    public static func dot4(
        _ x: UnsafePointer<UnsafePointer<Float>>, _ y: UnsafePointer<Float>, _ n: Int, _ out: UnsafeMutablePointer<Double>
    ) {
        dotQuad(x, y, n, out, widen)
    }

    /// `dot4` for float64.
    @inline(never)
    public static func dot4(
        _ x: UnsafePointer<UnsafePointer<Double>>, _ y: UnsafePointer<Double>, _ n: Int, _ out: UnsafeMutablePointer<Double>
    ) {
        dotQuad(x, y, n, out) { $0 }
    }

    // MARK: elementwise (exact per element: one rounding per operation, in the written order)

    /// y[i] ← y[i] + a·x[i], i < n.
    @inline(never)
    public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        axpyBody(a, x, y, n)
    }

    /// `axpy` for float64.
    @inline(never)
    public static func axpy(_ a: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
        axpyBody(a, x, y, n)
    }

    /// Per element the four axpys y ← y + a.0·x.0, then + a.1·x.1, + a.2·x.2, + a.3·x.3 (y read and
    /// written once). No x may be y.
    @inline(never)
    public static func axpy4(
        _ a: SIMD4<Float>, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, _ x2: UnsafePointer<Float>,
        _ x3: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        axpy4Body(a, x0, x1, x2, x3, y, n)
    }

    /// `axpy4` for float64.
    @inline(never)
    public static func axpy4(
        _ a: SIMD4<Double>, _ x0: UnsafePointer<Double>, _ x1: UnsafePointer<Double>, _ x2: UnsafePointer<Double>,
        _ x3: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int
    ) {
        axpy4Body(a, x0, x1, x2, x3, y, n)
    }

    /// x[i] ← a·x[i], i < n.
    @inline(never)
    public static func scale(_ a: Float, _ x: UnsafeMutablePointer<Float>, _ n: Int) { scaleBody(a, x, n) }

    /// `scale` for float64.
    @inline(never)
    public static func scale(_ a: Double, _ x: UnsafeMutablePointer<Double>, _ n: Int) { scaleBody(a, x, n) }

    /// acc[i] ← acc[i] + (a·x[i])·y[i], i < n.
    @inline(never)
    public static func multiplyAccumulate(
        _ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ acc: UnsafeMutablePointer<Float>,
        _ n: Int
    ) {
        multiplyAccumulateBody(a, x, y, acc, n)
    }

    /// `multiplyAccumulate` for float64.
    @inline(never)
    public static func multiplyAccumulate(
        _ a: Double, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ acc: UnsafeMutablePointer<Double>,
        _ n: Int
    ) {
        multiplyAccumulateBody(a, x, y, acc, n)
    }

    // MARK: bodies (generic, always inlined into the concrete entry points above: no generic
    // code of this module is emitted on its own)

    @inline(__always)
    static func axpyBody<T: FloatingPoint>(_ a: T, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int) {
        for i in 0..<n { y[i] = y[i] + a * x[i] }
    }

    @inline(__always)
    static func axpy4Body<T: SIMDScalar & FloatingPoint>(
        _ a: SIMD4<T>, _ x0: UnsafePointer<T>, _ x1: UnsafePointer<T>, _ x2: UnsafePointer<T>,
        _ x3: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int
    ) {
        let a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3]
        for i in 0..<n {
            var v = y[i]
            v = v + a0 * x0[i]
            v = v + a1 * x1[i]
            v = v + a2 * x2[i]
            v = v + a3 * x3[i]
            y[i] = v
        }
    }

    @inline(__always)
    static func scaleBody<T: FloatingPoint>(_ a: T, _ x: UnsafeMutablePointer<T>, _ n: Int) {
        for i in 0..<n { x[i] = a * x[i] }
    }

    @inline(__always)
    static func multiplyAccumulateBody<T: FloatingPoint>(
        _ a: T, _ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ acc: UnsafeMutablePointer<T>, _ n: Int
    ) {
        for i in 0..<n { acc[i] = acc[i] + (a * x[i]) * y[i] }
    }

    /// The eight lanes over the first ⌊n/8⌋·8 elements.
    @inline(__always)
    static func lanes<T: SIMDScalar & BinaryFloatingPoint>(
        _ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ n: Int, _ widen: (SIMD8<T>) -> SIMD8<Double>
    ) -> SIMD8<Double> {
        var lanes = SIMD8<Double>(repeating: 0)
        let body = n & ~7
        let rawX = UnsafeRawPointer(x), rawY = UnsafeRawPointer(y)
        let stride = MemoryLayout<T>.stride
        var index = 0
        while index < body {
            let vx = widen(rawX.loadUnaligned(fromByteOffset: index &* stride, as: SIMD8<T>.self))
            let vy = widen(rawY.loadUnaligned(fromByteOffset: index &* stride, as: SIMD8<T>.self))
            lanes = lanes + vx * vy
            index &+= 8
        }
        return lanes
    }

    /// The pairwise lane sum, then the tail in index order.
    @inline(__always)
    static func finish<T: BinaryFloatingPoint>(
        _ lanes: SIMD8<Double>, _ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ n: Int
    ) -> Double {
        let half = lanes.lowHalf + lanes.highHalf
        let quarter = half.lowHalf + half.highHalf
        var sum = quarter[0] + quarter[1]
        var index = n & ~7
        while index < n {
            sum = sum + Double(x[index]) * Double(y[index])
            index &+= 1
        }
        return sum
    }

    @inline(__always)
    static func dotPair<T: SIMDScalar & BinaryFloatingPoint>(
        _ x0: UnsafePointer<T>, _ x1: UnsafePointer<T>, _ y: UnsafePointer<T>, _ n: Int,
        _ out: UnsafeMutablePointer<Double>, _ widen: (SIMD8<T>) -> SIMD8<Double>
    ) {
        var lanes0 = SIMD8<Double>(repeating: 0), lanes1 = SIMD8<Double>(repeating: 0)
        let body = n & ~7
        let raw0 = UnsafeRawPointer(x0), raw1 = UnsafeRawPointer(x1), rawY = UnsafeRawPointer(y)
        let stride = MemoryLayout<T>.stride
        var index = 0
        while index < body {
            let vy = widen(rawY.loadUnaligned(fromByteOffset: index &* stride, as: SIMD8<T>.self))
            lanes0 = lanes0 + widen(raw0.loadUnaligned(fromByteOffset: index &* stride, as: SIMD8<T>.self)) * vy
            lanes1 = lanes1 + widen(raw1.loadUnaligned(fromByteOffset: index &* stride, as: SIMD8<T>.self)) * vy
            index &+= 8
        }
        out[0] = finish(lanes0, x0, y, n)
        out[1] = finish(lanes1, x1, y, n)
    }

    /// float32 → float64 lane-wise, written out so that it inlines (the standard library's generic
    /// conversion stays a call once the loop body holds five of them, as `dotQuad`'s does).
    @inline(__always)
    static func widen(_ v: SIMD8<Float>) -> SIMD8<Double> {
        SIMD8(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3]), Double(v[4]), Double(v[5]), Double(v[6]), Double(v[7]))
    }

    @inline(__always)
    static func dotQuad<T: SIMDScalar & BinaryFloatingPoint>(
        _ x: UnsafePointer<UnsafePointer<T>>, _ y: UnsafePointer<T>, _ n: Int,
        _ out: UnsafeMutablePointer<Double>, _ widen: (SIMD8<T>) -> SIMD8<Double>
    ) {
        let zero = SIMD8<Double>(repeating: 0)
        var (a, b, c, d) = (zero, zero, zero, zero)
        let (ra, rb, rc, rd) = (UnsafeRawPointer(x[0]), UnsafeRawPointer(x[1]), UnsafeRawPointer(x[2]), UnsafeRawPointer(x[3]))
        let rawY = UnsafeRawPointer(y), stride = MemoryLayout<T>.stride, body = n & ~7
        var offset = 0, index = 0
        while index < body {
            offset = index &* stride
            let vy = widen(rawY.loadUnaligned(fromByteOffset: offset, as: SIMD8<T>.self))
            a = a + widen(ra.loadUnaligned(fromByteOffset: offset, as: SIMD8<T>.self)) * vy
            b = b + widen(rb.loadUnaligned(fromByteOffset: offset, as: SIMD8<T>.self)) * vy
            c = c + widen(rc.loadUnaligned(fromByteOffset: offset, as: SIMD8<T>.self)) * vy
            d = d + widen(rd.loadUnaligned(fromByteOffset: offset, as: SIMD8<T>.self)) * vy
            index &+= 8
        }
        out[0] = finish(a, x[0], y, n)
        out[1] = finish(b, x[1], y, n)
        out[2] = finish(c, x[2], y, n)
        out[3] = finish(d, x[3], y, n)
    }
}
