extension Method {
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
}
