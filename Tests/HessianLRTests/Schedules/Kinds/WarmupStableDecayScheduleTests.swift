import RealModule
import Testing
@testable import HessianLR

@Suite struct WarmupStableDecayScheduleTests {
    typealias S = ScheduleTestSupport

    static func make(_ shape: DecayShape, warmup: Double = 10, stable: Double = 20, decay: Double = 40) throws -> Schedule {
        try Schedule(.warmupStableDecay, [
            .baseLR: 1, .startLR: 0.2, .finalLR: 0.1, .warmupSteps: warmup, .stableSteps: stable,
            .decaySteps: decay, .decayShape: Double(shape.rawValue),
        ])
    }

    @Test func phases() throws {
        for shape in DecayShape.allCases {
            let schedule = try Self.make(shape)
            for step: UInt64 in 0..<10 {
                #expect(S.close(schedule.value(at: step), 0.2 + 0.8 * Double(step) / 10, 1e-15))
            }
            for step: UInt64 in 10..<30 { #expect(schedule.value(at: step) == 1, "\(shape.name) \(step)") }
            for step: UInt64 in 30..<70 {
                let u = Double(step - 30) / 40
                let want: Double
                switch shape {
                case .linear: want = 1 - 0.9 * u
                case .cosine: want = 0.1 + 0.9 * Double.pow(Double.cos(Double.pi * u / 2), 2)
                case .oneMinusSqrt: want = 0.1 + 0.9 * (1 - u.squareRoot())
                }
                #expect(S.close(schedule.value(at: step), want, 1e-14), "\(shape.name) \(step)")
            }
            for step in [70, 71, 1 << 40, UInt64.max] { #expect(schedule.value(at: step) == 0.1) }
        }
    }

    @Test func zeroLengthPhasesAreSkipped() throws {
        let noWarmup = try Self.make(.linear, warmup: 0)
        #expect(noWarmup.value(at: 0) == 1)
        let noStable = try Self.make(.cosine, stable: 0)
        #expect(noStable.value(at: 10) == 1)
        #expect(noStable.value(at: 11) < 1)
        let noDecay = try Self.make(.oneMinusSqrt, decay: 0)
        #expect(noDecay.value(at: 29) == 1)
        #expect(noDecay.value(at: 30) == 0.1)
    }

    @Test func longestPhasesNeverOverflow() throws {
        let max = ScheduleParameterSpec.maxIntegral
        let schedule = try Self.make(.oneMinusSqrt, warmup: max, stable: max, decay: max)
        #expect(schedule.value(at: 1 << 53) == 1)
        let value = schedule.value(at: .max)
        #expect(value.isFinite && value >= 0.1 && value <= 1)
    }
}
