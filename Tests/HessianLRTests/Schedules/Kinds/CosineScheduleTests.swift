import RealModule
import Testing
@testable import HessianLR

@Suite struct CosineScheduleTests {
    typealias S = ScheduleTestSupport

    /// η_min + (base − η_min)·cos²(π·t/(2·T)), the half-angle form of the same curve.
    static func expected(_ base: Double, _ low: Double, _ period: UInt64, _ t: UInt64) -> Double {
        let c = Double.cos(Double.pi * Double(t) / (2 * Double(period)))
        return low + (base - low) * c * c
    }

    /// Absolute tolerance relative to the base rate (the half-angle form differs from the
    /// 1 + cos form by rounding near the troughs, where the value is tiny).
    static func near(_ a: Double, _ b: Double, scale: Double) -> Bool { abs(a - b) <= 1e-14 * scale }

    @Test func followsTheCurveAndKeepsOscillating() throws {
        for (period, low) in [(7, 0.0), (100, 1e-4), (1000, 0.0)] as [(UInt64, Double)] {
            let schedule = try Schedule(.cosine, [.baseLR: 0.1, .tMax: Double(period), .etaMin: low])
            for step in stride(from: UInt64(0), through: 6 * period + 3, by: Int(max(period / 50, 1))) {
                #expect(Self.near(schedule.value(at: step), Self.expected(0.1, low, period, step), scale: 0.1),
                        "T \(period) step \(step)")
            }
            #expect(schedule.value(at: 0) == 0.1)
            #expect(schedule.value(at: period) == low)  // 1 + cos(π) = 0 exactly
            #expect(S.close(schedule.value(at: 2 * period), 0.1, 1e-15))  // back to base: period 2·T
        }
    }

    @Test func symmetricAroundTMaxAndPeriodic() throws {
        let schedule = try Schedule(.cosine, [.baseLR: 0.1, .tMax: 50, .etaMin: 0.01])
        for k: UInt64 in 0...50 {
            #expect(S.close(schedule.value(at: 50 - k), schedule.value(at: 50 + k), 1e-13))
            #expect(S.close(schedule.value(at: k), schedule.value(at: k + 100), 1e-13))
        }
    }

    @Test func boundedAtExtremeSteps() throws {
        let schedule = try Schedule(.cosine, [.baseLR: 0.1, .tMax: 3, .etaMin: 0.02])
        for step in S.extremeSteps {
            let value = schedule.value(at: step)
            #expect(value >= 0.02 && value <= 0.1, "step \(step): \(value)")
        }
    }
}
