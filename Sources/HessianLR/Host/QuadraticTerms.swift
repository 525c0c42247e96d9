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

    /// [slope_0, curvature_0, slope_1, curvature_1, …] (the `.curvature` observation).
    /// - Throws: `invalidArgument` for buffers that do not match the layout; `nonFinite` for a
    ///   NaN/±Inf slope (before any HVP) or curvature; whatever the oracle throws.
    public static func compute<T: HostScalar>(
        gradient: UnsafeBufferPointer<T>, direction: UnsafeBufferPointer<T>,
        layout: GroupLayout, hvp: HVP<T>
    ) throws(HLRError) -> [Double] {
        let n = layout.elementCount
        guard n >= 1 else { throw .invalid("n must be ≥ 1, got 0 (the buffers hold no element)") }
        guard gradient.count == n, direction.count == n else {
            throw .invalid(
                "gradient (\(gradient.count)) and direction (\(direction.count)) must both have "
                    + "\(n) elements")
        }
        let slopes = slopes(gradient: gradient, direction: direction, layout: layout)
        for (group, slope) in slopes.enumerated() where !slope.isFinite {
            throw HLRError(.nonFinite, "gᵀd of group \(group) is not finite (\(slope)): the gradient or direction holds NaN or Inf")
        }
        let curvatures = try curvatures(direction: direction, layout: layout, hvp: hvp)
        for (group, curvature) in curvatures.enumerated() where !curvature.isFinite {
            throw HLRError(.nonFinite, "dᵀHd of group \(group) is not finite (\(curvature)): the HVP output holds NaN or Inf")
        }
        return zip(slopes, curvatures).flatMap { [$0, $1] }
    }

    /// slope_k = g_kᵀd_k per group (`HostScalar.dot` over the group's slice); not checked.
    public static func slopes<T: HostScalar>(
        gradient: UnsafeBufferPointer<T>, direction: UnsafeBufferPointer<T>, layout: GroupLayout
    ) -> [Double] {
        (0..<layout.groupCount).map { group in
            let range = layout.range(of: group)
            return T.dot(
                UnsafeBufferPointer(rebasing: gradient[range]), UnsafeBufferPointer(rebasing: direction[range]))
        }
    }

    /// curvature_k = d_kᵀHd_k per group, one HVP per non-empty group (of d itself when there is
    /// one group, of d masked to the group otherwise; an empty group gives 0 without an HVP);
    /// not checked for finiteness.
    public static func curvatures<T: HostScalar>(
        direction: UnsafeBufferPointer<T>, layout: GroupLayout, hvp: HVP<T>
    ) throws(HLRError) -> [Double] {
        let n = layout.elementCount
        guard direction.count == n else {
            throw .invalid("direction has \(direction.count) elements, expected \(n)")
        }
        var values: [Double] = []
        values.reserveCapacity(layout.groupCount)
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
            if range.isEmpty {
                values.append(0)
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
            values.append(
                T.dot(
                    UnsafeBufferPointer(rebasing: direction[range]),
                    UnsafeBufferPointer(start: product + range.lowerBound, count: range.count)))
        }
        return values
    }
}
