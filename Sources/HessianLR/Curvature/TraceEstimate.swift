/// The outcome of `Hutchinson.trace` and `HutchPlusPlus.trace`.
public struct TraceEstimate: Sendable, Equatable {
    /// The estimate of tr(H).
    public var estimate: Double
    /// Its standard error: sample standard deviation of the per-probe values / √samples (for
    /// Hutch++ that of the residual part, conditional on the sketch; 0 when the sketch captured
    /// everything; +∞ with a single stochastic sample).
    public var standardError: Double
    /// Per-block estimates of tr(P_b H P_b) when blocks were given (they sum to `estimate` up to
    /// rounding), else empty.
    public var blockEstimates: [Double]
    /// Per-block standard errors, like `standardError`.
    public var blockStandardErrors: [Double]
    /// Stochastic probes used (Hutch++: residual probes only).
    public var samples: Int
    /// Hutch++: the rank of the sketch basis Q (0 for Hutchinson).
    public var sketchRank: Int
    /// HVPs spent.
    public var hvpCount: Int
    /// Fixed budget: true. Adaptive: whether standardError ≤ relativeTolerance·|estimate| was
    /// reached before the budget ran out.
    public var converged: Bool
    /// The largest relative asymmetry the run measured (0 where the kind checks none; see the
    /// kinds' `symmetryTolerance`).
    public var maxAsymmetry = 0.0
}

/// Welford's running mean and variance of a fixed number of series (the total and each block),
/// updated in sample order: deterministic.
struct RunningMoments {
    private(set) var count = 0
    private(set) var mean: [Double]
    private var squares: [Double]

    init(series: Int) {
        mean = [Double](repeating: 0, count: series)
        squares = [Double](repeating: 0, count: series)
    }

    mutating func add(_ values: [Double]) {
        count += 1
        for index in mean.indices {
            let delta = values[index] - mean[index]
            mean[index] += delta / Double(count)
            squares[index] += delta * (values[index] - mean[index])
        }
    }

    /// √(s²/count), s² the unbiased sample variance; +∞ for fewer than 2 samples.
    var standardErrors: [Double] {
        guard count >= 2 else { return mean.map { _ in .infinity } }
        return squares.map { (Swift.max($0, 0) / Double(count - 1) / Double(count)).squareRoot() }
    }
}
