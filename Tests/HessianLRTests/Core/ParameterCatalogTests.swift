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

    /// Every spec of one kind of `family` is described in spec order with its values; the
    /// descriptions list exactly the keys `spec(for:)` (the `*_param_bounds` functions) knows, each
    /// once. Returns the descriptions.
    @discardableResult
    private func expectKind<K: CatalogEnum & OptionKey>(
        _ family: ParameterFamily, _ kind: Int, _ label: String, specs: [OptionSpec<K>],
        spec: (K) throws -> OptionSpec<K>
    ) throws -> [ParameterDescription] {
        let all = try ParameterCatalog.descriptions(family: family, kind: kind)
        #expect(all.count == specs.count, "\(label)")
        #expect(try ParameterCatalog.count(family: family, kind: kind) == all.count)
        for (index, expected) in specs.enumerated() {
            let description = try ParameterCatalog.describe(family: family, kind: kind, index: index)
            #expect(description == all[index])
            expectSame(description, expected, "\(label) #\(index)")
            if family != .tuner { #expect(!description.perGroup, "\(label) #\(index)") }
        }
        for key in K.allCases {
            let listed = all.filter { $0.key == key.rawValue }
            if let expected = try? spec(key) {
                #expect(listed.count == 1, "\(label): \(key.name)")
                if let only = listed.first { expectSame(only, expected, "\(label): \(key.name)") }
            } else {
                #expect(listed.isEmpty, "\(label): \(key.name)")
            }
        }
        return all
    }

    @Test func tunerOptionsMatchTheBounds() throws {
        for method in Method.allCases {
            let all = try expectKind(
                .tuner, method.rawValue, method.name, specs: method.parameterSpecs, spec: { try method.spec(for: $0) })
            // initial_lr is per group in every method but Armijo (one rate shared by all groups).
            let initial = all.first { $0.key == ParameterKey.initialLR.rawValue }
            #expect(initial?.perGroup == (method != .armijo), "\(method.name)")
        }
    }

    @Test func scheduleParametersMatchTheBounds() throws {
        for kind in ScheduleKind.allCases {
            try expectKind(.schedule, kind.rawValue, kind.name, specs: kind.parameterSpecs, spec: { try kind.spec(for: $0) })
        }
        #expect(try ParameterCatalog.count(family: .schedule, kind: ScheduleKind.join.rawValue) == 0)
    }

    @Test func estimatorParametersMatchTheBounds() throws {
        for kind in EstimatorKind.allCases {
            try expectKind(.estimator, kind.rawValue, kind.name, specs: kind.parameterSpecs, spec: { try kind.spec(for: $0) })
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
