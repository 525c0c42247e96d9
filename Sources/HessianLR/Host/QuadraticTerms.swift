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
        var product = [T](repeating: 0, count: n)
        var masked = [T](repeating: 0, count: layout.groupCount > 1 ? n : 0)
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
            for index in product.indices { product[index] = 0 }
            if layout.groupCount == 1 {
                try product.withUnsafeMutableBufferPointer { (out) throws(HLRError) in
                    try hvp(direction, out)
                }
            } else {
                for index in range { masked[index] = direction[index] }
                try masked.withUnsafeBufferPointer { (v) throws(HLRError) in
                    try product.withUnsafeMutableBufferPointer { (out) throws(HLRError) in
                        try hvp(v, out)
                    }
                }
                for index in range { masked[index] = 0 }
            }
            let curvature = product.withUnsafeBufferPointer { out in
                T.dot(
                    UnsafeBufferPointer(rebasing: direction[range]),
                    UnsafeBufferPointer(rebasing: out[range]))
            }
            guard curvature.isFinite else {
                throw HLRError(.nonFinite, "dᵀHd of group \(group) is not finite (\(curvature)): the HVP output holds NaN or Inf")
            }
            values += [slope, curvature]
        }
        return values
    }
}
