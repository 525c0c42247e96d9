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

    @Test func rangesFollowTorch() throws {
        var schedule = try Schedule(.linear)
        #expect(throws: HLRError.self) { try schedule.set(.startFactor, 0) }
        #expect(throws: HLRError.self) { try schedule.set(.endFactor, 1.01) }
        #expect(throws: HLRError.self) { try schedule.set(.totalIters, 0) }
    }
}
