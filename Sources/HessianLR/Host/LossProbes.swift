/// The trial weights of the loss-probe observations in host mode (`HostStepBackend.setTrial`):
/// from flat weights w, a flat direction d (the gradient, or the optimizer's update: the trainer
/// steps w ← w − η·d) and a group layout,
///
///     trial = w − Σ_k ξ_k·d_k        (d_k = d on group k, 0 elsewhere)
///
/// element i of group k is T(Double(wᵢ) − ξ_k·Double(dᵢ)), computed in float64 and rounded once
/// to the element type, so ξ_k = 0 gives wᵢ bit for bit.
public enum LossProbes {
    /// The loss oracle: receives the trial weights (n elements, valid during the call only) and
    /// returns the loss there; throws (typically `callbackFailed`) to abort.
    public typealias Oracle<T: HostScalar> = (_ weights: UnsafeBufferPointer<T>) throws(HLRError) -> Double

    /// scratch ← w − Σ_k steps[k]·d_k (scratch, w and d of layout.elementCount elements, one
    /// step per group; checked by the caller).
    public static func fillTrial<T: HostScalar>(
        _ scratch: inout [T], weights: UnsafeBufferPointer<T>, direction: UnsafeBufferPointer<T>,
        layout: GroupLayout, steps: [Double]
    ) {
        for group in 0..<layout.groupCount {
            let xi = steps[group]
            for i in layout.range(of: group) {
                scratch[i] = T(Double(weights[i]) - xi * Double(direction[i]))
            }
        }
    }

    /// Checks that w and d have n = layout.elementCount finite elements.
    static func checkBuffers<T: HostScalar>(
        weights: UnsafeBufferPointer<T>, direction: UnsafeBufferPointer<T>, layout: GroupLayout
    ) throws(HLRError) {
        let n = layout.elementCount
        guard weights.count == n, direction.count == n else {
            throw .invalid(
                "weights (\(weights.count)) and direction (\(direction.count)) must both have \(n) elements")
        }
        for i in 0..<n where !weights[i].isFinite {
            throw HLRError(.nonFinite, "weights[\(i)] is not finite: \(weights[i])")
        }
        for i in 0..<n where !direction[i].isFinite {
            throw HLRError(.nonFinite, "direction[\(i)] is not finite: \(direction[i])")
        }
    }
}
