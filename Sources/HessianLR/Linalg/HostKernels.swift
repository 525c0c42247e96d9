/// Vector kernels over host buffers.
public enum HostKernels {
    /// Σ xᵢ·yᵢ in float64 with a fixed summation order: eight lanes take elements i ≡ lane
    /// (mod 8) of the first ⌊n/8⌋·8 elements, the lanes are added pairwise
    /// ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7)), then the tail is added in index order. The order
    /// depends only on n, never on alignment or threads. Uses min(x.count, y.count) elements.
    @inlinable
    public static func dot<T: SIMDScalar>(
        _ x: UnsafeBufferPointer<T>, _ y: UnsafeBufferPointer<T>,
        widen: (SIMD8<T>) -> SIMD8<Double>
    ) -> Double where T: BinaryFloatingPoint {
        let n = min(x.count, y.count)  // callers pass equal lengths; never read past either
        guard n > 0, let px = x.baseAddress, let py = y.baseAddress else { return 0 }
        var lanes = SIMD8<Double>(repeating: 0)
        let body = n - n % 8
        var index = 0
        let rawX = UnsafeRawPointer(px)
        let rawY = UnsafeRawPointer(py)
        let stride = MemoryLayout<T>.stride
        while index < body {
            let vx = widen(rawX.loadUnaligned(fromByteOffset: index * stride, as: SIMD8<T>.self))
            let vy = widen(rawY.loadUnaligned(fromByteOffset: index * stride, as: SIMD8<T>.self))
            lanes += vx * vy
            index += 8
        }
        let half = lanes.lowHalf + lanes.highHalf
        let quarter = half.lowHalf + half.highHalf
        var sum = quarter[0] + quarter[1]
        while index < n {
            sum += Double(px[index]) * Double(py[index])
            index += 1
        }
        return sum
    }
}

extension HostKernels {
    /// out[j] = `dot(x_j[first..<first+n], y[first..<first+n])` for every x_j of `xs`, bit for
    /// bit: each j has its own eight lanes fed in the same order, the same pairwise lane sum and
    /// the same tail order as `dot`. Two x's share one pass over y (y is read half as often);
    /// an odd last x runs alone.
    @inline(__always)
    static func dots<T: SIMDScalar>(
        _ xs: UnsafeBufferPointer<UnsafePointer<T>>, _ y: UnsafePointer<T>, first: Int, count n: Int,
        into out: UnsafeMutablePointer<Double>, widen: (SIMD8<T>) -> SIMD8<Double>
    ) where T: BinaryFloatingPoint {
        let k = xs.count
        let py = y + first
        let body = n - n % 8
        let stride = MemoryLayout<T>.stride
        let rawY = UnsafeRawPointer(py)
        var j = 0
        while j + 2 <= k {
            let p0 = xs[j] + first, p1 = xs[j + 1] + first
            let raw0 = UnsafeRawPointer(p0), raw1 = UnsafeRawPointer(p1)
            var lanes0 = SIMD8<Double>(repeating: 0), lanes1 = SIMD8<Double>(repeating: 0)
            var index = 0
            while index < body {
                let vy = widen(rawY.loadUnaligned(fromByteOffset: index &* stride, as: SIMD8<T>.self))
                lanes0 += widen(raw0.loadUnaligned(fromByteOffset: index &* stride, as: SIMD8<T>.self)) * vy
                lanes1 += widen(raw1.loadUnaligned(fromByteOffset: index &* stride, as: SIMD8<T>.self)) * vy
                index &+= 8
            }
            out[j] = finishDot(lanes0, p0, py, from: body, to: n)
            out[j + 1] = finishDot(lanes1, p1, py, from: body, to: n)
            j += 2
        }
        if j < k {
            out[j] = n > 0
                ? dot(UnsafeBufferPointer(start: xs[j] + first, count: n), UnsafeBufferPointer(start: py, count: n),
                      widen: widen)
                : 0
        }
    }

    /// The end of `dot`: lanes added pairwise, then the tail body..<n in index order.
    @inline(__always)
    static func finishDot<T: SIMDScalar>(
        _ lanes: SIMD8<Double>, _ px: UnsafePointer<T>, _ py: UnsafePointer<T>, from body: Int, to n: Int
    ) -> Double where T: BinaryFloatingPoint {
        guard n > 0 else { return 0 }
        let half = lanes.lowHalf + lanes.highHalf
        let quarter = half.lowHalf + half.highHalf
        var sum = quarter[0] + quarter[1]
        var index = body
        while index < n {
            sum += Double(px[index]) * Double(py[index])
            index += 1
        }
        return sum
    }
}
