/// Pieces joined at boundaries (optax `join_schedules`). With boundaries b₁ < b₂ < … < b_{n−1}
/// and b₀ = 0, step t belongs to piece i with b_i ≤ t < b_{i+1} (the last piece runs forever)
/// and is evaluated at t − b_i: every piece counts steps from its own boundary.
///
/// torch's `SequentialLR(schedulers, milestones)` is the same for schedulers whose value
/// depends on their own step count only (it calls the next scheduler's closed form at 0 at each
/// milestone).
enum JoinedSchedule {
    static func value(_ node: Schedule, at step: UInt64) -> Double {
        let piece = MultiStepSchedule.countNotAfter(step, in: node.boundaries)
        guard piece < node.children.count else { return 0 }
        let start = piece == 0 ? 0 : node.boundaries[piece - 1]
        return node.children[piece].value(at: step - start)
    }
}

extension Schedule {
    /// Joins `pieces` at `boundaries`: at least one piece, exactly pieces.count − 1 boundaries,
    /// strictly increasing (a first boundary 0 is allowed and leaves the first piece unused, as
    /// in optax and torch); the tree must stay within `maxDepth` and `maxNodes`.
    public static func join(_ pieces: [Schedule], boundaries: [UInt64]) throws(HLRError) -> Schedule {
        guard !pieces.isEmpty else {
            throw .invalid("join: needs at least one piece, got 0")
        }
        guard boundaries.count == pieces.count - 1 else {
            throw .invalid(
                "join: \(pieces.count) pieces need \(pieces.count - 1) boundaries, got \(boundaries.count)")
        }
        for index in boundaries.indices.dropFirst() where boundaries[index] <= boundaries[index - 1] {
            throw .invalid(
                "join: boundaries must be strictly increasing, got boundaries[\(index)] = "
                    + "\(boundaries[index]) after \(boundaries[index - 1])")
        }
        var node = Schedule(node: .join)
        try node.attach(pieces, boundaries: boundaries)
        return node
    }
}
