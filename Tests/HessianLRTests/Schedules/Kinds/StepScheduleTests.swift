import Testing
@testable import HessianLR

@Suite struct StepScheduleTests {
    typealias S = ScheduleTestSupport

    @Test func decaysEveryStepSize() throws {
        let schedule = try Schedule(.step, [.baseLR: 0.1, .stepSize: 3, .gamma: 0.1])
        var expected = 0.1
        for step: UInt64 in 0..<60 {
            if step > 0 && step % 3 == 0 { expected *= 0.1 }
            #expect(S.close(schedule.value(at: step), expected, 1e-14), "step \(step)")
        }
    }

    @Test func powersOfTwoAreExact() throws {
        let schedule = try Schedule(.step, [.baseLR: 1, .stepSize: 33, .gamma: 0.5])
        for k in 0..<40 {
            let start = UInt64(k * 33)
            let want = Double(sign: .plus, exponent: -k, significand: 1)
            #expect(schedule.value(at: start) == want)
            #expect(schedule.value(at: start + 32) == want)
        }
        #expect(schedule.value(at: .max) == 0)
    }

    @Test func gammaEdges() throws {
        let keep = try Schedule(.step, [.baseLR: 0.3, .stepSize: 1, .gamma: 1])
        for step in S.extremeSteps { #expect(keep.value(at: step) == 0.3) }
        let zero = try Schedule(.step, [.baseLR: 0.3, .stepSize: 5, .gamma: 0])
        #expect(zero.value(at: 4) == 0.3)
        #expect(zero.value(at: 5) == 0)
        #expect(zero.value(at: .max) == 0)
        var schedule = try Schedule(.step)
        let error = S.error { () throws(HLRError) in try schedule.set(.gamma, 1.1) }
        #expect(error?.message.contains("1.1") == true)
    }
}
