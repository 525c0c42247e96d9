import RealModule
import Testing
@testable import HessianLR

@Suite struct OneCycleScheduleTests {
    typealias S = ScheduleTestSupport

    /// Cosine from `a` to `b` as p goes 0 → 1, in the half-angle form a + (b − a)·sin²(π·p/2).
    static func cosine(_ a: Double, _ b: Double, _ p: Double) -> Double {
        let s = Double.sin(Double.pi * p / 2)
        return a + (b - a) * s * s
    }

    @Test func twoPhaseCosine() throws {
        let schedule = try Schedule(.oneCycle, [.maxLR: 0.1, .totalSteps: 100])
        let initial = 0.1 / 25
        let low = initial / 1e4
        let a = 0.3 * 100 - 1  // 29
        for step: UInt64 in 0..<100 {
            let t = Double(step)
            let want = t <= a
                ? Self.cosine(initial, 0.1, t / a)
                : Self.cosine(0.1, low, (t - a) / (99 - a))
            #expect(abs(schedule.value(at: step) - want) <= 1e-15 * 0.1, "step \(step)")
        }
        // torch's form end + (start − end)/2·(cos + 1) rounds at p = 0: start only to ~1 ulp.
        #expect(S.close(schedule.value(at: 0), initial, 1e-15))
        #expect(schedule.value(at: 29) == 0.1)
        #expect(schedule.value(at: 99) == low)
        for step in [100, 101, 1 << 40, UInt64.max] { #expect(schedule.value(at: step) == low) }
    }

    @Test func twoPhaseLinearHoldsInsteadOfGoingNegative() throws {
        let schedule = try Schedule(.oneCycle, [.maxLR: 0.1, .totalSteps: 100, .annealStrategy: 1])
        let initial = 0.1 / 25
        let low = initial / 1e4
        for step: UInt64 in 0..<100 {
            let t = Double(step)
            let want = t <= 29 ? initial + (0.1 - initial) * t / 29 : 0.1 + (low - 0.1) * (t - 29) / 70
            #expect(S.close(schedule.value(at: step), want, 1e-14), "step \(step)")
        }
        #expect(schedule.value(at: 100) == schedule.value(at: 99))
        #expect(schedule.value(at: 100) > 0)
    }

    @Test func threePhase() throws {
        let schedule = try Schedule(
            .oneCycle, [.maxLR: 0.5, .totalSteps: 41, .pctStart: 0.25, .divFactor: 10, .finalDivFactor: 100, .threePhase: 1])
        let initial = 0.05
        let low = 0.0005
        let a = 0.25 * 41 - 1  // 9.25
        let b = 2 * 0.25 * 41 - 2  // 18.5
        for step: UInt64 in 0..<41 {
            let t = Double(step)
            let want: Double
            if t <= a { want = Self.cosine(initial, 0.5, t / a) }
            else if t <= b { want = Self.cosine(0.5, initial, (t - a) / (b - a)) }
            else { want = Self.cosine(initial, low, (t - b) / (40 - b)) }
            #expect(abs(schedule.value(at: step) - want) <= 1e-15 * 0.5, "step \(step)")
        }
        #expect(schedule.value(at: 40) == low)
        #expect(schedule.value(at: .max) == low)
    }

    @Test func degeneratePhases() throws {
        // pct_start·T = 1: the first phase is the single step 0 and ends at max_lr.
        let single = try Schedule(.oneCycle, [.maxLR: 1, .totalSteps: 10, .pctStart: 0.1])
        #expect(single.value(at: 0) == 1)
        // pct_start = 0: no warmup phase; step 0 is already in the decay.
        let none = try Schedule(.oneCycle, [.maxLR: 1, .totalSteps: 10, .pctStart: 0])
        #expect(S.close(none.value(at: 0), Self.cosine(1, 4e-6, 1.0 / 10), 1e-14))
        // total_steps = 1: the only step is the last one.
        let one = try Schedule(.oneCycle, [.maxLR: 1, .totalSteps: 1])
        #expect(one.value(at: 0) == 1.0 / 25 / 1e4)
        // pct_start = 1: the whole cycle is the warmup.
        let all = try Schedule(.oneCycle, [.maxLR: 1, .totalSteps: 11, .pctStart: 1])
        #expect(all.value(at: 10) == 1)
        #expect(all.value(at: .max) == 1)
    }

    @Test func overflowingDivisorsAreRefused() throws {
        var schedule = try Schedule(.oneCycle)
        let error = S.error { () throws(HLRError) in try schedule.set([.maxLR: 1e300, .divFactor: 1e-300]) }
        #expect(error?.kind == .invalidArgument)
        #expect(error?.message.contains("div_factor") == true)
    }
}
