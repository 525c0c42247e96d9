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
