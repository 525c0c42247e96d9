/// What the rule decided for every group at the last update: the candidate rate before the
/// safeguards (`InfoKey.lastCandidate`, NaN before the first) and the flags of what happened to
/// it (`InfoKey.lastFlags`, none before the first). HessianLR, CDAT, GeN and Hi-DLR; Armijo's one
/// shared search keeps a single candidate and flag set.
struct DecisionLog: Sendable, Equatable {
    private(set) var candidates: [Double]
    private(set) var flags: [DecisionFlags]

    /// No decision yet for `groups` groups.
    init(groups: Int) {
        candidates = Array(repeating: .nan, count: groups)
        flags = Array(repeating: [], count: groups)
    }

    /// The decision of every group at once (the fitting methods decide all groups together).
    init(candidates: [Double], flags: [DecisionFlags]) {
        self.candidates = candidates
        self.flags = flags
    }

    /// Records the decision of one group.
    mutating func record(group: Int, candidate: Double, flags groupFlags: DecisionFlags) {
        candidates[group] = candidate
        flags[group] = groupFlags
    }

    /// The candidate or the flag bits of `group` for those two keys; nil for any other.
    func info(_ key: InfoKey, group: Int) -> Double? {
        switch key {
        case .lastCandidate: return candidates[group]
        case .lastFlags: return Double(flags[group].rawValue)
        default: return nil
        }
    }

    /// Payload fields: last_candidate (K doubles), last_flags (K × UInt32).
    func encode(into writer: inout SnapshotWriter) {
        writer.write(candidates)
        for groupFlags in flags { writer.write(groupFlags.rawValue) }
    }

    /// Reads what `encode` wrote for `groups` groups.
    static func decode(from reader: inout SnapshotReader, groups: Int) throws(HLRError) -> DecisionLog {
        var log = DecisionLog(groups: groups)
        log.candidates = try reader.readDoubles("last_candidate", count: groups)
        for group in 0..<groups {
            log.flags[group] = DecisionFlags(rawValue: try reader.readUInt32("last_flags"))
        }
        return log
    }
}
