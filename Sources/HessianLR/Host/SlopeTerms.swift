/// Host mode of the `.slope` observation (Armijo): from flat weights w, gradient g, direction d
/// and a group layout, computes
///
///     [L(w), g₀ᵀd₀, …, g_{K−1}ᵀd_{K−1}]
///
/// with each gᵀd_k over group k's slice accumulated in float64 by `HostScalar.dot` (fixed
/// summation order), and L(w) from `currentLoss` when given, else from one oracle call at w
/// itself (the oracle sees the weights buffer read-only).
public enum SlopeTerms {
    /// - Throws: `invalidArgument` when a buffer does not match the layout or neither a current
    ///   loss nor an oracle is given; `nonFinite` for NaN/±Inf inputs or results; whatever the
    ///   oracle throws.
    public static func compute<T: HostScalar>(
        weights: UnsafeBufferPointer<T>, gradient: UnsafeBufferPointer<T>,
        direction: UnsafeBufferPointer<T>, layout: GroupLayout, currentLoss: Double? = nil,
        loss: LossProbes.Oracle<T>?
    ) throws(HLRError) -> [Double] {
        try LossProbes.checkBuffers(weights: weights, direction: direction, layout: layout)
        guard gradient.count == layout.elementCount else {
            throw .invalid("gradient has \(gradient.count) elements, expected \(layout.elementCount)")
        }
        var slopes: [Double] = []
        slopes.reserveCapacity(layout.groupCount)
        for group in 0..<layout.groupCount {
            let range = layout.range(of: group)
            let slope = T.dot(
                UnsafeBufferPointer(rebasing: gradient[range]), UnsafeBufferPointer(rebasing: direction[range]))
            guard slope.isFinite else {
                throw HLRError(
                    .nonFinite, "gᵀd of group \(group) is not finite (\(slope)): the gradient holds NaN or Inf")
            }
            slopes.append(slope)
        }
        let value: Double
        if let currentLoss {
            value = currentLoss
        } else if let loss {
            value = try loss(weights)
        } else {
            throw .invalid("the slope observation needs L(w): give the current loss or a loss oracle")
        }
        guard value.isFinite else {
            throw HLRError(.nonFinite, "the loss at the current weights is not finite: \(value)")
        }
        return [value] + slopes
    }
}
