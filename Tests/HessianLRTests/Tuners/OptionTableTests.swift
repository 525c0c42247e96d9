import Testing
@testable import HessianLR

/// The options tables (`TunerOptions.fields`) of every method: keys unique and in the method's
/// specs, every row starting at its spec's default, and every row bound to a field of its own (a
/// value written through one row shows in that row only, for one group or for all).
@Suite struct OptionTableTests {
    static let groups = 3

    @Test(arguments: Method.allCases)
    func everyRowHasItsDefaultAndAFieldOfItsOwn(method: Method) {
        check(method.rule)
    }

    func check<Rule: TuningRule>(_: Rule.Type) {
        typealias Options = Rule.Options
        let fields = Options.fields
        let name = Options.method.name
        #expect(Set(fields.map(\.spec.key)).count == fields.count, "\(name): a key appears twice")
        #expect(Options.specs == Rule.parameterSpecs)
        let fresh = Options(groups: Self.groups)
        #expect(fresh.groupCount == Self.groups)
        for row in fields {
            for group in 0..<Self.groups {
                #expect(row.read(fresh, group) == row.spec.defaultValue, "\(name): \(row.spec.key.name)")
            }
        }
        for (index, row) in fields.enumerated() {
            let value = Self.otherValue(row.spec)
            #expect(value != row.spec.defaultValue && (try? row.spec.validate(value)) != nil)
            let perGroup = row.spec.scope == .group
            for target in perGroup ? [1, nil] : [nil] {
                var changed = fresh
                row.write(&changed, value, target)
                for (otherIndex, other) in fields.enumerated() {
                    for group in 0..<Self.groups {
                        let written = otherIndex == index && (target == nil || target == group)
                        #expect(
                            other.read(changed, group) == (written ? value : other.spec.defaultValue),
                            "\(name): \(other.spec.key.name) of group \(group) after writing \(row.spec.key.name)")
                    }
                }
            }
        }
    }

    /// A valid value other than the default: the next integer for an integral option (the
    /// previous one at the maximum), else halfway to a finite maximum, else twice the default.
    static func otherValue(_ spec: ParameterSpec) -> Double {
        let value = spec.defaultValue
        if spec.integral { return value + 1 <= spec.maximum ? value + 1 : value - 1 }
        if spec.maximum.isFinite { return value / 2 + spec.maximum / 2 }
        return value.isFinite ? 2 * value + 1 : 1234.5
    }
}

/// Several options set together: the cross-constraints are checked on the result only, so sets
/// that no order of single settings reaches are taken; all or nothing.
@Suite struct SetParametersTests {
    @Test func theResultIsCheckedNotTheSteps() throws {
        var tuner = try HessianLRTuner(groups: 2)  // lr in [1e-8, 1]
        #expect(throws: HLRError.self) { try tuner.setParameter(.lrMin, 2, group: nil) }
        try tuner.setParameters([ParameterSetting(.lrMin, 2), ParameterSetting(.lrMax, 10)])
        #expect(try tuner.parameter(.lrMin, group: 1) == 2 && tuner.parameter(.lrMax, group: 0) == 10)

        var auto = try AutoTuner(groups: 1)
        try auto.setParameters([ParameterSetting(.nesterov, 1), ParameterSetting(.momentum, 0.9)])
        try auto.setParameters([ParameterSetting(.optimizer, 1), ParameterSetting(.nesterov, 0)])
        #expect(try auto.parameter(.optimizer, group: 0) == 1)
    }

    @Test func aRefusalChangesNothingAndNamesTheSettings() throws {
        var tuner = try HessianLRTuner(groups: 1)
        let before = tuner.encodePayload()
        let crossed = [ParameterSetting(.smoothing, 0.5), ParameterSetting(.lrMin, 0.5), ParameterSetting(.lrMax, 0.1)]
        do {
            try tuner.setParameters(crossed)
            Issue.record("crossed lr_min > lr_max was taken")
        } catch {
            #expect(error.message.contains("set smoothing = 0.5, lr_min = 0.5, lr_max = 0.1 rejected"), "\(error.message)")
        }
        let outOfRange = [ParameterSetting(.smoothing, 0.5), ParameterSetting(.lrMax, -1)]
        #expect(throws: HLRError.self) { try tuner.setParameters(outOfRange) }
        #expect(throws: HLRError.self) { try tuner.setParameters([ParameterSetting(.smoothing, 0.5, group: 3)]) }
        #expect(tuner.encodePayload() == before)
    }
}
