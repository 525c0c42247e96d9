import Testing
@testable import HessianLR

/// A base schedule scaling a rule, and the constant tuner that follows a schedule.
@Suite struct ScheduledTunerTests {
    static func cosine() throws -> Schedule {
        try Schedule(.cosine, [.baseLR: 0.5, .tMax: 10, .etaMin: 0.05])
    }

    @Test func constantTunerFollowsTheScheduleShape() throws {
        var constant = try ConstantTuner(groups: 2)
        try constant.setParameter(.initialLR, 0.5, group: 0)
        try constant.setParameter(.initialLR, 0.25, group: 1)
        let schedule = try Self.cosine()
        let tuner = ScheduledTuner(base: constant, schedule: schedule)
        for step in UInt64(0)..<25 {
            let value = schedule.value(at: step)
            let rate0 = try tuner.learningRate(group: 0, step: step)
            let rate1 = try tuner.learningRate(group: 1, step: step)
            #expect(abs(rate0 - value) <= value.ulp, "step \(step)")
            #expect(rate1 == 0.25 * (value / 0.5), "step \(step)")
            #expect(tuner.need(atStep: step) == .nothing)
        }
    }

    @Test func ruleRatesAreScaledByTheFactor() throws {
        var rule = try HessianLRTuner(groups: 1)
        try rule.setParameter(.updatePeriod, 1, group: nil)
        try rule.setParameter(.smoothing, 0, group: nil)
        let schedule = try Self.cosine()
        var scaled = ScheduledTuner(base: rule, schedule: schedule)
        try rule.observeCurvature(step: 0, values: [1, 400])
        try scaled.observeCurvature(step: 0, values: [1, 400])
        let plain = try rule.learningRate(group: 0, step: 3)
        #expect(try scaled.learningRate(group: 0, step: 3) == plain * schedule.factor(at: 3))
        #expect(scaled.method == .hessianLR)
    }

    @Test func snapshotCarriesTheSchedule() throws {
        var rule = try HessianLRTuner(groups: 1)
        try rule.setParameter(.updatePeriod, 1, group: nil)
        try rule.observeCurvature(step: 0, values: [1, 4])
        let scaled = ScheduledTuner(base: rule, schedule: try Self.cosine())
        #expect(ScheduledTuner(base: rule).snapshot() == rule.snapshot())  // no schedule: same bytes
        var fresh = ScheduledTuner(base: try HessianLRTuner(groups: 1))
        try fresh.restore(snapshot: scaled.snapshot())
        #expect(fresh.schedule == scaled.schedule)
        #expect(fresh.snapshot() == scaled.snapshot())
        for step in UInt64(0)..<20 {
            #expect(try fresh.learningRate(group: 0, step: step) == scaled.learningRate(group: 0, step: step))
        }
        try fresh.restore(snapshot: rule.snapshot())  // a plain snapshot detaches the schedule
        #expect(fresh.schedule == nil)
    }

    @Test func corruptScheduleSectionChangesNothing() throws {
        let scaled = ScheduledTuner(base: try HessianLRTuner(groups: 1), schedule: try Self.cosine())
        var target = ScheduledTuner(base: try HessianLRTuner(groups: 1))
        let before = target.snapshot()
        var bytes = scaled.snapshot()
        for length in 0..<bytes.count {
            #expect(throws: HLRError.self) { try target.restore(snapshot: Array(bytes[0..<length])) }
        }
        bytes[bytes.count - 1] ^= 1
        let error = #expect(throws: HLRError.self) { try target.restore(snapshot: bytes) }
        #expect(error?.kind == .snapshotCorrupt)
        #expect(target.snapshot() == before)
    }

    @Test func constantTunerNeedsNothingAndRefusesObservations() throws {
        var tuner = try ConstantTuner(groups: 1)
        let error = #expect(throws: HLRError.self) { try tuner.observeCurvature(step: 0, values: [1, 2]) }
        #expect(error?.kind == .wrongState)
        let spec = try Method.constant.spec(for: .initialLR)
        #expect(spec.defaultValue == 1e-3)
        #expect(throws: HLRError.self) { try tuner.setParameter(.smoothing, 0.5, group: nil) }
    }
}
