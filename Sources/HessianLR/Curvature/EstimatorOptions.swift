/// The typed options an `EstimatorConfig` passes to each estimator, and each kind's parameter
/// table: parameters map one to one onto option fields (`EstimatorField`), sentinels onto nil
/// (sketch_size 0, sigma 0, grid_lower −∞, grid_upper +∞), the seed and the blocks are copied. A
/// configuration with default parameters gives exactly the estimators' default options
/// (`EstimatorConfigTests` checks it). The order of each table is the kind's parameter order.
extension EstimatorConfig {
    /// The options of type `O` this configuration describes: `O()` with every parameter of the
    /// table written from the configuration's values, the seed and the blocks.
    public func options<O: EstimatorOptionsTable>(_: O.Type = O.self) -> O {
        var options = O()
        for field in O.fields {
            if let value = values[field.parameter] { field.write(&options, value) }
        }
        options.seed = seed
        options.blocks = blocks
        return options
    }

    public var lanczosOptions: LanczosOptions { options() }
    public var powerIterationOptions: PowerIterationOptions { options() }
    public var hutchinsonOptions: HutchinsonOptions { options() }
    public var hutchPlusPlusOptions: HutchPlusPlusOptions { options() }
    public var xtraceOptions: XTraceOptions { options() }
    public var xdiagOptions: XDiagOptions { options() }
    public var diagonalOptions: DiagonalOptions { options() }
    public var spectralDensityOptions: SpectralDensityOptions { options(SpectralDensityRunOptions.self).density }
    public var densityGridOptions: DensityGridOptions { options(SpectralDensityRunOptions.self).grid }
}

private typealias Limits = EstimatorParameterSpec

extension LanczosOptions: EstimatorOptionsTable {
    public static let fields: [EstimatorField<Self>] = [
        .count(.count, \.count, minimum: 1, maximum: Limits.maxVectors),
        .choice(.which, \.which),
        .real(.tolerance, \.tolerance, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude),
        .count(.maxDimension, \.maxDimension, minimum: 1, maximum: Limits.maxVectors),
        .distribution(\.distribution),
        .flag(.computeVectors, \.computeVectors),
        .symmetryTolerance(\.symmetryTolerance),
        .threads,
        .real(.eigenvalueTolerance, \.eigenvalueTolerance, minimum: 0, maximum: .greatestFiniteMagnitude),
    ]
}

extension PowerIterationOptions: EstimatorOptionsTable {
    public static let fields: [EstimatorField<Self>] = [
        .count(.count, \.count, minimum: 1, maximum: Limits.maxVectors),
        .real(.tolerance, \.tolerance, minimum: 0, maximum: .greatestFiniteMagnitude),
        .count(.maxIterations, \.maxIterations, minimum: 1, maximum: Limits.maxCount),
        .distribution(\.distribution),
        .flag(.computeVectors, \.computeVectors),
        .symmetryTolerance(\.symmetryTolerance),
        .threads,
    ]
}

extension HutchinsonOptions: EstimatorOptionsTable, BlockedProbeOptions {
    public static let fields: [EstimatorField<Self>] = [
        .count(.samples, \.maxSamples, minimum: 1, maximum: Limits.maxCount),
        .real(.relativeTolerance, \.relativeTolerance, minimum: 0, maximum: .greatestFiniteMagnitude),
        .count(.minSamples, \.minSamples, minimum: 2, maximum: Limits.maxCount),
    ] + EstimatorField.probeTail
}

extension HutchPlusPlusOptions: EstimatorOptionsTable, BlockedProbeOptions {
    public static let fields: [EstimatorField<Self>] = [
        .count(.matvecs, \.matvecs, minimum: 1, maximum: Limits.maxCount),
        .optionalCount(.sketchSize, \.sketchSize, maximum: Limits.maxVectors),
        .real(.relativeTolerance, \.relativeTolerance, minimum: 0, maximum: .greatestFiniteMagnitude),
        .count(.minSamples, \.minResidualSamples, minimum: 2, maximum: Limits.maxCount),
    ] + EstimatorField.probeTail
}

extension DiagonalOptions: EstimatorOptionsTable {
    public static let fields: [EstimatorField<Self>] = [
        .count(.samples, \.samples, minimum: 1, maximum: Limits.maxCount),
        .symmetryTolerance(\.symmetryTolerance),
        .threads,
        .hvpBlock(\.hvpBlock),
    ]
}

/// What a spectral-density configuration sets: the quadrature's options and the grid's.
public struct SpectralDensityRunOptions: EstimatorOptionsTable, Equatable {
    public var density = SpectralDensityOptions()
    public var grid = DensityGridOptions()

    public init() {}

    public var seed: UInt64 {
        get { density.seed }
        set { density.seed = newValue }
    }

    public static let fields: [EstimatorField<Self>] = [
        .count(.runs, \.density.runs, minimum: 1, maximum: Limits.maxVectors),
        .count(.steps, \.density.steps, minimum: 1, maximum: Limits.maxVectors),
        .distribution(\.density.distribution),
        .symmetryTolerance(\.density.symmetryTolerance),
        .count(.gridPoints, \.grid.points, minimum: 2, maximum: 10_000_000),
        .optionalReal(.sigma, \.grid.sigma, minimum: 0, maximum: .greatestFiniteMagnitude, automatic: 0),
        .optionalReal(.gridLower, \.grid.lower, minimum: -.infinity, maximum: .greatestFiniteMagnitude, automatic: -.infinity),
        .optionalReal(.gridUpper, \.grid.upper, minimum: -.greatestFiniteMagnitude, maximum: .infinity, automatic: .infinity),
        .threads,
        .hvpBlock(\.density.hvpBlock),
    ]
}

extension XTraceOptions: EstimatorOptionsTable, BlockedProbeOptions {
    public static let fields: [EstimatorField<Self>] = [
        .count(.matvecs, \.matvecs, minimum: 2, maximum: 2 * Limits.maxVectors),
    ] + EstimatorField.probeTail
}

extension XDiagOptions: EstimatorOptionsTable, BlockedProbeOptions {
    public static let fields: [EstimatorField<Self>] = [
        .count(.matvecs, \.matvecs, minimum: 2, maximum: 2 * Limits.maxVectors),
    ] + EstimatorField.probeTail
}
