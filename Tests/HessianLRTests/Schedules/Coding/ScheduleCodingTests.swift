import Testing
@testable import HessianLR

/// encode/decode and the checksummed snapshot: round trips are exact, and no crafted or damaged
/// byte string produces a schedule the constructors would refuse.
@Suite struct ScheduleCodingTests {
    typealias S = ScheduleTestSupport

    static func sample() throws -> Schedule {
        var multi = try Schedule(.multiStep, [.baseLR: 0.05, .gamma: 0.3])
        try multi.setMilestones([40, 10, 10])
        let cosine = try Schedule(.cosine, [.baseLR: 0.1, .tMax: 50, .etaMin: 1e-4])
        let warm = try Schedule.warmup(cosine, steps: 5, startValue: 1e-3)
        let cycle = try Schedule(.oneCycle, [.maxLR: 0.2, .totalSteps: 30, .threePhase: 1, .annealStrategy: 1])
        let hyp = try Schedule(.expHyperbolic, [.baseLR: 1e-2, .maxIter: 80, .upperBound: 100.5])
        let inner = try Schedule.join([multi, cycle], boundaries: [7])
        return try Schedule.join([warm, inner, hyp], boundaries: [60, 200])
    }

    static func encoded(_ schedule: Schedule) -> [UInt8] {
        var writer = SnapshotWriter()
        schedule.encode(into: &writer)
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(HLRError) -> Schedule {
        var reader = SnapshotReader(bytes)
        let schedule = try Schedule.decode(from: &reader)
        try reader.finish()
        return schedule
    }

    @Test func roundTripIsExact() throws {
        let schedule = try Self.sample()
        let decoded = try Self.decode(Self.encoded(schedule))
        #expect(decoded == schedule)
        for step in Array(0...400) + S.extremeSteps {
            #expect(decoded.value(at: step).bitPattern == schedule.value(at: step).bitPattern)
        }
        for kind in ScheduleKind.allCases where !kind.isComposite {
            let leaf = try Schedule(kind)
            #expect(try Self.decode(Self.encoded(leaf)) == leaf, "\(kind.name)")
        }
        let restored = try Schedule(snapshot: schedule.snapshot())
        #expect(restored == schedule)
        #expect(restored.snapshot() == schedule.snapshot())
    }

    @Test func everyTruncationIsRefused() throws {
        let payload = Self.encoded(try Self.sample())
        for length in 0..<payload.count {
            let error = S.error { () throws(HLRError) in _ = try Self.decode(Array(payload[0..<length])) }
            #expect(error?.kind == .snapshotCorrupt, "payload length \(length)")
        }
        let sealed = try Self.sample().snapshot()
        for length in 0..<sealed.count {
            let error = S.error { () throws(HLRError) in _ = try Schedule(snapshot: Array(sealed[0..<length])) }
            #expect(error?.kind == .snapshotCorrupt, "snapshot length \(length)")
        }
    }

    @Test func everyBitFlipIsRefused() throws {
        let sealed = try Schedule(.cosine, [.baseLR: 0.1]).snapshot()
        for index in sealed.indices {
            for bit in 0..<8 {
                var flipped = sealed
                flipped[index] ^= UInt8(1 << bit)
                let error = S.error { () throws(HLRError) in _ = try Schedule(snapshot: flipped) }
                let allowed: Set<HLRError.Kind> = index == 4 || index == 5
                    ? [.snapshotCorrupt, .snapshotVersion] : [.snapshotCorrupt]
                #expect(error.map { allowed.contains($0.kind) } == true, "byte \(index) bit \(bit)")
            }
        }
    }

    @Test func trailingBytesAndNewerVersionsAreRefused() throws {
        var bytes = try Schedule(.constant).snapshot()
        bytes.insert(0, at: bytes.count - 4)
        #expect(throws: HLRError.self) { try Schedule(snapshot: bytes) }
        var newer = try Schedule(.constant).snapshot()
        newer[4] = 2
        let end = newer.count - 4
        let crc = CRC32.checksum(newer[0..<end])
        for index in 0..<4 { newer[end + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
        let error = S.error { () throws(HLRError) in _ = try Schedule(snapshot: newer) }
        #expect(error?.kind == .snapshotVersion)
    }

    /// A node written by hand: kind, (key, value) pairs, milestones, child count, boundaries.
    static func node(
        _ kind: Int, _ parameters: [(Int, Double)] = [], milestones: [UInt64] = [], children: Int = 0,
        boundaries: [UInt64] = [], into writer: inout SnapshotWriter
    ) {
        writer.write(UInt16(kind))
        writer.write(UInt8(parameters.count))
        for (key, value) in parameters {
            writer.write(UInt16(key))
            writer.write(value)
        }
        writer.write(UInt32(milestones.count))
        for milestone in milestones { writer.write(milestone) }
        writer.write(UInt16(children))
        for boundary in boundaries { writer.write(boundary) }
    }

    static func crafted(_ build: (inout SnapshotWriter) -> Void) -> HLRError? {
        var writer = SnapshotWriter()
        build(&writer)
        return S.error { () throws(HLRError) in _ = try decode(writer.bytes) }
    }

    @Test func craftedPayloadsAreRevalidated() throws {
        let gamma = ScheduleParameter.gamma.rawValue
        let cases: [(String, (inout SnapshotWriter) -> Void)] = [
            ("gamma", { Self.node(ScheduleKind.step.rawValue, [(gamma, 2.0)], into: &$0) }),
            ("nan", { Self.node(ScheduleKind.step.rawValue, [(gamma, .nan)], into: &$0) }),
            ("kind 99", { Self.node(99, into: &$0) }),
            ("key 77", { Self.node(ScheduleKind.step.rawValue, [(77, 1)], into: &$0) }),
            ("t_max", { Self.node(ScheduleKind.step.rawValue, [(ScheduleParameter.tMax.rawValue, 5)], into: &$0) }),
            ("twice", { Self.node(ScheduleKind.step.rawValue, [(gamma, 0.5), (gamma, 0.5)], into: &$0) }),
            ("milestones", { Self.node(ScheduleKind.cosine.rawValue, milestones: [3], into: &$0) }),
            ("not sorted", { Self.node(ScheduleKind.multiStep.rawValue, milestones: [3, 1], into: &$0) }),
            ("children", { Self.node(ScheduleKind.cosine.rawValue, children: 1, into: &$0) }),
            ("no pieces", { Self.node(ScheduleKind.join.rawValue, into: &$0) }),
            ("strictly increasing", { w in
                Self.node(ScheduleKind.join.rawValue, children: 3, boundaries: [5, 5], into: &w)
                for _ in 0..<3 { Self.node(ScheduleKind.constant.rawValue, into: &w) }
            }),
            ("upper_bound", { Self.node(ScheduleKind.hyperbolic.rawValue, [(ScheduleParameter.upperBound.rawValue, 10)], into: &$0) }),
            ("infimum_lr", { Self.node(ScheduleKind.expHyperbolic.rawValue, [(ScheduleParameter.infimumLR.rawValue, 0)], into: &$0) }),
            ("warmup with 2", { w in
                Self.node(ScheduleKind.warmup.rawValue, children: 2, into: &w)
                for _ in 0..<2 { Self.node(ScheduleKind.constant.rawValue, into: &w) }
            }),
            ("levels", { w in
                for _ in 0..<Schedule.maxDepth { Self.node(ScheduleKind.warmup.rawValue, children: 1, into: &w) }
                Self.node(ScheduleKind.constant.rawValue, into: &w)
            }),
            ("nodes", { w in
                let pieces = Schedule.maxNodes
                Self.node(ScheduleKind.join.rawValue, children: pieces, boundaries: (1..<UInt64(pieces)).map { $0 }, into: &w)
                for _ in 0..<pieces { Self.node(ScheduleKind.constant.rawValue, into: &w) }
            }),
        ]
        for (needle, build) in cases {
            let error = Self.crafted(build)
            #expect(error?.kind == .snapshotCorrupt, "\(needle)")
            #expect(error?.message.contains(needle) == true, "\(needle): \(error?.message ?? "accepted")")
        }
    }

    @Test func limitsAreAcceptedUpToTheBoundary() throws {
        var writer = SnapshotWriter()
        for _ in 1..<Schedule.maxDepth { Self.node(ScheduleKind.warmup.rawValue, children: 1, into: &writer) }
        Self.node(ScheduleKind.constant.rawValue, into: &writer)
        #expect(try Self.decode(writer.bytes).depth == Schedule.maxDepth)
    }

    @Test func missingParametersTakeDefaults() throws {
        var writer = SnapshotWriter()
        Self.node(ScheduleKind.cosine.rawValue, [(ScheduleParameter.tMax.rawValue, 7)], into: &writer)
        let decoded = try Self.decode(writer.bytes)
        #expect(decoded == (try Schedule(.cosine, [.tMax: 7])))
    }
}
