import Testing
@testable import HessianLR

@Suite struct ConstantScheduleTests {
    typealias S = ScheduleTestSupport

    @Test func defaultsAreAPlainConstant() throws {
        let schedule = try Schedule(.constant, [.baseLR: 0.125])
        for step in S.extremeSteps + [5, 1000] { #expect(schedule.value(at: step) == 0.125) }
    }

    @Test func factorAppliesBeforeTotalIters() throws {
        let schedule = try Schedule(.constant, [.baseLR: 0.5, .factor: 0.25, .totalIters: 7])
        for step: UInt64 in 0..<7 { #expect(schedule.value(at: step) == 0.125) }
        for step in [7, 8, 1 << 40, UInt64.max] { #expect(schedule.value(at: step) == 0.5) }
    }

    @Test func zeroFactorAndZeroIters() throws {
        let zero = try Schedule(.constant, [.baseLR: 0.5, .factor: 0, .totalIters: 3])
        #expect(zero.value(at: 2) == 0)
        #expect(zero.value(at: 3) == 0.5)  // torch divides by zero here
        let closedForm = try Schedule(.constant, [.baseLR: 0.5, .factor: 0.1, .totalIters: 0])
        #expect(closedForm.value(at: 0) == 0.5)  // torch's closed form; its stepped form keeps 0.05
    }

    @Test func factorIsBetweenZeroAndOne() throws {
        var schedule = try Schedule(.constant)
        #expect(throws: HLRError.self) { try schedule.set(.factor, 1.5) }
        #expect(throws: HLRError.self) { try schedule.set(.totalIters, -1) }
    }
}
