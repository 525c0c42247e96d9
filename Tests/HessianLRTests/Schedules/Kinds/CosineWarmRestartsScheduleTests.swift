import Testing
@testable import HessianLR

@Suite struct CosineWarmRestartsScheduleTests {
    typealias S = ScheduleTestSupport

    /// torch's stepping of (T_cur, T_i): T_cur += 1; at T_cur ≥ T_i, restart with T_i·T_mult.
    static func simulate(t0: UInt64, tMult: UInt64, steps: Int) -> [(UInt64, UInt64)] {
        var current: UInt64 = 0
        var length = t0
        var out: [(UInt64, UInt64)] = []
        for _ in 0..<steps {
            out.append((current, length))
            current += 1
            if current >= length {
                current -= length
                length *= tMult
            }
        }
        return out
    }

    @Test func matchesSteppedCycles() throws {
        for (t0, tMult, low) in [(10, 1, 0.0), (7, 2, 1e-3), (3, 3, 0.0), (1, 2, 0.0), (1, 1, 0.01)] as [(UInt64, UInt64, Double)] {
            let schedule = try Schedule(
                .cosineWarmRestarts, [.baseLR: 0.1, .t0: Double(t0), .tMult: Double(tMult), .etaMin: low])
            for (step, (current, length)) in Self.simulate(t0: t0, tMult: tMult, steps: 2000).enumerated() {
                let want = low + (0.1 - low) * (1 + Double.cos(Double.pi * Double(current) / Double(length))) / 2
                #expect(S.close(schedule.value(at: UInt64(step)), want, 1e-15), "T0 \(t0) mult \(tMult) step \(step)")
            }
        }
    }

    @Test func restartsAtCycleStarts() throws {
        let schedule = try Schedule(.cosineWarmRestarts, [.baseLR: 0.5, .t0: 5, .tMult: 3, .etaMin: 0.1])
        var start: UInt64 = 0
        var length: UInt64 = 5
        while true {
            #expect(schedule.value(at: start) == 0.5, "cycle start \(start)")
            let (last, overflowLast) = start.addingReportingOverflow(length - 1)
            if overflowLast { break }
            // Decreasing to the cycle's end (long cycles reach eta_min in floating point).
            #expect(schedule.value(at: last) <= schedule.value(at: last - 1), "cycle end \(last)")
            #expect(schedule.value(at: last) < 0.5, "cycle end \(last)")
            let (next, overflowStart) = start.addingReportingOverflow(length)
            let (nextLength, overflowLength) = length.multipliedReportingOverflow(by: 3)
            if overflowStart || overflowLength { break }
            start = next
            length = nextLength
        }
        #expect(start > 1 << 60)
    }

    @Test func hugeCyclesNeverOverflow() throws {
        let schedule = try Schedule(
            .cosineWarmRestarts, [.baseLR: 0.5, .t0: ScheduleParameterSpec.maxIntegral, .tMult: ScheduleParameterSpec.maxIntegral])
        for step in S.extremeSteps {
            let value = schedule.value(at: step)
            #expect(value.isFinite && value >= 0 && value <= 0.5, "step \(step): \(value)")
        }
        #expect(schedule.value(at: 1 << 53) == 0.5)  // the second cycle starts at 2⁵³
    }
}
