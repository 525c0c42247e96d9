/// Vector kernels over host buffers.
public enum HostKernels {
    /// Which copy of the element loops runs on this CPU: "x86-64-v3" or "baseline" (`HostLoops`).
    public static var instructionSet: String { HostLoops.usesX86V3 ? "x86-64-v3" : "baseline" }

    /// Σ xᵢ·yᵢ in float64 with a fixed summation order: eight lanes take elements i ≡ lane
    /// (mod 8) of the first ⌊n/8⌋·8 elements, the lanes are added pairwise
    /// ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7)), then the tail is added in index order. The order
    /// depends only on n, never on alignment, threads or the CPU (the loop is `VectorLoops.dot`,
    /// compiled for the baseline CPU and for x86-64-v3, see `HostLoops`). Uses
    /// min(x.count, y.count) elements.
    public static func dot<T: HostScalar>(_ x: UnsafeBufferPointer<T>, _ y: UnsafeBufferPointer<T>) -> Double {
        T.dot(x, y)
    }

    /// out[j] = `dot(x_j[first..<first+n], y[first..<first+n])` for every x_j of `xs`, bit for
    /// bit: each j has its own eight lanes fed in the same order, the same pairwise lane sum and
    /// the same tail order as `dot`. Four x's share one pass over y (y is read and, for float32,
    /// widened a quarter as often), then two, and an odd last x runs alone.
    @inline(__always)
    static func dots<T: HostScalar>(
        _ xs: UnsafeBufferPointer<UnsafePointer<T>>, _ y: UnsafePointer<T>, first: Int, count n: Int,
        into out: UnsafeMutablePointer<Double>
    ) {
        let k = xs.count
        let py = y + first
        var j = 0
        if k >= 4 {
            withUnsafeTemporaryAllocation(of: UnsafePointer<T>.self, capacity: 4) { quad in
                guard let base = quad.baseAddress else { return }
                while j + 4 <= k {
                    for i in 0..<4 { base[i] = xs[j + i] + first }
                    T.dot4(base, py, count: n, into: out + j)
                    j += 4
                }
            }
        }
        while j + 2 <= k {
            T.dot2(xs[j] + first, xs[j + 1] + first, py, count: n, into: out + j)
            j += 2
        }
        if j < k {
            out[j] = T.dot(UnsafeBufferPointer(start: xs[j] + first, count: n), UnsafeBufferPointer(start: py, count: n))
        }
    }
}
