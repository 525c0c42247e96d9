/// The generic host-mode driver: one call runs a whole step of any tuner,
///
///     while need(atStep: t) ≠ nothing:  compute that observation on the host;  observe it
///
/// with `.curvature` from `QuadraticTerms` (an HVP oracle), `.losses` from `LossProbes` and
/// `.slope` from `SlopeTerms` (a loss oracle), i.e. the same `observe` path as observation mode,
/// so host mode and observation mode give the same bits.
///
/// All-or-nothing: the loop runs on a copy of the tuner, committed only when the step needs
/// nothing more. If an oracle throws or returns a non-finite value, a buffer is malformed, a
/// needed oracle is missing or the round cap is hit, the call throws and the tuner is exactly as
/// before (a line search half done is not kept).
extension Tuner {
    /// Runs step `step` to completion on host buffers; returns the number of observations fed
    /// (0 when the step needs nothing). The rates of the step are then `learningRates(step:)`.
    ///
    /// - Parameters:
    ///   - weights: w, the current weights (n elements); read only.
    ///   - gradient: g at w (n elements).
    ///   - update: the optimizer's update u when the trainer steps w ← w − η·u; nil when it steps
    ///     along g. The direction d of losses and slopes is `update ?? gradient`; for curvature it
    ///     must agree with `usesUpdateDirection` (as in `observeCurvature` host mode).
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
        let n = layout.elementCount
        guard weights.count == n, gradient.count == n, update.map({ $0.count == n }) ?? true else {
            throw .invalid(
                "weights (\(weights.count)), gradient (\(gradient.count)) and update "
                    + "(\(update.map { "\($0.count)" } ?? "none")) must all have \(n) elements")
        }
        let direction = update ?? gradient
        var next = self
        var rounds = 0
        while true {
            let need = next.need(atStep: step)
            guard let kind = need.kind else { break }
            guard rounds < maxRounds else {
                throw HLRError(
                    .wrongState,
                    "step \(step) still needs \(kind.name) after \(rounds) observations (max_rounds \(maxRounds))")
            }
            let values: [Double]
            switch need {
            case .nothing:
                values = []
            case .curvature:
                guard let hvp else {
                    throw .invalid("step \(step) needs curvature but no HVP oracle was given")
                }
                values = try next.hostObservation(
                    step: step, gradient: gradient, update: update, layout: layout, hvp: hvp)
            case .losses(let probes):
                guard let loss else {
                    throw .invalid("step \(step) needs losses at \(probes.count) probes but no loss oracle was given")
                }
                values = try LossProbes.compute(
                    weights: weights, direction: direction, layout: layout, probes: probes,
                    currentLoss: currentLoss, loss: loss)
            case .slope:
                values = try SlopeTerms.compute(
                    weights: weights, gradient: gradient, direction: direction, layout: layout,
                    currentLoss: currentLoss, loss: loss)
            }
            try next.observe(step: step, kind: kind, values: values)
            rounds += 1
        }
        self = next
        return rounds
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
