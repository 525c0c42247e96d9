import Testing
@testable import HessianLR

@Suite struct JoinScheduleTests {
    typealias S = ScheduleTestSupport

    static func constant(_ value: Double) throws -> Schedule { try Schedule(.constant, [.baseLR: value]) }

    @Test func eachPieceCountsFromItsBoundary() throws {
        let ramp = try Schedule(.linear, [.baseLR: 1, .startFactor: 0.5, .endFactor: 1, .totalIters: 4])
        let decay = try Schedule(.exponential, [.baseLR: 1, .gamma: 0.5])
        let schedule = try Schedule.join([try Self.constant(0.25), ramp, decay], boundaries: [3, 10])
        for step: UInt64 in 0..<3 { #expect(schedule.value(at: step) == 0.25) }
        for step: UInt64 in 3..<10 { #expect(schedule.value(at: step) == ramp.value(at: step - 3)) }
        #expect(schedule.value(at: 3) == 0.5)  // piece 1 at its own step 0
        for step: UInt64 in 10..<80 { #expect(schedule.value(at: step) == decay.value(at: step - 10)) }
        #expect(schedule.value(at: 10) == 1)
        #expect(schedule.value(at: .max) == decay.value(at: .max - 10))
        #expect(schedule.nodeCount == 4 && schedule.depth == 2)
    }

    @Test func singlePieceAndBoundaryZero() throws {
        let only = try Schedule.join([try Self.constant(0.5)], boundaries: [])
        for step in S.extremeSteps { #expect(only.value(at: step) == 0.5) }
        let hidden = try Schedule.join([try Self.constant(0.5), try Self.constant(0.7)], boundaries: [0])
        #expect(hidden.value(at: 0) == 0.7)
        let last = try Schedule.join([try Self.constant(0.5), try Self.constant(0.7)], boundaries: [.max])
        #expect(last.value(at: .max - 1) == 0.5)
        #expect(last.value(at: .max) == 0.7)
    }

    /// "warmup + cosine is a join": the warmup wrapper equals a join of torch's LinearLR and the
    /// cosine at boundary W.
    @Test func warmupPlusCosineIsAJoin() throws {
        let (base, f, warmup) = (0.1, 0.1, UInt64(5))
        let cosine = try Schedule(.cosine, [.baseLR: base, .tMax: 20])
        let ramp = try Schedule(.linear, [.baseLR: base, .startFactor: f, .endFactor: 1, .totalIters: Double(warmup)])
        let joined = try Schedule.join([ramp, cosine], boundaries: [warmup])
        let wrapped = try Schedule.warmup(cosine, steps: warmup, startValue: f * base)
        for step: UInt64 in 0..<70 {
            #expect(S.close(joined.value(at: step), wrapped.value(at: step), 1e-15), "step \(step)")
        }
    }

    @Test func validationNamesTheValues() throws {
        let a = try Self.constant(0.1)
        let empty = S.error { () throws(HLRError) in _ = try Schedule.join([], boundaries: []) }
        #expect(empty?.message.contains("at least one piece") == true)
        let count = S.error { () throws(HLRError) in _ = try Schedule.join([a, a], boundaries: [1, 2]) }
        #expect(count?.message.contains("2 pieces need 1 boundaries, got 2") == true)
        let equal = S.error { () throws(HLRError) in _ = try Schedule.join([a, a, a], boundaries: [5, 5]) }
        #expect(equal?.message.contains("boundaries[1] = 5 after 5") == true)
        let decreasing = S.error { () throws(HLRError) in _ = try Schedule.join([a, a, a], boundaries: [9, 4]) }
        #expect(decreasing?.kind == .invalidArgument)
        #expect(decreasing?.message.contains("boundaries[1] = 4 after 9") == true)
    }

    @Test func treeLimits() throws {
        let leaf = try Self.constant(0.1)
        let widest = try Schedule.join(Array(repeating: leaf, count: Schedule.maxNodes - 1),
                                       boundaries: (1..<UInt64(Schedule.maxNodes - 1)).map { $0 })
        #expect(widest.nodeCount == Schedule.maxNodes)
        let tooWide = S.error { () throws(HLRError) in
            _ = try Schedule.join([widest, leaf], boundaries: [3])
        }
        #expect(tooWide?.message.contains("\(Schedule.maxNodes + 2) nodes") == true)
        var deep = leaf
        for _ in 1..<Schedule.maxDepth { deep = try Schedule.warmup(deep, steps: 1, startValue: 0) }
        #expect(deep.depth == Schedule.maxDepth)
        let tooDeep = S.error { () throws(HLRError) in _ = try Schedule.join([deep], boundaries: []) }
        #expect(tooDeep?.message.contains("\(Schedule.maxDepth + 1) levels") == true)
        #expect(deep.value(at: .max).isFinite)
    }
}
