/// Names of the results of an estimator run (`HLR_RESULT_*` in the C header). Raw values are
/// stable and never reused. Every result is an array of Doubles (a scalar is an array of one;
/// counts and flags are exact integers), except the vector results (`eigenvectors`, `diagonal`),
/// which are backend vectors.
///
/// Which kind produces which key: `EstimatorKind.resultKeys`.
public enum EstimatorResultKey: Int, CatalogEnum {
    /// Lanczos, power iteration: θ₁ … θ_k (Lanczos in `which` order; power iteration in the
    /// order found).
    case eigenvalues = 1
    /// Lanczos, power iteration: residual estimates ‖H yᵢ − θᵢ yᵢ‖, one per eigenvalue.
    case residuals = 2
    /// Lanczos, power iteration with compute_vectors: k unit vectors.
    case eigenvectors = 3
    /// Lanczos: [m], the final Krylov dimension; power iteration: HVPs per eigenpair.
    case iterations = 4
    /// Lanczos, Hutchinson, Hutch++: [1 or 0]; power iteration: one flag per eigenpair.
    case converged = 5
    /// Lanczos: [an `EigenTermination` raw value] (`HLR_TERMINATION_*`).
    case termination = 6
    /// Lanczos: [restarts after an invariant subspace].
    case restarts = 7
    /// Lanczos, SLQ, XDiag: [largest relative asymmetry measured].
    case maxAsymmetry = 8
    /// Every kind: [HVPs spent].
    case hvps = 9
    /// Hutchinson, Hutch++: [tr(H) estimate]; diagonal: [Σᵢ d̂ᵢ, the Hutchinson trace of the same
    /// probes]; XDiag: [the XTrace estimate from the same test vectors]; SLQ: [n · mean_r vᵣᵀHvᵣ,
    /// the trace the quadrature rules imply].
    case trace = 10
    /// Hutchinson, Hutch++: [standard error of the trace estimate].
    case standardError = 11
    /// Hutchinson, Hutch++ with blocks: per-block traces (they sum to the trace).
    case blockTraces = 12
    /// Hutchinson, Hutch++ with blocks: per-block standard errors.
    case blockTraceErrors = 13
    /// Hutchinson, Hutch++ (residual probes), diagonal, XTrace, XDiag: [probes drawn].
    case samples = 14
    /// Hutch++, XTrace, XDiag: [rank of the sketch basis Q].
    case sketchRank = 15
    /// Diagonal, XDiag: the estimate d̂ (one vector).
    case diagonal = 16
    /// Diagonal, XDiag with blocks: per-block means of d̂.
    case blockMeans = 17
    /// Diagonal with blocks: standard errors of the block means.
    case blockMeanErrors = 18
    /// SLQ: the Ritz values θ_{r,i} of every run, run after run (ascending within a run).
    case densityNodes = 19
    /// SLQ: the quadrature weights w_{r,i}, aligned with the nodes (each run's sum to 1).
    case densityWeights = 20
    /// SLQ: nodes per run (Lanczos steps taken; fewer than asked after a breakdown).
    case runSteps = 21
    /// SLQ: the density grid t_g (ascending, uniform).
    case grid = 22
    /// SLQ: the smoothed density φ(t_g), trapezoid-normalised to integrate to 1 on the grid.
    case density = 23
    /// SLQ: [σ used for the smoothing].
    case sigma = 24
    /// Lanczos: estimated eigenvalue errors min(rᵢ, rᵢ²/gapᵢ), one per eigenvalue (see
    /// `Lanczos`).
    case errorBounds = 25

    /// Whether the result is made of backend vectors rather than Doubles.
    public var isVector: Bool { self == .eigenvectors || self == .diagonal }

    /// Parses a C key, naming the bad value on failure (`unknownKey`).
    public static func from(rawValue: Int) throws(HLRError) -> EstimatorResultKey {
        guard let key = EstimatorResultKey(rawValue: rawValue) else {
            throw HLRError(.unknownKey, "unknown estimator result \(rawValue)")
        }
        return key
    }
}

extension EstimatorKind {
    /// Every result a run of this kind can produce, in a fixed order. Block results need block
    /// offsets; eigenvectors need compute_vectors = 1.
    public var resultKeys: [EstimatorResultKey] {
        switch self {
        case .lanczos:
            return [.eigenvalues, .residuals, .eigenvectors, .iterations, .converged, .termination,
                    .restarts, .maxAsymmetry, .hvps, .errorBounds]
        case .powerIteration:
            return [.eigenvalues, .residuals, .eigenvectors, .iterations, .converged, .maxAsymmetry, .hvps]
        case .hutchinson:
            return [.trace, .standardError, .blockTraces, .blockTraceErrors, .samples, .converged,
                    .maxAsymmetry, .hvps]
        case .hutchPlusPlus:
            return [.trace, .standardError, .blockTraces, .blockTraceErrors, .samples, .sketchRank,
                    .converged, .maxAsymmetry, .hvps]
        case .diagonal:
            return [.diagonal, .trace, .blockMeans, .blockMeanErrors, .samples, .maxAsymmetry, .hvps]
        case .spectralDensity:
            return [.densityNodes, .densityWeights, .runSteps, .trace, .grid, .density, .sigma,
                    .maxAsymmetry, .hvps]
        case .xtrace:
            return [.trace, .standardError, .samples, .sketchRank, .converged, .maxAsymmetry, .hvps]
        case .xdiag:
            return [.diagonal, .trace, .blockMeans, .blockMeanErrors, .samples, .sketchRank, .maxAsymmetry, .hvps]
        }
    }
}
