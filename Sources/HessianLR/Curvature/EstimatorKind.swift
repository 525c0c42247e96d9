/// The curvature estimators a configuration (`EstimatorConfig`) can run. Raw values are stable
/// (`HLR_ESTIMATOR_*` in the C header) and never reused.
public enum EstimatorKind: Int, CatalogEnum {
    /// Extreme eigenpairs by Lanczos with full reorthogonalisation (`Lanczos.eigenpairs`).
    case lanczos = 1
    /// Top-|λ| eigenpairs by power iteration with deflation (`PowerIteration.eigenpairs`).
    case powerIteration = 2
    /// tr(H) by Hutchinson's estimator (`Hutchinson.trace`).
    case hutchinson = 3
    /// tr(H) by Hutch++ (`HutchPlusPlus.trace`).
    case hutchPlusPlus = 4
    /// diag(H) by Hutchinson's diagonal estimator (`HutchinsonDiagonal.estimate`).
    case diagonal = 5
    /// Spectral density by stochastic Lanczos quadrature, smoothed on a grid
    /// (`SpectralDensity.quadrature`, then `DensityGrid`).
    case spectralDensity = 6
    /// tr(H) by XTrace, the exchangeable Hutch++ (`XTrace.trace`).
    case xtrace = 7
    /// diag(H) by XDiag, the exchangeable diagonal estimator (`XDiag.estimate`).
    case xdiag = 8

    /// Whether the kind estimates per-block quantities when given block offsets.
    public var acceptsBlocks: Bool {
        switch self {
        case .hutchinson, .hutchPlusPlus, .diagonal, .xdiag: return true
        case .lanczos, .powerIteration, .spectralDensity, .xtrace: return false
        }
    }

    /// Parses a C kind id, naming the bad value on failure (`unknownMethod`).
    public static func from(rawValue: Int) throws(HLRError) -> EstimatorKind {
        guard let kind = EstimatorKind(rawValue: rawValue) else {
            throw HLRError(.unknownMethod, "unknown estimator kind \(rawValue)")
        }
        return kind
    }

    /// Ranges and defaults of every parameter this kind has, in a fixed order. Defaults are the
    /// estimators' own (`LanczosOptions()`, `HutchPlusPlusOptions()`, …), with a sentinel where
    /// Swift uses nil: sketch_size 0 and sigma 0 mean automatic, grid_lower −∞ and grid_upper +∞
    /// mean automatic.
    public var parameterSpecs: [EstimatorParameterSpec] {
        typealias Spec = EstimatorParameterSpec
        let threads = Spec.count(.threads, minimum: 1, maximum: Spec.maxThreads, default: 1)
        switch self {
        case .lanczos:
            let d = LanczosOptions()
            return [
                Spec.count(.count, minimum: 1, maximum: Spec.maxVectors, default: d.count),
                Spec.choice(.which, EigenTarget.self, default: d.which.rawValue),
                Spec(.tolerance, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude, default: d.tolerance),
                Spec.count(.maxDimension, minimum: 1, maximum: Spec.maxVectors, default: d.maxDimension),
                Spec.choice(.distribution, ProbeDistribution.self, default: d.distribution.rawValue),
                Spec.flag(.computeVectors, default: d.computeVectors),
                Spec(.symmetryTolerance, minimum: .leastNormalMagnitude, maximum: .infinity, default: d.symmetryTolerance),
                threads,
                Spec(.eigenvalueTolerance, minimum: 0, maximum: .greatestFiniteMagnitude, default: d.eigenvalueTolerance),
            ]
        case .powerIteration:
            let d = PowerIterationOptions()
            return [
                Spec.count(.count, minimum: 1, maximum: Spec.maxVectors, default: d.count),
                Spec(.tolerance, minimum: 0, maximum: .greatestFiniteMagnitude, default: d.tolerance),
                Spec.count(.maxIterations, minimum: 1, maximum: Spec.maxCount, default: d.maxIterations),
                Spec.choice(.distribution, ProbeDistribution.self, default: d.distribution.rawValue),
                Spec.flag(.computeVectors, default: d.computeVectors),
                Spec(.symmetryTolerance, minimum: .leastNormalMagnitude, maximum: .infinity, default: d.symmetryTolerance),
                threads,
            ]
        case .hutchinson:
            let d = HutchinsonOptions()
            return [
                Spec.count(.samples, minimum: 1, maximum: Spec.maxCount, default: d.maxSamples),
                Spec(.relativeTolerance, minimum: 0, maximum: .greatestFiniteMagnitude, default: d.relativeTolerance),
                Spec.count(.minSamples, minimum: 2, maximum: Spec.maxCount, default: d.minSamples),
                Spec.choice(.distribution, ProbeDistribution.self, default: d.distribution.rawValue),
                Spec(.symmetryTolerance, minimum: .leastNormalMagnitude, maximum: .infinity, default: d.symmetryTolerance),
                threads,
                Spec.count(.hvpBlock, minimum: 1, maximum: Spec.maxVectors, default: d.hvpBlock),
            ]
        case .hutchPlusPlus:
            let d = HutchPlusPlusOptions()
            return [
                Spec.count(.matvecs, minimum: 1, maximum: Spec.maxCount, default: d.matvecs),
                Spec.count(.sketchSize, minimum: 0, maximum: Spec.maxVectors, default: d.sketchSize ?? 0),
                Spec(.relativeTolerance, minimum: 0, maximum: .greatestFiniteMagnitude, default: d.relativeTolerance),
                Spec.count(.minSamples, minimum: 2, maximum: Spec.maxCount, default: d.minResidualSamples),
                Spec.choice(.distribution, ProbeDistribution.self, default: d.distribution.rawValue),
                Spec(.symmetryTolerance, minimum: .leastNormalMagnitude, maximum: .infinity, default: d.symmetryTolerance),
                threads,
                Spec.count(.hvpBlock, minimum: 1, maximum: Spec.maxVectors, default: d.hvpBlock),
            ]
        case .diagonal:
            let d = DiagonalOptions()
            return [
                Spec.count(.samples, minimum: 1, maximum: Spec.maxCount, default: d.samples),
                Spec(.symmetryTolerance, minimum: .leastNormalMagnitude, maximum: .infinity, default: d.symmetryTolerance),
                threads,
                Spec.count(.hvpBlock, minimum: 1, maximum: Spec.maxVectors, default: d.hvpBlock),
            ]
        case .spectralDensity:
            let d = SpectralDensityOptions()
            let g = DensityGridOptions()
            return [
                Spec.count(.runs, minimum: 1, maximum: Spec.maxVectors, default: d.runs),
                Spec.count(.steps, minimum: 1, maximum: Spec.maxVectors, default: d.steps),
                Spec.choice(.distribution, ProbeDistribution.self, default: d.distribution.rawValue),
                Spec(.symmetryTolerance, minimum: .leastNormalMagnitude, maximum: .infinity, default: d.symmetryTolerance),
                Spec.count(.gridPoints, minimum: 2, maximum: 10_000_000, default: g.points),
                Spec(.sigma, minimum: 0, maximum: .greatestFiniteMagnitude, default: g.sigma ?? 0),
                Spec(.gridLower, minimum: -.infinity, maximum: .greatestFiniteMagnitude, default: g.lower ?? -.infinity),
                Spec(.gridUpper, minimum: -.greatestFiniteMagnitude, maximum: .infinity, default: g.upper ?? .infinity),
                threads,
                Spec.count(.hvpBlock, minimum: 1, maximum: Spec.maxVectors, default: d.hvpBlock),
            ]
        case .xtrace:
            let d = XTraceOptions()
            return [
                Spec.count(.matvecs, minimum: 2, maximum: 2 * Spec.maxVectors, default: d.matvecs),
                Spec.choice(.distribution, ProbeDistribution.self, default: d.distribution.rawValue),
                Spec(.symmetryTolerance, minimum: .leastNormalMagnitude, maximum: .infinity, default: d.symmetryTolerance),
                threads,
                Spec.count(.hvpBlock, minimum: 1, maximum: Spec.maxVectors, default: d.hvpBlock),
            ]
        case .xdiag:
            let d = XDiagOptions()
            return [
                Spec.count(.matvecs, minimum: 2, maximum: 2 * Spec.maxVectors, default: d.matvecs),
                Spec.choice(.distribution, ProbeDistribution.self, default: d.distribution.rawValue),
                Spec(.symmetryTolerance, minimum: .leastNormalMagnitude, maximum: .infinity, default: d.symmetryTolerance),
                threads,
                Spec.count(.hvpBlock, minimum: 1, maximum: Spec.maxVectors, default: d.hvpBlock),
            ]
        }
    }

    /// The spec of one parameter, or `unknownKey` naming the parameter and the kind.
    public func spec(for parameter: EstimatorParameter) throws(HLRError) -> EstimatorParameterSpec {
        guard let spec = parameterSpecs.first(where: { $0.parameter == parameter }) else {
            throw HLRError(.unknownKey, "estimator kind \(name) has no parameter \(parameter.name)")
        }
        return spec
    }
}
