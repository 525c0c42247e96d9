extension ScheduleKind {
    /// True for the kinds built from other schedules (`join`, `warmup`).
    public var isComposite: Bool { self == .join || self == .warmup }

    /// Ranges and defaults of every parameter this kind has, in a fixed order.
    public var parameterSpecs: [ScheduleParameterSpec] {
        switch self {
        case .constant: return ConstantSchedule.specs
        case .linear: return LinearSchedule.specs
        case .step: return StepSchedule.specs
        case .multiStep: return MultiStepSchedule.specs
        case .exponential: return ExponentialSchedule.specs
        case .polynomial: return PolynomialSchedule.specs
        case .cosine: return CosineSchedule.specs
        case .cosineWarmRestarts: return CosineWarmRestartsSchedule.specs
        case .oneCycle: return OneCycleSchedule.specs
        case .cyclic: return CyclicSchedule.specs
        case .warmupStableDecay: return WarmupStableDecaySchedule.specs
        case .hyperbolic: return HyperbolicSchedule.specs
        case .expHyperbolic: return HyperbolicSchedule.expSpecs
        case .join: return []
        case .warmup: return WarmupWrapper.specs
        }
    }

    /// The spec of one parameter, or `unknownKey` naming the parameter and the kind.
    public func spec(for parameter: ScheduleParameter) throws(HLRError) -> ScheduleParameterSpec {
        guard let spec = parameterSpecs.first(where: { $0.parameter == parameter }) else {
            throw HLRError(.unknownKey, "schedule kind \(name) has no parameter \(parameter.name)")
        }
        return spec
    }


    /// Constraints between parameters of one kind (single values are checked by their spec).
    func checkConsistency(_ parameters: ScheduleParameters) throws(HLRError) {
        switch self {
        case .oneCycle: try OneCycleSchedule.check(parameters)
        case .hyperbolic, .expHyperbolic: try HyperbolicSchedule.check(parameters, kind: self)
        default: return
        }
    }
}
