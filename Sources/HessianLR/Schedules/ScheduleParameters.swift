/// The parameter values of one schedule node, stored in the order of its kind's specs. Values
/// only enter through `Schedule.set` / decoding, which validate them, so the accessors below can
/// convert without checks that could trap.
struct ScheduleParameters: Sendable, Equatable {
    let kind: ScheduleKind
    private(set) var values: [Double]

    /// Every parameter of `kind` at its default.
    init(defaultsOf kind: ScheduleKind) {
        self.kind = kind
        values = kind.parameterSpecs.map(\.defaultValue)
    }

    private func index(of parameter: ScheduleParameter) -> Int? {
        kind.parameterSpecs.firstIndex { $0.parameter == parameter }
    }

    /// The value of `parameter` (0 for a key the kind does not have; never reached by the
    /// formulas, which read only their own keys).
    subscript(_ parameter: ScheduleParameter) -> Double {
        guard let index = index(of: parameter) else { return 0 }
        return values[index]
    }

    /// An integral parameter as a step count.
    func steps(_ parameter: ScheduleParameter) -> UInt64 {
        UInt64(exactly: self[parameter]) ?? 0
    }

    /// Stores a value already checked by its spec.
    mutating func assign(_ parameter: ScheduleParameter, _ value: Double) {
        guard let index = index(of: parameter) else { return }
        values[index] = value
    }
}
