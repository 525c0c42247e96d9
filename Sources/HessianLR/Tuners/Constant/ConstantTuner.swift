/// A constant learning rate per group: lr_k(t) = initial_lr_k. It needs no observations. On its
/// own it is the trivial baseline; wrapped in a `ScheduledTuner` it follows the schedule's shape,
/// lr_k(t) = initial_lr_k · factor(t), which is how a schedule is driven through the tuner
/// interface (per-group rates, snapshots).
public struct ConstantTuner: Tuner {
    public let groupCount: Int
    private var initialLR: [Double]

    public var method: Method { .constant }
    public var usesUpdateDirection: Bool { false }

    /// The one option: η per group (default 1e-3, like the other methods' initial rate).
    public static let specs: [ParameterSpec] = [
        ParameterSpec(
            .initialLR, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude,
            default: 1e-3, scope: .group)
    ]

    public init(groups: Int) throws(HLRError) {
        try checkGroupCount(groups, maximum: HessianLRTuner.maxGroups)
        groupCount = groups
        initialLR = Array(repeating: Self.specs[0].defaultValue, count: groups)
    }

    public func need(atStep step: UInt64) -> Need { .nothing }

    public func requireObservation(_ kind: ObservationKind, atStep step: UInt64) throws(HLRError) {
        throw HLRError(.wrongState, "constant needs no observations (step \(step), \(kind.name) offered)")
    }

    public mutating func observe(step: UInt64, kind: ObservationKind, values: [Double]) throws(HLRError) {
        try requireObservation(kind, atStep: step)
    }

    /// Never needs losses: refused (`wrongState`), see `Tuner.observeFailure`.
    public mutating func observeFailure(step: UInt64) throws(HLRError) {
        try ObservationGuard.refuseFailure(of: self, step: step)
    }

    public func learningRate(group: Int, step: UInt64) throws(HLRError) -> Double {
        try checkGroup(group)
        return initialLR[group]
    }

    public mutating func setParameter(_ key: ParameterKey, _ value: Double, group: Int?) throws(HLRError) {
        if let group { try checkGroup(group) }
        let spec = try Method.constant.spec(for: key)
        try spec.validate(value)
        if let group {
            initialLR[group] = value
        } else {
            initialLR = Array(repeating: value, count: groupCount)
        }
    }

    public func parameter(_ key: ParameterKey, group: Int) throws(HLRError) -> Double {
        try checkGroup(group)
        _ = try Method.constant.spec(for: key)
        return initialLR[group]
    }

    public func info(_ key: InfoKey, group: Int) throws(HLRError) -> Double {
        if key.perGroup { try checkGroup(group) }
        switch key {
        case .updates: return 0
        case .lastStep, .nextCurvatureStep, .nextUpdateStep: return -1
        default: throw HLRError(.unknownKey, "method constant has no info \(key.name) (key \(key.rawValue))")
        }
    }

    public mutating func reset(state: Bool, options: Bool) {
        if options { initialLR = Array(repeating: Self.specs[0].defaultValue, count: groupCount) }
    }

    public func encodePayload() -> [UInt8] {
        var writer = TunerPayload.writer(groups: groupCount)
        writer.write(initialLR)
        return writer.bytes
    }

    public mutating func restorePayload(_ payload: [UInt8]) throws(HLRError) {
        var reader = try TunerPayload.reader(payload, groups: groupCount)
        let rates = try reader.readDoubles("initial_lr", count: groupCount)
        try reader.finish()
        for rate in rates {
            do {
                try Self.specs[0].validate(rate)
            } catch {
                throw HLRError(.snapshotCorrupt, "snapshot holds an invalid option: \(error.message)")
            }
        }
        initialLR = rates
    }
}
