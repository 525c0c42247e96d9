import RealModule
import Testing
@testable import HessianLR

/// value(at:) is total: finite for every kind, extreme settings and extreme steps.
@Suite struct ScheduleTotalityTests {
    typealias S = ScheduleTestSupport

    /// Settings at the edges of every spec: each parameter at its minimum, then at its maximum
    /// (skipping combinations the cross-parameter checks refuse).
    static func edgeSchedules(_ kind: ScheduleKind) throws -> [Schedule] {
        var out = [try Schedule(kind)]
        for spec in kind.parameterSpecs {
            for value in [spec.minimum, spec.maximum] {
                var schedule = try Schedule(kind)
                if (try? schedule.set(spec.parameter, value)) != nil { out.append(schedule) }
            }
        }
        return out
    }

    @Test func finiteEverywhere() throws {
        let steps = S.extremeSteps + [3, 99, 100, 101, 1999, 2000, 2001, 1 << 63]
        for kind in ScheduleKind.allCases where !kind.isComposite {
            for schedule in try Self.edgeSchedules(kind) {
                for step in steps {
                    let value = schedule.value(at: step)
                    #expect(value.isFinite, "\(kind.name) \(schedule.parameterValues) step \(step): \(value)")
                    #expect(value >= 0, "\(kind.name) step \(step): \(value)")
                    #expect(schedule.factor(at: step).isFinite)
                }
                let tail = schedule.values(from: .max - 2, count: 5)
                #expect(tail.count == 5 && tail.allSatisfy { $0.isFinite })
            }
        }
    }

    /// Random combinations of values across each spec (a fixed-seed SplitMix64 stream):
    /// endpoints, defaults, uniform and log-uniform draws, small integers.
    @Test func randomCombinationsStayFinite() throws {
        var state: UInt64 = 0x5EED
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            return CounterRNG.mix(state)
        }
        func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
        func draw(_ spec: ScheduleParameterSpec) -> Double {
            let raw: Double
            switch next() % 6 {
            case 0: raw = spec.minimum
            case 1: raw = spec.maximum
            case 2: raw = spec.defaultValue
            case 3: raw = spec.minimum + (spec.maximum - spec.minimum) * unit()
            case 4: raw = Double(next() % 20) + spec.minimum
            default: raw = Double.pow(10, -300 + 600 * unit())
            }
            let value = spec.integral ? raw.rounded(.down) : raw
            return Swift.min(Swift.max(value, spec.minimum), spec.maximum)
        }
        var checked = 0
        for kind in ScheduleKind.allCases where !kind.isComposite {
            for _ in 0..<300 {
                var settings: [ScheduleParameter: Double] = [:]
                for spec in kind.parameterSpecs { settings[spec.parameter] = draw(spec) }
                guard var schedule = try? Schedule(kind, settings) else { continue }
                if kind == .multiStep { try schedule.setMilestones([next() % 50, next(), next() % 7]) }
                var wrapped = try Schedule.warmup(schedule, steps: next() % 100, startValue: draw(.rate(.startLR, default: 0)))
                wrapped = try Schedule.join([wrapped, schedule], boundaries: [next() % 1000 + 1])
                checked += 1
                for step in S.extremeSteps + (0..<20).map({ _ in next() }) + (0..<20).map({ _ in next() % 5000 }) {
                    for value in [schedule.value(at: step), wrapped.value(at: step)] {
                        #expect(value.isFinite && value >= 0, "\(kind.name) \(settings) step \(step): \(value)")
                    }
                    for factor in [schedule.factor(at: step), wrapped.factor(at: step)] {
                        #expect(factor >= 0 && factor <= 1 + 1e-12, "\(kind.name) \(settings) step \(step): factor \(factor)")
                    }
                }
            }
        }
        #expect(checked > 1000)
    }

    @Test func hugeRatesStayFinite() throws {
        let big = ScheduleParameterSpec.maxRate
        let schedules = [
            try Schedule(.cosine, [.baseLR: big, .etaMin: 0]),
            try Schedule(.cosine, [.baseLR: 0, .etaMin: big]),
            try Schedule(.cyclic, [.baseLR: big, .maxLR: 0]),
            try Schedule(.cyclic, [.baseLR: 0, .maxLR: big]),
            try Schedule(.warmupStableDecay, [.baseLR: big, .decayShape: 1]),
            try Schedule(.hyperbolic, [.baseLR: big, .infimumLR: 0]),
            try Schedule.warmup(try Schedule(.constant, [.baseLR: big]), steps: 10, startValue: 0),
        ]
        for schedule in schedules {
            for step in stride(from: UInt64(0), through: 3000, by: 1) {
                #expect(schedule.value(at: step).isFinite, "\(schedule.kind.name) step \(step)")
            }
        }
    }

    @Test func valuesFillsConsecutiveSteps() throws {
        let schedule = try Schedule(.exponential, [.baseLR: 1, .gamma: 0.5])
        #expect(schedule.values(from: 3, count: 3) == [0.125, 0.0625, 0.03125])
        #expect(schedule.values(from: 0, count: 0).isEmpty)
    }
}
