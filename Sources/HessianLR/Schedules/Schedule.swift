/// A learning-rate schedule: a pure function of the 0-based optimizer step, as a value.
///
/// A schedule is a tree of nodes. A leaf has a `kind`, that kind's parameters (set by
/// `ScheduleParameter` key, validated against `ScheduleKind.parameterSpecs`) and, for
/// `multiStep`, a milestone list. A `join` node holds pieces and boundaries; a `warmup` node
/// holds one child and its own `warmup_steps` / `start_lr` parameters.
///
/// Every value of this type is valid: each constructor and mutator validates everything and,
/// when it throws, leaves the schedule unchanged. `value(at:)` is then total: it never traps
/// and returns a finite rate, in the caller's learning-rate unit, for every step up to
/// UInt64.max. Trees are limited to `maxDepth` levels and `maxNodes` nodes.
public struct Schedule: Sendable, Equatable {
    /// What this node computes (for join and warmup, how it combines `children`).
    public let kind: ScheduleKind
    var parameters: ScheduleParameters
    /// MultiStep milestones, sorted ascending (empty for every other kind).
    public private(set) var milestones: [UInt64] = []
    /// Pieces of a join, the child of a warmup, empty for leaves.
    public private(set) var children: [Schedule] = []
    /// Join boundaries (children.count − 1 strictly increasing steps), empty otherwise.
    public private(set) var boundaries: [UInt64] = []
    /// Number of nodes in this tree (1 for a leaf).
    public private(set) var nodeCount: Int = 1
    /// Levels of this tree (1 for a leaf).
    public private(set) var depth: Int = 1

    /// Deepest tree a schedule may be.
    public static let maxDepth = 16
    /// Most nodes a schedule tree may have.
    public static let maxNodes = 256
    /// Most milestones a multiStep node may have.
    public static let maxMilestones = 4096

    /// A leaf of `kind` with every parameter at its default. Throws `invalidArgument` for the
    /// composite kinds, which are built by `join` and `warmup`.
    public init(_ kind: ScheduleKind) throws(HLRError) {
        guard !kind.isComposite else {
            let builder = kind == .join ? "join" : "warmup"
            throw .invalid(
                "schedule kind \(kind.name) is built from other schedules: use \(builder) (hlr_schedule_\(builder) in C, "
                    + "Schedule.\(builder) in Swift and Python)")
        }
        self.kind = kind
        parameters = ScheduleParameters(defaultsOf: kind)
    }

    /// A leaf of `kind` with some parameters set at once (`set(_:)`).
    public init(_ kind: ScheduleKind, _ settings: [ScheduleParameter: Double]) throws(HLRError) {
        try self.init(kind)
        try set(settings)
    }

    /// Internal: a node of `kind` with default parameters (composites included).
    init(node kind: ScheduleKind) {
        self.kind = kind
        parameters = ScheduleParameters(defaultsOf: kind)
    }

    /// Sets one parameter after checking its spec and the kind's cross-parameter constraints
    /// (e.g. upper_bound ≥ max_iter); `set(_:)` changes several at once when only the final
    /// combination is valid. Throws `unknownKey` for a key this kind does not have.
    public mutating func set(_ parameter: ScheduleParameter, _ value: Double) throws(HLRError) {
        try set([parameter: value])
    }

    /// Sets several parameters, checking each against its spec and then the constraints between
    /// them on the result; throws and changes nothing if any check fails.
    public mutating func set(_ settings: [ScheduleParameter: Double]) throws(HLRError) {
        var next = parameters
        for parameter in settings.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            let spec = try kind.spec(for: parameter)
            let value = settings[parameter] ?? spec.defaultValue
            try spec.validate(value, kind: kind)
            next.assign(parameter, value)
        }
        try kind.checkConsistency(next)
        parameters = next
    }

    /// The current value of one parameter (`unknownKey` if this kind does not have it).
    public func parameter(_ parameter: ScheduleParameter) throws(HLRError) -> Double {
        _ = try kind.spec(for: parameter)
        return parameters[parameter]
    }

    /// Every parameter of this node with its value, in spec order.
    public var parameterValues: [(parameter: ScheduleParameter, value: Double)] {
        kind.parameterSpecs.map { ($0.parameter, parameters[$0.parameter]) }
    }

    /// Replaces the milestones of a multiStep schedule: 0-based steps in any order, stored
    /// sorted; a step listed k times multiplies the rate by γ^k from that step on (torch's
    /// Counter semantics). At most `maxMilestones`.
    public mutating func setMilestones(_ values: [UInt64]) throws(HLRError) {
        guard kind == .multiStep else {
            throw .invalid("schedule kind \(kind.name) has no milestones (only multi_step has)")
        }
        guard values.count <= Self.maxMilestones else {
            throw .invalid(
                "multi_step: at most \(Self.maxMilestones) milestones, got \(values.count)")
        }
        milestones = values.sorted()
    }

    /// Internal: attaches children and recomputes the tree size, refusing trees over the limits.
    mutating func attach(_ pieces: [Schedule], boundaries: [UInt64]) throws(HLRError) {
        var nodes = 1
        var deepest = 0
        for piece in pieces {
            nodes += piece.nodeCount
            deepest = max(deepest, piece.depth)
        }
        guard nodes <= Self.maxNodes else {
            throw .invalid(
                "\(kind.name): the schedule would have \(nodes) nodes, at most \(Self.maxNodes) allowed")
        }
        guard deepest + 1 <= Self.maxDepth else {
            throw .invalid(
                "\(kind.name): the schedule would be \(deepest + 1) levels deep, at most "
                    + "\(Self.maxDepth) allowed")
        }
        children = pieces
        self.boundaries = boundaries
        nodeCount = nodes
        depth = deepest + 1
    }
}
