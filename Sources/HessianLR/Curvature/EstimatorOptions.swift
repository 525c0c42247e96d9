/// The typed options an `EstimatorConfig` passes to each estimator: parameters map one to one
/// onto option fields, sentinels onto nil (sketch_size 0, sigma 0, grid_lower −∞, grid_upper +∞),
/// the seed and the blocks are copied. A configuration with default parameters gives exactly the
/// estimators' default options (`EstimatorConfigTests` checks it).
extension EstimatorConfig {
    public var lanczosOptions: LanczosOptions {
        var options = LanczosOptions()
        options.count = integer(.count)
        options.which = EigenTarget(rawValue: integer(.which)) ?? options.which
        options.tolerance = double(.tolerance)
        options.maxDimension = integer(.maxDimension)
        options.seed = seed
        options.distribution = ProbeDistribution(rawValue: integer(.distribution)) ?? options.distribution
        options.computeVectors = integer(.computeVectors) == 1
        options.symmetryTolerance = double(.symmetryTolerance)
        options.eigenvalueTolerance = double(.eigenvalueTolerance)
        return options
    }

    public var powerIterationOptions: PowerIterationOptions {
        var options = PowerIterationOptions()
        options.count = integer(.count)
        options.tolerance = double(.tolerance)
        options.maxIterations = integer(.maxIterations)
        options.symmetryTolerance = double(.symmetryTolerance)
        options.seed = seed
        options.distribution = ProbeDistribution(rawValue: integer(.distribution)) ?? options.distribution
        options.computeVectors = integer(.computeVectors) == 1
        return options
    }

    public var hutchinsonOptions: HutchinsonOptions {
        var options = HutchinsonOptions()
        options.maxSamples = integer(.samples)
        options.relativeTolerance = double(.relativeTolerance)
        options.minSamples = integer(.minSamples)
        options.distribution = ProbeDistribution(rawValue: integer(.distribution)) ?? options.distribution
        options.symmetryTolerance = double(.symmetryTolerance)
        options.seed = seed
        options.blocks = blocks
        options.hvpBlock = integer(.hvpBlock)
        return options
    }

    public var hutchPlusPlusOptions: HutchPlusPlusOptions {
        var options = HutchPlusPlusOptions()
        options.matvecs = integer(.matvecs)
        let sketch = integer(.sketchSize)
        options.sketchSize = sketch == 0 ? nil : sketch
        options.relativeTolerance = double(.relativeTolerance)
        options.minResidualSamples = integer(.minSamples)
        options.distribution = ProbeDistribution(rawValue: integer(.distribution)) ?? options.distribution
        options.symmetryTolerance = double(.symmetryTolerance)
        options.seed = seed
        options.blocks = blocks
        options.hvpBlock = integer(.hvpBlock)
        return options
    }

    public var xtraceOptions: XTraceOptions {
        var options = XTraceOptions()
        options.matvecs = integer(.matvecs)
        options.distribution = ProbeDistribution(rawValue: integer(.distribution)) ?? options.distribution
        options.symmetryTolerance = double(.symmetryTolerance)
        options.seed = seed
        options.hvpBlock = integer(.hvpBlock)
        return options
    }

    public var xdiagOptions: XDiagOptions {
        var options = XDiagOptions()
        options.matvecs = integer(.matvecs)
        options.distribution = ProbeDistribution(rawValue: integer(.distribution)) ?? options.distribution
        options.symmetryTolerance = double(.symmetryTolerance)
        options.seed = seed
        options.blocks = blocks
        options.hvpBlock = integer(.hvpBlock)
        return options
    }

    public var diagonalOptions: DiagonalOptions {
        var options = DiagonalOptions()
        options.samples = integer(.samples)
        options.symmetryTolerance = double(.symmetryTolerance)
        options.seed = seed
        options.blocks = blocks
        options.hvpBlock = integer(.hvpBlock)
        return options
    }

    public var spectralDensityOptions: SpectralDensityOptions {
        var options = SpectralDensityOptions()
        options.runs = integer(.runs)
        options.steps = integer(.steps)
        options.distribution = ProbeDistribution(rawValue: integer(.distribution)) ?? options.distribution
        options.seed = seed
        options.symmetryTolerance = double(.symmetryTolerance)
        options.hvpBlock = integer(.hvpBlock)
        return options
    }

    public var densityGridOptions: DensityGridOptions {
        var options = DensityGridOptions()
        options.points = integer(.gridPoints)
        let sigma = double(.sigma), lower = double(.gridLower), upper = double(.gridUpper)
        options.sigma = sigma == 0 ? nil : sigma
        options.lower = lower.isFinite ? lower : nil
        options.upper = upper.isFinite ? upper : nil
        return options
    }
}
