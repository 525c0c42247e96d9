/// Host mode's `StepBackend`: the trainer's flat buffers (weights w, gradient g, direction d =
/// the optimizer's update u, or g) with a loss oracle and an HVP oracle.
///
/// - `slopes`: g_kᵀd_k over each group's slice by `HostScalar.dot` (fixed-order float64).
/// - `curvatures`: `QuadraticTerms.curvatures` (one HVP of d masked to each group).
/// - `setTrial`: builds w − Σ_k ξ_k·d_k in one library scratch buffer (allocated at the first
///   trial, reused): element i of group k is T(Double(wᵢ) − ξ_k·Double(dᵢ)), computed in float64
///   and rounded once, so ξ_k = 0 gives wᵢ bit for bit. The weights are never written.
/// - `loss`: the oracle at the scratch buffer after `setTrial`, at w itself otherwise.
/// - `restore`: forgets the trial (w was never changed).
///
/// Non-finite w or d are refused (`nonFinite`, naming the element) before the first trial.
public struct HostStepBackend<T: HostScalar>: StepBackend {
    public let weights: UnsafeBufferPointer<T>
    public let gradient: UnsafeBufferPointer<T>
    public let direction: UnsafeBufferPointer<T>
    public let layout: GroupLayout
    public let lossOracle: LossProbes.Oracle<T>?
    public let hvp: QuadraticTerms.HVP<T>?
    private var scratch: [T] = []
    private var trialActive = false
    private var buffersChecked = false

    public var groupCount: Int { layout.groupCount }

    /// Checks the buffer lengths against the layout (`invalidArgument`).
    public init(
        weights: UnsafeBufferPointer<T>, gradient: UnsafeBufferPointer<T>, direction: UnsafeBufferPointer<T>,
        layout: GroupLayout, loss: LossProbes.Oracle<T>?, hvp: QuadraticTerms.HVP<T>?
    ) throws(HLRError) {
        let n = layout.elementCount
        guard n >= 1 else { throw .invalid("n must be ≥ 1, got 0 (the buffers hold no element)") }
        guard weights.count == n, gradient.count == n, direction.count == n else {
            throw .invalid(
                "weights (\(weights.count)), gradient (\(gradient.count)) and direction (\(direction.count)) "
                    + "must all have \(n) elements")
        }
        self.weights = weights
        self.gradient = gradient
        self.direction = direction
        self.layout = layout
        self.lossOracle = loss
        self.hvp = hvp
    }

    public mutating func slopes() throws(HLRError) -> [Double] {
        QuadraticTerms.slopes(gradient: gradient, direction: direction, layout: layout)
    }

    public mutating func curvatures() throws(HLRError) -> [Double] {
        guard let hvp else { throw .invalid("the step needs curvature but no HVP oracle was given") }
        return try QuadraticTerms.curvatures(direction: direction, layout: layout, hvp: hvp)
    }

    public mutating func setTrial(_ steps: [Double]) throws(HLRError) {
        guard lossOracle != nil else {
            throw .invalid("the step needs losses at \(steps.count)-group trial weights but no loss oracle was given")
        }
        if !buffersChecked {
            try LossProbes.checkBuffers(weights: weights, direction: direction, layout: layout)
            buffersChecked = true
        }
        if scratch.isEmpty { scratch = [T](repeating: 0, count: layout.elementCount) }
        LossProbes.fillTrial(&scratch, weights: weights, direction: direction, layout: layout, steps: steps)
        trialActive = true
    }

    public mutating func loss() throws(HLRError) -> Double {
        guard let lossOracle else {
            throw .invalid("the step needs the loss at the current weights but no loss oracle was given")
        }
        if trialActive {
            return try scratch.withUnsafeBufferPointer { (trial) throws(HLRError) in try lossOracle(trial) }
        }
        return try lossOracle(weights)
    }

    public mutating func restore() throws(HLRError) { trialActive = false }
}
