import Testing
@testable import HessianLR

@Suite struct ParameterSpecTests {
    @Test func everyDefaultIsWithinItsBounds() throws {
        for method in Method.allCases {
            for spec in method.parameterSpecs {
                try spec.validate(spec.defaultValue)
                #expect(spec.minimum <= spec.maximum, "\(spec.key.name)")
            }
        }
    }

    @Test func keysAreUniquePerMethod() {
        for method in Method.allCases {
            let keys = method.parameterSpecs.map(\.key)
            #expect(Set(keys).count == keys.count)
        }
    }

    @Test func boundsAreInclusive() throws {
        let spec = ParameterSpec(.smoothing, minimum: 0, maximum: 0.5, default: 0.1)
        try spec.validate(0)
        try spec.validate(0.5)
        #expect(throws: HLRError.self) { try spec.validate(0.5.nextUp) }
        #expect(throws: HLRError.self) { try spec.validate((0.0).nextDown) }
    }

    @Test func unknownKeysAndMethodsAreNamed() {
        let key = #expect(throws: HLRError.self) { try ParameterKey.from(rawValue: 999) }
        #expect(key?.kind == .unknownKey)
        #expect(key?.message.contains("999") == true)
        let method = #expect(throws: HLRError.self) { try Method.from(rawValue: 0) }
        #expect(method?.kind == .unknownMethod)
    }

    @Test func errorKindsAreTheCStatusCodes() {
        #expect(HLRError.Kind.allCases.map(\.rawValue) == Array(3...12))
    }
}
