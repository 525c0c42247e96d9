extension EstimatorResultKey {
    /// Whether the result is made of backend vectors rather than Doubles.
    public var isVector: Bool { self == .eigenvectors || self == .diagonal }
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
