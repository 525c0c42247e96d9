import Testing
@testable import HessianLR

@Suite struct LinearScheduleTests {
    typealias S = ScheduleTestSupport

    /// base·(s·(T − m) + e·m)/T with m = min(t, T): the same line, written as a weighted mean.
    static func expected(_ base: Double, _ s: Double, _ e: Double, _ total: UInt64, _ t: UInt64) -> Double {
        let m = Double(min(t, total))
        let n = Double(total)
        return base * (s * (n - m) + e * m) / n
    }

    @Test func rampsAndHolds() throws {
        let schedule = try Schedule(.linear, [.baseLR: 0.2, .startFactor: 0.25, .endFactor: 0.75, .totalIters: 8])
        #expect(schedule.value(at: 0) == 0.2 * 0.25)
        #expect(S.close(schedule.value(at: 4), 0.2 * 0.5))
        S.expectMatches(schedule, Array(0...20) + S.extremeSteps) {
            Self.expected(0.2, 0.25, 0.75, 8, $0)
        }
        #expect(schedule.value(at: .max) == 0.2 * 0.75)
    }

    @Test func torchDefaultsWarmUpToBase() throws {
        let schedule = try Schedule(.linear, [.baseLR: 0.3])
        S.expectMatches(schedule, 0...10) { Self.expected(0.3, 1.0 / 3, 1, 5, $0) }
        #expect(S.close(schedule.value(at: 5), 0.3, 1e-15))
    }

    @Test func decreasingToZero() throws {
        let schedule = try Schedule(.linear, [.baseLR: 1, .startFactor: 1, .endFactor: 0, .totalIters: 1000])
        S.expectMatches(schedule, stride(from: 0, through: 1500, by: 7)) { Self.expected(1, 1, 0, 1000, $0) }
        #expect(schedule.value(at: 1000) == 0)
    }

    /// Torch's closed form s + (e − s)·T/T rounds to −1.1e−16 for these factors (issue 11, item
    /// 5): the rate must be ≥ 0, and past the ramp exactly base·e.
    @Test func neverNegativeWhereRoundingOvershoots() throws {
        let s = 0.9313166610544982
        #expect(s + (0 - s) * 5 / 5 < 0)  // the unclamped closed form does overshoot
        let schedule = try Schedule(.linear, [.baseLR: 1e-3, .startFactor: s, .endFactor: 0, .totalIters: 5])
        for t: UInt64 in [5, 6, 1000, .max] { #expect(schedule.value(at: t) == 0) }
        for t: UInt64 in 0..<5 {
            #expect(schedule.value(at: t) == 1e-3 * (s + (0 - s) * Double(t) / 5))  // torch's closed form
            #expect(schedule.value(at: t) > 0)
        }
    }

    /// Every value over a grid of factors and lengths is within base·[min(s, e), max(s, e)] and
    /// equal to torch's closed form whenever that form is within it.
    @Test func valuesStayWithinTheFactorsAndMatchTorchsClosedForm() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Double {  // a fixed sequence (splitmix64), uniform in [0, 1)
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
        for _ in 0..<2000 {
            let s = max(next(), .leastNonzeroMagnitude)
            let e = next() < 0.3 ? 0 : next()
            let total = UInt64(1 + Int(next() * 40))
            let schedule = try Schedule(.linear, [.baseLR: 1, .startFactor: s, .endFactor: e, .totalIters: Double(total)])
            for t in 0...(total + 2) {
                let value = schedule.value(at: t)
                #expect(value >= min(s, e) && value <= max(s, e), "s \(s) e \(e) T \(total) t \(t): \(value)")
                let closed = s + (e - s) * Double(min(t, total)) / Double(total)
                if closed >= min(s, e) && closed <= max(s, e) { #expect(value == closed) }
            }
        }
    }

    @Test func rangesFollowTorch() throws {
        var schedule = try Schedule(.linear)
        #expect(throws: HLRError.self) { try schedule.set(.startFactor, 0) }
        #expect(throws: HLRError.self) { try schedule.set(.endFactor, 1.01) }
        #expect(throws: HLRError.self) { try schedule.set(.totalIters, 0) }
    }
}
