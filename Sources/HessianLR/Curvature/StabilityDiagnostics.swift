
/// Linear-stability diagnostics of a learning rate η against curvature estimates, as pure
/// functions (units: η in parameter units per gradient unit, λ and tr(H) in loss per parameter²).
public enum StabilityDiagnostics {
    /// Gradient descent on a quadratic with top eigenvalue λ_max is stable iff η·λ_max < 2 (Cohen
    /// et al. 2021, "edge of stability"). Returns η·λ_max / 2: < 1 stable, ≈ 1 at the edge, > 1
    /// unstable along the top eigenvector.
    public static func edgeOfStability(learningRate: Double, lambdaMax: Double) throws(HLRError) -> Double {
        try check(learningRate, "the learning rate", positive: true)
        try check(lambdaMax, "λ_max", positive: false)
        return try finite(learningRate * lambdaMax / 2, "lr · lambda_max / 2 = \(learningRate) · \(lambdaMax) / 2")
    }

    /// The largest stable gradient-descent step 2/λ_max (+∞ when λ_max ≤ 0).
    public static func maxStableLearningRate(lambdaMax: Double) throws(HLRError) -> Double {
        try check(lambdaMax, "λ_max", positive: false)
        return lambdaMax > 0 ? 2 / lambdaMax : .infinity
    }

    /// SGD linear stability (Wu, Ma, E 2018; seed 003): a minimum is linearly stable for SGD only
    /// if tr(H) ≤ 2/η. Returns η·tr(H) / 2: > 1 means SGD cannot stay at this minimum.
    public static func sgdTraceStability(learningRate: Double, trace: Double) throws(HLRError) -> Double {
        try check(learningRate, "the learning rate", positive: true)
        try check(trace, "the trace", positive: false)
        return try finite(learningRate * trace / 2, "lr · trace / 2 = \(learningRate) · \(trace) / 2")
    }

    /// How the largest stable learning rate moves with the batch size (Granziol et al., "Learning
    /// rates as a function of batch size", JMLR 2022).
    public enum BatchScaling: Int, Sendable, CaseIterable {
        /// SGD: η ∝ B.
        case linear = 1
        /// Adam and other adaptive methods: η ∝ √B.
        case squareRoot = 2
    }

    /// η·(B_new/B_old) for `.linear`, η·√(B_new/B_old) for `.squareRoot`.
    public static func scaledLearningRate(
        _ learningRate: Double, fromBatchSize old: Double, toBatchSize new: Double, rule: BatchScaling
    ) throws(HLRError) -> Double {
        try check(learningRate, "the learning rate", positive: true)
        try check(old, "the old batch size", positive: true)
        try check(new, "the new batch size", positive: true)
        let ratio = new / old
        return try finite(
            learningRate * (rule == .linear ? ratio : ratio.squareRoot()), "lr scaled from batch \(old) to \(new)")
    }

    /// A diagnostic that overflows is refused (`nonFinite`, naming the inputs), never returned.
    private static func finite(_ value: Double, _ what: @autoclosure () -> String) throws(HLRError) -> Double {
        guard value.isFinite else { throw HLRError(.nonFinite, "\(what()) overflows (\(value))") }
        return value
    }

    private static func check(_ value: Double, _ name: String, positive: Bool) throws(HLRError) {
        guard value.isFinite else { throw HLRError(.nonFinite, "\(name) is not finite (\(value))") }
        if positive && !(value > 0) { throw .invalid("\(name) must be > 0, got \(value)") }
    }
}
