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
