/// Binary form of a schedule tree, written with `SnapshotWriter` (little-endian). One node:
///
/// | field                 | type                | notes                                          |
/// |-----------------------|---------------------|------------------------------------------------|
/// | kind                  | u16                 | `ScheduleKind.rawValue`                        |
/// | parameter count P     | u8                  | every parameter of the kind, in spec order     |
/// | P × (key, value)      | u16, f64 bits       | `ScheduleParameter.rawValue`, IEEE-754 bits    |
/// | milestone count M     | u32                 | 0 unless multi_step; ≤ `Schedule.maxMilestones`|
/// | M × milestone         | u64                 | sorted                                         |
/// | child count C         | u16                 | 0 leaf, 1 warmup, ≥ 1 join                     |
/// | (C − 1) × boundary    | u64                 | join only                                      |
/// | C × child node        | node                | depth first                                    |
///
/// Decoding rebuilds the tree through the same constructors and setters as the public API, so a
/// crafted payload can never produce a schedule they would refuse; parameters missing from a
/// node take their defaults (a later format may add keys). Every failure is `snapshotCorrupt`.
extension Schedule {
    /// Appends this tree in the layout above (depth first).
    public func encode(into writer: inout SnapshotWriter) {
        writer.write(UInt16(kind.rawValue))
        let values = parameterValues
        writer.write(UInt8(values.count))
        for (parameter, value) in values {
            writer.write(UInt16(parameter.rawValue))
            writer.write(value)
        }
        writer.write(UInt32(milestones.count))
        for milestone in milestones { writer.write(milestone) }
        writer.write(UInt16(children.count))
        for boundary in boundaries { writer.write(boundary) }
        for child in children { child.encode(into: &writer) }
    }

    /// Reads one schedule tree written by `encode(into:)`, leaving the reader after it.
    public static func decode(from reader: inout SnapshotReader) throws(HLRError) -> Schedule {
        var nodes = 0
        do {
            return try decodeNode(from: &reader, level: 1, nodes: &nodes)
        } catch where error.kind != .snapshotCorrupt {
            throw HLRError(.snapshotCorrupt, "schedule snapshot holds an invalid schedule: \(error.message)")
        }
    }

    private static func corrupt(_ message: String) -> HLRError {
        HLRError(.snapshotCorrupt, "schedule snapshot: \(message)")
    }

    private static func decodeNode(
        from reader: inout SnapshotReader, level: Int, nodes: inout Int
    ) throws(HLRError) -> Schedule {
        nodes += 1
        guard nodes <= maxNodes else { throw corrupt("more than \(maxNodes) nodes") }
        guard level <= maxDepth else { throw corrupt("deeper than \(maxDepth) levels") }
        let rawKind = try reader.readUInt16("kind")
        guard let kind = ScheduleKind(rawValue: Int(rawKind)) else {
            throw corrupt("unknown schedule kind \(rawKind)")
        }
        let settings = try decodeParameters(from: &reader, kind: kind)
        let milestones = try decodeMilestones(from: &reader, kind: kind)
        let childCount = Int(try reader.readUInt16("child count"))
        switch kind {
        case .join:
            guard childCount >= 1 else { throw corrupt("join with no pieces") }
        case .warmup:
            guard childCount == 1 else { throw corrupt("warmup with \(childCount) children, expected 1") }
        default:
            guard childCount == 0 else { throw corrupt("\(kind.name) with \(childCount) children, expected 0") }
        }
        var boundaries: [UInt64] = []
        if kind == .join {
            for _ in 1..<childCount { boundaries.append(try reader.readUInt64("boundary")) }
        }
        var children: [Schedule] = []
        for _ in 0..<childCount {
            children.append(try decodeNode(from: &reader, level: level + 1, nodes: &nodes))
        }
        switch kind {
        case .join:
            return try join(children, boundaries: boundaries)
        case .warmup:
            var node = Schedule(node: .warmup)
            try node.set(settings)
            try node.attach(children, boundaries: [])
            return node
        default:
            var node = try Schedule(kind, settings)
            if kind == .multiStep { try node.setMilestones(milestones) }
            return node
        }
    }

    private static func decodeParameters(
        from reader: inout SnapshotReader, kind: ScheduleKind
    ) throws(HLRError) -> [ScheduleParameter: Double] {
        let count = Int(try reader.readUInt8("parameter count"))
        var settings: [ScheduleParameter: Double] = [:]
        for _ in 0..<count {
            let rawKey = try reader.readUInt16("parameter key")
            let value = try reader.readDouble("parameter value")
            guard let parameter = ScheduleParameter(rawValue: Int(rawKey)) else {
                throw corrupt("unknown parameter key \(rawKey) in a \(kind.name) node")
            }
            guard settings[parameter] == nil else {
                throw corrupt("parameter \(parameter.name) appears twice in a \(kind.name) node")
            }
            settings[parameter] = value
        }
        return settings
    }

    private static func decodeMilestones(
        from reader: inout SnapshotReader, kind: ScheduleKind
    ) throws(HLRError) -> [UInt64] {
        let count = try reader.readUInt32("milestone count")
        guard count == 0 || kind == .multiStep else {
            throw corrupt("\(kind.name) node with \(count) milestones")
        }
        guard count <= maxMilestones else {
            throw corrupt("\(count) milestones, at most \(maxMilestones)")
        }
        var milestones: [UInt64] = []
        for _ in 0..<count { milestones.append(try reader.readUInt64("milestone")) }
        guard milestones == milestones.sorted() else { throw corrupt("milestones are not sorted") }
        return milestones
    }
}
