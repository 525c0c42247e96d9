import Testing
@testable import HessianLR

@Suite struct MultiStepScheduleTests {
    typealias S = ScheduleTestSupport

    @Test func repeatsCountAndMilestoneZeroApplies() throws {
        var schedule = try Schedule(.multiStep, [.baseLR: 0.1, .gamma: 0.3])
        let milestones: [UInt64] = [30, 5, 0, 9, 5]
        try schedule.setMilestones(milestones)
        #expect(schedule.milestones == [0, 5, 5, 9, 30])
        for step: UInt64 in 0..<50 {
            var expected = 0.1
            for milestone in milestones where milestone <= step { expected *= 0.3 }
            #expect(S.close(schedule.value(at: step), expected, 1e-14), "step \(step)")
        }
        #expect(S.close(schedule.value(at: .max), 0.1 * 0.3 * 0.3 * 0.3 * 0.3 * 0.3, 1e-14))
    }

    @Test func noMilestonesIsConstant() throws {
        let schedule = try Schedule(.multiStep, [.baseLR: 0.7])
        for step in S.extremeSteps { #expect(schedule.value(at: step) == 0.7) }
    }

    @Test func milestoneAtTheLastStep() throws {
        var schedule = try Schedule(.multiStep, [.baseLR: 1, .gamma: 0.5])
        try schedule.setMilestones([.max])
        #expect(schedule.value(at: .max - 1) == 1)
        #expect(schedule.value(at: .max) == 0.5)
    }
}
