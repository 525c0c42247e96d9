/// A constant learning rate per group: lr_k(t) = initial_lr_k. It needs no observations. On its
/// own it is the trivial baseline; wrapped in a `ScheduledTuner` it follows the schedule's shape,
/// lr_k(t) = initial_lr_k · factor(t), which is how a schedule is driven through the tuner
/// interface (per-group rates, snapshots).
public typealias ConstantTuner = RuleTuner<ConstantRule>

/// The one option of the constant method: η per group (default 1e-3, like the other methods'
/// initial rate).
public struct ConstantOptions: TunerOptions {
    public static let method = Method.constant

    /// η per group (a placeholder until `init(groups:)` sets the default from `fields`).
    public var initialLR: [Double] = []

    public var groupCount: Int { initialLR.count }

    public init(storageFor groups: Int) {}

    public static let fields: [OptionField<Self>] = [.initialLR(\.initialLR)]

    public func checkConsistency() throws(HLRError) {}
}

/// The state of a method that never observes: nothing (its payload is its options alone).
public struct NoState: TunerState {
    public init(groups: Int) {}
    public func encode(into writer: inout SnapshotWriter) {}
    public static func decode(from reader: inout SnapshotReader, groups: Int) throws(HLRError) -> Self {
        Self(groups: groups)
    }
}

/// The constant "rule": lr_k(t) = initial_lr_k, no observations, no history in the payload.
public enum ConstantRule: TuningRule {
    public typealias Options = ConstantOptions
    public typealias State = NoState

    public static var keepsHistory: Bool { false }

    public static func need(atStep step: UInt64, of tuner: ConstantTuner) -> Need { .nothing }

    public static func requireObservation(
        _ kind: ObservationKind, atStep step: UInt64, of tuner: ConstantTuner
    ) throws(HLRError) {
        throw HLRError(.wrongState, "constant needs no observations (step \(step), \(kind.name) offered)")
    }

    public static func observe(
        step: UInt64, kind: ObservationKind, values: [Double], into tuner: inout ConstantTuner
    ) throws(HLRError) {
        try requireObservation(kind, atStep: step, of: tuner)
    }

    public static func rate(group: Int, step: UInt64, of tuner: ConstantTuner) -> Double {
        tuner.options.initialLR[group]
    }

    /// Updates 0 and last step −1 come from the (empty) history; no next step.
    public static func info(_ key: InfoKey, group: Int, of tuner: ConstantTuner) -> Double? {
        key == .nextCurvatureStep ? -1 : nil
    }

    /// It never observes.
    public static func nextObservationStep(of tuner: ConstantTuner) -> UInt64? { nil }

    public static func unknownInfo(_ key: InfoKey) -> HLRError {
        HLRError(.unknownKey, "method constant has no info \(key.name) (key \(key.rawValue))")
    }

    public static func checkRestored(_ tuner: ConstantTuner) throws(HLRError) {}
}
