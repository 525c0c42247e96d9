/// The tuning methods of the library. Raw values are the stable ids of `include/hessianlr.h`
/// (`HLR_METHOD_*`); a value is never reused.
public enum Method: Int, CatalogEnum {
    /// lr* = gᵀd / dᵀHd with warmup, relative bounds, EMA and an absolute clamp (seed 000).
    case hessianLR = 1
    /// CDAT, η = σ·n̂/d̂ from EMAs of n = max(gᵀu, 0) and d = |uᵀHu| + ε (seed 002).
    case cdat = 2
    /// GeN (Hi-ULR): a quadratic fit of forward losses at symmetric probe steps (seed 001).
    case gen = 3
    /// Hi-DLR: per-group rates from a least-squares quadratic over random per-group probes
    /// (seed 001).
    case hidlr = 4
    /// Armijo backtracking line search, one rate shared by all groups (seed 002's baseline,
    /// optax defaults).
    case armijo = 5
    /// A constant rate per group (`initial_lr`); with a base schedule attached
    /// (`ScheduledTuner`), the schedule's shape: lr_k(t) = initial_lr_k · factor(t).
    case constant = 6
    /// The recommended mode: a wide bracket search at the first step, then the quadratic model
    /// of forward losses along the optimizer's previous update, averaged (see `AutoRule`).
    case auto = 7

    /// One word, as `HLR_METHOD_HESSIANLR`; every other name follows `CatalogEnum`.
    public var name: String { self == .hessianLR ? "hessianlr" : snakeCaseName }

    /// The method's catalog row in the core: the rule `RuleTuner` drives.
    public var rule: any TuningRule.Type {
        switch self {
        case .hessianLR: return HessianLRRule.self
        case .cdat: return CDATRule.self
        case .gen: return GeNRule.self
        case .hidlr: return HiDLRRule.self
        case .armijo: return ArmijoRule.self
        case .constant: return ConstantRule.self
        case .auto: return AutoRule.self
        }
    }

    /// Ranges and defaults of every option this method has (its options table).
    public var parameterSpecs: [ParameterSpec] { rule.parameterSpecs }

    /// The spec of one option, or `unknownKey` naming the key (name and number) and the method.
    public func spec(for key: ParameterKey) throws(HLRError) -> ParameterSpec {
        guard let spec = parameterSpecs.first(where: { $0.key == key }) else { throw unknownParameter(key) }
        return spec
    }

    /// The `unknownKey` error for an option this method lacks (names the key and the method).
    func unknownParameter(_ key: ParameterKey) -> HLRError {
        HLRError(.unknownKey, "method \(name) has no parameter \(key.name) (key \(key.rawValue))")
    }

    /// Parses a C method id, naming the bad value on failure.
    public static func from(rawValue: Int) throws(HLRError) -> Method {
        guard let method = Method(rawValue: rawValue) else {
            throw HLRError(.unknownMethod, "unknown method id \(rawValue)")
        }
        return method
    }
}
