import RealModule
import Testing
@testable import HessianLR

@Suite struct WarmupScheduleTests {
    typealias S = ScheduleTestSupport

    @Test func rampsToTheChildsFirstValueThenShifts() throws {
        let child = try Schedule(.exponential, [.baseLR: 0.8, .gamma: 0.5])
        let schedule = try Schedule.warmup(child, steps: 8, startValue: 0)
        for step: UInt64 in 0..<8 { #expect(schedule.value(at: step) == 0.1 * Double(step)) }
        #expect(schedule.value(at: 8) == 0.8)
        for step: UInt64 in 8..<40 { #expect(schedule.value(at: step) == child.value(at: step - 8)) }
        #expect(schedule.value(at: .max) == child.value(at: .max - 8))
        #expect(schedule.kind == .warmup)
        #expect(schedule.nodeCount == 2 && schedule.depth == 2)
        #expect(try schedule.parameter(.warmupSteps) == 8)
        #expect(try schedule.parameter(.startLR) == 0)
    }

    @Test func zeroStepsIsTheChild() throws {
        let child = try Schedule(.cosine, [.baseLR: 0.3, .tMax: 10])
        let schedule = try Schedule.warmup(child, steps: 0, startValue: 0.5)
        for step in S.extremeSteps { #expect(schedule.value(at: step) == child.value(at: step)) }
    }

    /// torch: SequentialLR([LinearLR(f, 1, W), CosineAnnealingLR(T)], [W]) is
    /// base·(f + (1 − f)·t/W) for t < W and the cosine at t − W after.
    @Test func warmupPlusCosineMatchesSequentialLR() throws {
        let (base, f, warmup, period) = (0.1, 0.001, UInt64(10), UInt64(100))
        let cosine = try Schedule(.cosine, [.baseLR: base, .tMax: Double(period)])
        let schedule = try Schedule.warmup(cosine, steps: warmup, startValue: f * base)
        for step: UInt64 in 0..<(warmup + 3 * period) {
            let want = step < warmup
                ? base * (f + (1 - f) * Double(step) / Double(warmup))
                : base * (1 + Double.cos(Double.pi * Double(step - warmup) / Double(period))) / 2
            #expect(abs(schedule.value(at: step) - want) <= 1e-15 * base, "step \(step)")
        }
    }

    @Test func parametersAreValidated() throws {
        let child = try Schedule(.constant)
        let negative = S.error { () throws(HLRError) in _ = try Schedule.warmup(child, steps: 5, startValue: -1) }
        #expect(negative?.message.contains("start_lr") == true)
        #expect(negative?.message.contains("-1.0") == true)
        let long = S.error { () throws(HLRError) in _ = try Schedule.warmup(child, steps: .max, startValue: 0) }
        #expect(long?.message.contains("\(UInt64.max)") == true)
        var schedule = try Schedule.warmup(child, steps: 5, startValue: 0)
        try schedule.set(.warmupSteps, 7)
        #expect(try schedule.parameter(.warmupSteps) == 7)
        #expect(throws: HLRError.self) { try schedule.set(.gamma, 0.5) }
    }
}
