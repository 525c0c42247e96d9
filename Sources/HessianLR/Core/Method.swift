/// The tuning methods of the library. Raw values are the stable ids of `include/hessianlr.h`
/// (`HLR_METHOD_*`); a value is never reused.
public enum Method: Int, CaseIterable, Sendable {
    /// lr* = gᵀd / dᵀHd with warmup, relative bounds, EMA and an absolute clamp (seed 000).
    case hessianLR = 1

    public var name: String {
        switch self {
        case .hessianLR: return "hessianlr"
        }
    }

    /// Ranges and defaults of every option this method has.
    public var parameterSpecs: [ParameterSpec] {
        switch self {
        case .hessianLR: return HessianLROptions.specs
        }
    }

    /// The spec of one option, or `unknownKey` naming the key and the method.
    public func spec(for key: ParameterKey) throws(HLRError) -> ParameterSpec {
        guard let spec = parameterSpecs.first(where: { $0.key == key }) else {
            throw HLRError(.unknownKey, "method \(name) has no parameter \(key.name)")
        }
        return spec
    }

    /// Parses a C method id, naming the bad value on failure.
    public static func from(rawValue: Int) throws(HLRError) -> Method {
        guard let method = Method(rawValue: rawValue) else {
            throw HLRError(.unknownMethod, "unknown method id \(rawValue)")
        }
        return method
    }
}
