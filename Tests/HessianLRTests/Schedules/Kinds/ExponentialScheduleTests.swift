import Testing
@testable import HessianLR

@Suite struct ExponentialScheduleTests {
    typealias S = ScheduleTestSupport

    @Test func matchesRepeatedMultiplication() throws {
        let schedule = try Schedule(.exponential, [.baseLR: 0.1, .gamma: 0.96])
        var expected = 0.1
        for step: UInt64 in 0..<500 {
            #expect(S.close(schedule.value(at: step), expected, 1e-12), "step \(step)")
            expected *= 0.96
        }
        #expect(schedule.value(at: 1 << 40) == 0)
        #expect(schedule.value(at: .max) == 0)
    }

    @Test func gammaEdges() throws {
        let one = try Schedule(.exponential, [.baseLR: 0.2, .gamma: 1])
        for step in S.extremeSteps { #expect(one.value(at: step) == 0.2) }
        let zero = try Schedule(.exponential, [.baseLR: 0.2, .gamma: 0])
        #expect(zero.value(at: 0) == 0.2)  // 0⁰ = 1 as in Python
        #expect(zero.value(at: 1) == 0)
        let half = try Schedule(.exponential, [.baseLR: 1, .gamma: 0.5])
        #expect(half.value(at: 10) == 1.0 / 1024)
    }
}
