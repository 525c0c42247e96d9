/// Host mode of the step driver: `runStep` over a `HostStepBackend` on the trainer's flat
/// buffers, with a loss oracle and an HVP oracle, i.e. the same loop, observation assembly and
/// failure policy as every other backend (see `Tuner.runStep`), and the same `observe` path as
/// observation mode, so host mode and observation mode give the same bits.
extension Tuner {
    /// Runs step `step` to completion on host buffers; returns the number of observations fed
    /// (0 when the step needs nothing). The rates of the step are then `learningRates(step:)`.
    ///
    /// - Parameters:
    ///   - weights: w, the current weights (n elements); read only.
    ///   - gradient: g at w (n elements).
    ///   - update: the optimizer's update u when the trainer steps w ← w − η·u; nil when it steps
    ///     along g. The direction d of losses, slopes and curvature is `update ?? gradient`; it
    ///     must agree with `usesUpdateDirection`.
    ///   - layout: the group split of the n elements (the tuner's group count).
    ///   - currentLoss: L(w) if the trainer has it (saves one oracle call for slopes and ξ = 0
    ///     probes).
    ///   - loss: loss oracle, needed for `.losses` (and `.slope` without `currentLoss`).
    ///   - hvp: Hessian-vector product oracle, needed for `.curvature`.
    ///   - maxRounds: cap on the observations of one step (≥ 1); hitting it is `wrongState`.
    @discardableResult
    public mutating func runHostStep<T: HostScalar>(
        step: UInt64, weights: UnsafeBufferPointer<T>, gradient: UnsafeBufferPointer<T>,
        update: UnsafeBufferPointer<T>? = nil, layout: GroupLayout, currentLoss: Double? = nil,
        loss: LossProbes.Oracle<T>? = nil, hvp: QuadraticTerms.HVP<T>? = nil,
        maxRounds: Int = HostStepLimits.defaultMaxRounds
    ) throws(HLRError) -> Int {
        guard maxRounds >= 1 else { throw .invalid("max_rounds must be at least 1, got \(maxRounds)") }
        guard layout.groupCount == groupCount else {
            throw .invalid("the group layout has \(layout.groupCount) groups, the tuner has \(groupCount)")
        }
        if need(atStep: step) == .curvature {
            if usesUpdateDirection && update == nil {
                throw .invalid("direction is 'update' but no update vector was given")
            }
            if !usesUpdateDirection && update != nil {
                throw .invalid("an update vector was given but direction is 'gradient'")
            }
        }
        var backend = try HostStepBackend(
            weights: weights, gradient: gradient, direction: update ?? gradient, layout: layout,
            loss: loss, hvp: hvp)
        return try runStep(step: step, backend: &backend, currentLoss: currentLoss, maxRounds: maxRounds).rounds
    }

    /// `runHostStep` over Swift arrays, one group per `groupOffsets` range (one group when nil).
    @discardableResult
    public mutating func runHostStep<T: HostScalar>(
        step: UInt64, weights: [T], gradient: [T], update: [T]? = nil, groupOffsets: [Int]? = nil,
        currentLoss: Double? = nil, loss: (([T]) throws(HLRError) -> Double)? = nil,
        hvp: (([T]) throws(HLRError) -> [T])? = nil, maxRounds: Int = HostStepLimits.defaultMaxRounds
    ) throws(HLRError) -> Int {
        let layout = try GroupLayout(offsets: groupOffsets ?? [0, weights.count], elementCount: weights.count)
        var lossOracle: LossProbes.Oracle<T>? = nil
        if let loss {
            lossOracle = { (trial: UnsafeBufferPointer<T>) throws(HLRError) -> Double in
                try loss(Array(trial))
            }
        }
        var hvpOracle: QuadraticTerms.HVP<T>? = nil
        if let hvp {
            hvpOracle = { (v: UnsafeBufferPointer<T>, out: UnsafeMutableBufferPointer<T>) throws(HLRError) -> Void in
                let product = try hvp(Array(v))
                guard product.count == out.count else {
                    throw HLRError(.callbackFailed, "HVP returned \(product.count) values, expected \(out.count)")
                }
                for index in product.indices { out[index] = product[index] }
            }
        }
        var copy = self
        let rounds = try weights.withUnsafeBufferPointer { (w) throws(HLRError) -> Int in
            try gradient.withUnsafeBufferPointer { (g) throws(HLRError) -> Int in
                guard let update else {
                    return try copy.runHostStep(
                        step: step, weights: w, gradient: g, update: nil, layout: layout,
                        currentLoss: currentLoss, loss: lossOracle, hvp: hvpOracle, maxRounds: maxRounds)
                }
                return try update.withUnsafeBufferPointer { (u) throws(HLRError) -> Int in
                    try copy.runHostStep(
                        step: step, weights: w, gradient: g, update: u, layout: layout,
                        currentLoss: currentLoss, loss: lossOracle, hvp: hvpOracle, maxRounds: maxRounds)
                }
            }
        }
        self = copy
        return rounds
    }
}

/// Limits of the host-step driver.
public enum HostStepLimits {
    /// Default cap on the observations of one step: far above any method's need (Armijo makes at
    /// most 1 + max_backtracks + 1 ≤ 1002).
    public static let defaultMaxRounds = 4096
}
