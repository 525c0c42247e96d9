/// Host mode of the loss-probe tuners (GeN, Hi-DLR, Armijo trials): from flat weights w, a flat
/// direction d (the gradient, or the optimizer's update: the trainer steps w ← w − η·d), a group
/// layout and a loss oracle, computes the `.losses` observation of a `Need.losses(probes:)`:
///
///     value_j = L(w − Σ_k ξ_jk·d_k)        (d_k = d on group k, 0 elsewhere)
///
/// Each trial point is built in one scratch buffer of n elements (allocated once per call and
/// reused for every probe): element i of group k is T(Double(wᵢ) − ξ_jk·Double(dᵢ)), computed in
/// float64 and rounded once to the element type, so a probe with ξ = 0 is w bit for bit. The
/// weights themselves are never written. A probe whose steps are all 0 uses `currentLoss` when
/// given (the loss the trainer already computed at w) instead of calling the oracle.
public enum LossProbes {
    /// The loss oracle: receives the trial weights (n elements, valid during the call only) and
    /// returns the loss there; throws (typically `callbackFailed`) to abort.
    public typealias Oracle<T: HostScalar> = (_ weights: UnsafeBufferPointer<T>) throws(HLRError) -> Double

    /// The losses at `probes` (m rows of K steps), in probe order.
    ///
    /// - Throws: `invalidArgument` when the buffers do not match the layout or a probe row does
    ///   not have K finite steps; `nonFinite` for NaN/±Inf in w or d or a non-finite loss (naming
    ///   the probe); whatever the oracle throws. Nothing is computed after the first failure.
    public static func compute<T: HostScalar>(
        weights: UnsafeBufferPointer<T>, direction: UnsafeBufferPointer<T>, layout: GroupLayout,
        probes: [[Double]], currentLoss: Double? = nil, loss: Oracle<T>
    ) throws(HLRError) -> [Double] {
        try checkBuffers(weights: weights, direction: direction, layout: layout)
        for (j, row) in probes.enumerated() {
            guard row.count == layout.groupCount else {
                throw .invalid("probe \(j) has \(row.count) steps, the layout has \(layout.groupCount) groups")
            }
            for (k, step) in row.enumerated() where !step.isFinite {
                throw .invalid("step of group \(k) in probe \(j) is not finite: \(step)")
            }
        }
        if let currentLoss, !currentLoss.isFinite {
            throw HLRError(.nonFinite, "the current loss is not finite: \(currentLoss)")
        }
        var scratch = [T](repeating: 0, count: layout.elementCount)
        var losses: [Double] = []
        losses.reserveCapacity(probes.count)
        for (j, row) in probes.enumerated() {
            if let currentLoss, row.allSatisfy({ $0 == 0 }) {
                losses.append(currentLoss)
                continue
            }
            for group in 0..<layout.groupCount {
                let xi = row[group]
                for i in layout.range(of: group) {
                    scratch[i] = T(Double(weights[i]) - xi * Double(direction[i]))
                }
            }
            let value = try scratch.withUnsafeBufferPointer { (trial) throws(HLRError) in try loss(trial) }
            guard value.isFinite else {
                throw HLRError(.nonFinite, "the loss oracle returned \(value) at probe \(j)")
            }
            losses.append(value)
        }
        return losses
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
