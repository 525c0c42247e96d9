extension EstimatorConfig {
    /// Runs the configured estimator on `backend` and collects its outcome under
    /// `EstimatorResultKey` names. Validates everything first (`validate(dimension:)`, then the
    /// estimator's own checks), so an invalid configuration fails before any backend operation.
    /// Errors are the estimator's (`invalidArgument`, `nonFinite`, the backend's own such as
    /// `callbackFailed`); on any error every vector the run made has been released.
    ///
    /// Counts and flags are reported as exact Doubles (converged 1/0, termination raw value).
    public func run<B: OperatorBackend>(on backend: B) throws(HLRError) -> EstimatorRun<B.Vector> {
        try validate(dimension: backend.dimension)
        var run = EstimatorRun<B.Vector>(kind: kind)
        func flag(_ value: Bool) -> Double { value ? 1 : 0 }
        switch kind {
        case .lanczos:
            let options = lanczosOptions
            let result = try Lanczos.eigenpairs(of: backend, options: options)
            run.values[.eigenvalues] = result.eigenvalues
            run.values[.residuals] = result.residuals
            run.values[.errorBounds] = result.errorBounds
            run.values[.iterations] = [Double(result.iterations)]
            run.values[.converged] = [flag(result.converged)]
            run.values[.termination] = [Double(result.termination.rawValue)]
            run.values[.restarts] = [Double(result.restarts)]
            run.values[.maxAsymmetry] = [result.maxAsymmetry]
            run.values[.hvps] = [Double(result.hvpCount)]
            if options.computeVectors { run.vectors[.eigenvectors] = result.eigenvectors }
        case .powerIteration:
            let options = powerIterationOptions
            let result = try PowerIteration.eigenpairs(of: backend, options: options)
            run.values[.eigenvalues] = result.eigenvalues
            run.values[.residuals] = result.residuals
            run.values[.iterations] = result.iterations.map(Double.init)
            run.values[.converged] = result.converged.map(flag)
            run.values[.maxAsymmetry] = [result.maxAsymmetry]
            run.values[.hvps] = [Double(result.hvpCount)]
            if options.computeVectors { run.vectors[.eigenvectors] = result.eigenvectors }
        case .hutchinson:
            record(try Hutchinson.trace(of: backend, options: hutchinsonOptions), into: &run)
        case .hutchPlusPlus:
            let result = try HutchPlusPlus.trace(of: backend, options: hutchPlusPlusOptions)
            record(result, into: &run, sketchRank: result.sketchRank)
        case .xtrace:
            let result = try XTrace.trace(of: backend, options: xtraceOptions)
            record(result, into: &run, sketchRank: result.sketchRank)
        case .diagonal:
            record(try HutchinsonDiagonal.estimate(of: backend, options: diagonalOptions), into: &run)
        case .xdiag:
            let result = try XDiag.estimate(of: backend, options: xdiagOptions)
            record(result, into: &run, sketchRank: result.sketchRank)
        case .spectralDensity:
            let quadrature = try SpectralDensity.quadrature(of: backend, options: spectralDensityOptions)
            let grid = try DensityGrid(smoothing: quadrature, options: densityGridOptions)
            run.values[.densityNodes] = Array(quadrature.nodes.joined())
            run.values[.densityWeights] = Array(quadrature.weights.joined())
            run.values[.runSteps] = quadrature.steps.map(Double.init)
            run.values[.trace] = [quadrature.traceEstimate]
            run.values[.grid] = grid.grid
            run.values[.density] = grid.density
            run.values[.sigma] = [grid.sigma]
            run.values[.maxAsymmetry] = [quadrature.maxAsymmetry]
            run.values[.hvps] = [Double(quadrature.hvpCount)]
        }
        return run
    }

    /// The results of a diagonal estimator; `sketchRank` for the sketching one (XDiag).
    private func record<V>(_ result: some DiagonalResult<V>, into run: inout EstimatorRun<V>, sketchRank: Int? = nil) {
        run.vectors[.diagonal] = [result.diagonal]
        run.values[.trace] = [result.traceEstimate]
        if blocks != nil {
            run.values[.blockMeans] = result.blockMeans
            run.values[.blockMeanErrors] = result.blockStandardErrors
        }
        run.values[.samples] = [Double(result.samples)]
        run.values[.maxAsymmetry] = [result.maxAsymmetry]
        run.values[.hvps] = [Double(result.hvpCount)]
        if let sketchRank { run.values[.sketchRank] = [Double(sketchRank)] }
    }

    /// The results of a trace estimator (blocks only where the configuration has them);
    /// `sketchRank` for the sketching ones (Hutch++, XTrace).
    private func record<V>(_ result: TraceEstimate, into run: inout EstimatorRun<V>, sketchRank: Int? = nil) {
        run.values[.trace] = [result.estimate]
        run.values[.standardError] = [result.standardError]
        if blocks != nil {
            run.values[.blockTraces] = result.blockEstimates
            run.values[.blockTraceErrors] = result.blockStandardErrors
        }
        run.values[.samples] = [Double(result.samples)]
        run.values[.converged] = [result.converged ? 1 : 0]
        run.values[.maxAsymmetry] = [result.maxAsymmetry]
        run.values[.hvps] = [Double(result.hvpCount)]
        if let sketchRank { run.values[.sketchRank] = [Double(sketchRank)] }
    }
}
