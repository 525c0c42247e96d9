extension EstimatorKind {
    /// Whether the kind estimates per-block quantities when given block offsets.
    public var acceptsBlocks: Bool {
        switch self {
        case .hutchinson, .hutchPlusPlus, .diagonal, .xdiag: return true
        case .lanczos, .powerIteration, .spectralDensity, .xtrace: return false
        }
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
