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

    /// Ranges and defaults of every parameter this kind has, in a fixed order: its options
    /// struct's table (EstimatorOptions.swift), defaults the estimators' own (`LanczosOptions()`,
    /// `HutchPlusPlusOptions()`, …), with a sentinel where Swift uses nil: sketch_size 0 and
    /// sigma 0 mean automatic, grid_lower −∞ and grid_upper +∞ mean automatic.
    public var parameterSpecs: [EstimatorParameterSpec] {
        switch self {
        case .lanczos: return LanczosOptions.parameterSpecs
        case .powerIteration: return PowerIterationOptions.parameterSpecs
        case .hutchinson: return HutchinsonOptions.parameterSpecs
        case .hutchPlusPlus: return HutchPlusPlusOptions.parameterSpecs
        case .diagonal: return DiagonalOptions.parameterSpecs
        case .spectralDensity: return SpectralDensityRunOptions.parameterSpecs
        case .xtrace: return XTraceOptions.parameterSpecs
        case .xdiag: return XDiagOptions.parameterSpecs
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
