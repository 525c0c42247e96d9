/// Host mode of the quadratic-model rules: from a flat gradient g, a direction d (g itself, or
/// the optimizer's update u) and a Hessian-vector product oracle, computes per group k
///
///   slope_k     = Σ_{i∈k} gᵢ·dᵢ            (gᵀd restricted to the group)
///   curvature_k = d_kᵀ H d_k                (d_k = d on group k, 0 elsewhere)
///
/// with one HVP per group (a single HVP of d itself when there is one group), accumulated in
/// float64 by `HostKernels.dot`. The result is the observation layout of
/// `Tuner.observeCurvature`, so host mode and observation mode share one code path for the math.
public enum QuadraticTerms {
    /// The oracle: writes H·v into `out` (both of length n); throws `callbackFailed` to abort.
    public typealias HVP<T: HostScalar> =
        (_ v: UnsafeBufferPointer<T>, _ out: UnsafeMutableBufferPointer<T>) throws(HLRError) -> Void

    public static func compute<T: HostScalar>(
        gradient: UnsafeBufferPointer<T>, direction: UnsafeBufferPointer<T>,
        layout: GroupLayout, hvp: HVP<T>
    ) throws(HLRError) -> [Double] {
        let n = layout.elementCount
        guard gradient.count == n, direction.count == n else {
            throw .invalid(
                "gradient (\(gradient.count)) and direction (\(direction.count)) must both have "
                    + "\(n) elements")
        }
        var values: [Double] = []
        values.reserveCapacity(2 * layout.groupCount)
        // Library scratch as raw buffers handled by ChunkedKernels (memset / memcpy for Float and
        // Double): no per-element generic Array code runs on n-element buffers.
        let product = HostMemory.allocateZeroed(T.self, capacity: n)
        defer { HostMemory.deallocate(product) }
        let masking = layout.groupCount > 1
        let masked = HostMemory.allocateZeroed(T.self, capacity: masking ? n : 1)
        defer { HostMemory.deallocate(masked) }
        let out = UnsafeMutableBufferPointer(start: product, count: n)
        var productIsZero = true  // calloc'd; written by each HVP
        for group in 0..<layout.groupCount {
            let range = layout.range(of: group)
            let slope = T.dot(
                UnsafeBufferPointer(rebasing: gradient[range]),
                UnsafeBufferPointer(rebasing: direction[range]))
            guard slope.isFinite else {
                throw HLRError(.nonFinite, "gᵀd of group \(group) is not finite (\(slope)): the gradient or direction holds NaN or Inf")
            }
            if range.isEmpty {
                values += [0, 0]
                continue
            }
            if !productIsZero { ChunkedKernels.zero(product, count: n) }
            productIsZero = false
            if !masking {
                try hvp(direction, out)
            } else if let start = direction.baseAddress {
                ChunkedKernels.copy(
                    from: start + range.lowerBound, to: masked + range.lowerBound, count: range.count)
                try hvp(UnsafeBufferPointer(start: masked, count: n), out)
                ChunkedKernels.zero(masked + range.lowerBound, count: range.count)
            }
            let curvature = T.dot(
                UnsafeBufferPointer(rebasing: direction[range]),
                UnsafeBufferPointer(start: product + range.lowerBound, count: range.count))
            guard curvature.isFinite else {
                throw HLRError(.nonFinite, "dᵀHd of group \(group) is not finite (\(curvature)): the HVP output holds NaN or Inf")
            }
            values += [slope, curvature]
        }
        return values
    }
}
