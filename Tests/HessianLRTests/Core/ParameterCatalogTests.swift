import Testing
@testable import HessianLR

/// `ParameterCatalog` (`hlr_param_info`): every spec of every method, schedule kind and estimator
/// kind appears exactly once, in spec order, with the values `spec(for:)` (the `*_param_bounds`
/// functions) reports; unknown families, kinds and indices are refused with precise messages.
@Suite struct ParameterCatalogTests {
    private func expectSame<K: OptionKey & RawRepresentable>(
        _ description: ParameterDescription, _ spec: OptionSpec<K>, _ context: String
    ) where K.RawValue == Int {
        #expect(description.key == spec.key.rawValue, "\(context)")
        #expect(description.name == spec.key.name, "\(context)")
        #expect(description.minimum == spec.minimum, "\(context)")
        #expect(description.maximum == spec.maximum, "\(context)")
        #expect(description.defaultValue == spec.defaultValue, "\(context)")
        #expect(description.integral == spec.integral, "\(context)")
        #expect(description.perGroup == (spec.scope == .group), "\(context)")
        // Fits hlr_param_desc's name[48] with its NUL; snake_case ASCII.
        #expect(description.name.utf8.count <= 47 && !description.name.isEmpty, "\(context)")
        #expect(description.name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
    }

    @Test func tunerOptionsMatchTheBounds() throws {
        for method in Method.allCases {
            let all = try ParameterCatalog.descriptions(family: .tuner, kind: method.rawValue)
            #expect(all.count == method.parameterSpecs.count)
            #expect(try ParameterCatalog.count(family: .tuner, kind: method.rawValue) == all.count)
            #expect(Set(all.map(\.key)).count == all.count, "\(method.name): a key appears twice")
            for (index, spec) in method.parameterSpecs.enumerated() {
                let description = try ParameterCatalog.describe(family: .tuner, kind: method.rawValue, index: index)
                #expect(description == all[index])
                expectSame(description, spec, "\(method.name) #\(index)")
            }
            // Exactly the keys spec(for:) (hlr_param_bounds) knows, each once.
            for key in ParameterKey.allCases {
                let listed = all.filter { $0.key == key.rawValue }
                if let spec = try? method.spec(for: key) {
                    #expect(listed.count == 1, "\(method.name): \(key.name)")
                    if let only = listed.first { expectSame(only, spec, "\(method.name): \(key.name)") }
                } else {
                    #expect(listed.isEmpty, "\(method.name): \(key.name)")
                }
            }
        }
        // initial_lr is per group in every method but Armijo (one rate shared by all groups).
        for method in Method.allCases {
            let all = try ParameterCatalog.descriptions(family: .tuner, kind: method.rawValue)
            let initial = all.first { $0.key == ParameterKey.initialLR.rawValue }
            #expect(initial?.perGroup == (method != .armijo), "\(method.name)")
        }
    }

    @Test func scheduleParametersMatchTheBounds() throws {
        for kind in ScheduleKind.allCases {
            let all = try ParameterCatalog.descriptions(family: .schedule, kind: kind.rawValue)
            #expect(all.count == kind.parameterSpecs.count)
            for (index, spec) in kind.parameterSpecs.enumerated() {
                let description = try ParameterCatalog.describe(family: .schedule, kind: kind.rawValue, index: index)
                expectSame(description, spec, "\(kind.name) #\(index)")
                #expect(!description.perGroup)
            }
            for parameter in ScheduleParameter.allCases {
                let listed = all.filter { $0.key == parameter.rawValue }
                if let spec = try? kind.spec(for: parameter) {
                    #expect(listed.count == 1, "\(kind.name): \(parameter.name)")
                    if let only = listed.first { expectSame(only, spec, "\(kind.name): \(parameter.name)") }
                } else {
                    #expect(listed.isEmpty, "\(kind.name): \(parameter.name)")
                }
            }
        }
        #expect(try ParameterCatalog.count(family: .schedule, kind: ScheduleKind.join.rawValue) == 0)
    }

    @Test func estimatorParametersMatchTheBounds() throws {
        for kind in EstimatorKind.allCases {
            let all = try ParameterCatalog.descriptions(family: .estimator, kind: kind.rawValue)
            #expect(all.count == kind.parameterSpecs.count)
            for (index, spec) in kind.parameterSpecs.enumerated() {
                let description = try ParameterCatalog.describe(family: .estimator, kind: kind.rawValue, index: index)
                expectSame(description, spec, "\(kind.name) #\(index)")
                #expect(!description.perGroup)
            }
            for parameter in EstimatorParameter.allCases {
                let listed = all.filter { $0.key == parameter.rawValue }
                if let spec = try? kind.spec(for: parameter) {
                    #expect(listed.count == 1, "\(kind.name): \(parameter.name)")
                    if let only = listed.first { expectSame(only, spec, "\(kind.name): \(parameter.name)") }
                } else {
                    #expect(listed.isEmpty, "\(kind.name): \(parameter.name)")
                }
            }
        }
    }

    @Test func refusalsNameTheBadValue() {
        #expect(throws: HLRError(.invalidArgument, "unknown parameter family 0 (1 tuner, 2 schedule, 3 estimator)")) {
            try ParameterFamily.from(rawValue: 0)
        }
        #expect(throws: HLRError(.unknownMethod, "unknown method id 99")) {
            try ParameterCatalog.describe(family: .tuner, kind: 99, index: 0)
        }
        #expect(throws: HLRError(.unknownMethod, "unknown schedule kind 0")) {
            try ParameterCatalog.count(family: .schedule, kind: 0)
        }
        #expect(throws: HLRError(.unknownMethod, "unknown estimator kind -1")) {
            try ParameterCatalog.count(family: .estimator, kind: -1)
        }
        let count = Method.gen.parameterSpecs.count
        #expect(throws: HLRError(.invalidArgument, "index \(count) is past the last parameter: method gen has \(count) parameters")) {
            try ParameterCatalog.describe(family: .tuner, kind: Method.gen.rawValue, index: count)
        }
        #expect(throws: HLRError(.invalidArgument, "index -1 is past the last parameter: method gen has \(count) parameters")) {
            try ParameterCatalog.describe(family: .tuner, kind: Method.gen.rawValue, index: -1)
        }
        #expect(throws: HLRError(.invalidArgument, "index 0 is past the last parameter: schedule kind join has 0 parameters")) {
            try ParameterCatalog.describe(family: .schedule, kind: ScheduleKind.join.rawValue, index: 0)
        }
    }
}
