import Testing
@testable import HessianLR

@Suite struct CyclicScheduleTests {
    typealias S = ScheduleTestSupport

    /// The triangle in integer arithmetic: r = t mod (up + down), rising r/up, falling
    /// (L − r)/down; cycle = t div L + 1.
    static func expected(
        _ t: UInt64, base: Double, peak: Double, up: UInt64, down: UInt64, mode: CyclicMode, gamma: Double
    ) -> Double {
        let length = up + down
        let r = t % length
        let shape = r <= up ? Double(r) / Double(up) : Double(length - r) / Double(down)
        let cycle = t / length + 1
        var scale = 1.0
        switch mode {
        case .triangular: scale = 1
        case .triangular2: for _ in 1..<cycle { scale /= 2 }
        case .expRange: for _ in 0..<t { scale *= gamma }
        }
        return base + (peak - base) * shape * scale
    }

    @Test func modes() throws {
        let cases: [(Double, Double, UInt64, Double, CyclicMode, Double, UInt64)] = [
            (1e-3, 1e-2, 2000, -1, .triangular, 1, 9000),
            (1e-3, 1e-2, 7, 3, .triangular2, 1, 300),
            (1e-3, 0.1, 5, -1, .expRange, 0.99, 300),
            (0.01, 0.001, 4, 6, .triangular, 1, 300),  // inverted cycle
            (1e-3, 1e-2, 3, 0, .triangular, 1, 300),  // sawtooth
        ]
        for (base, peak, up, down, mode, gamma, count) in cases {
            let schedule = try Schedule(.cyclic, [
                .baseLR: base, .maxLR: peak, .stepSizeUp: Double(up), .stepSizeDown: down,
                .mode: Double(mode.rawValue), .gamma: gamma,
            ])
            let downSteps = down < 0 ? up : UInt64(down)
            for step in stride(from: UInt64(0), to: count, by: 1) {
                let want = Self.expected(step, base: base, peak: peak, up: up, down: downSteps, mode: mode, gamma: gamma)
                #expect(S.close(schedule.value(at: step), want, 1e-12), "\(mode.name) step \(step)")
            }
        }
    }

    @Test func peaksAndTroughs() throws {
        let schedule = try Schedule(.cyclic, [.baseLR: 0.25, .maxLR: 1, .stepSizeUp: 4, .stepSizeDown: 4])
        #expect(schedule.value(at: 0) == 0.25)
        #expect(schedule.value(at: 4) == 1)
        #expect(schedule.value(at: 8) == 0.25)
        #expect(schedule.value(at: 2) == 0.625)
    }

    @Test func extremeSteps() throws {
        for mode in CyclicMode.allCases {
            let schedule = try Schedule(.cyclic, [.mode: Double(mode.rawValue), .gamma: 0.5, .stepSizeUp: 3])
            for step in S.extremeSteps {
                let value = schedule.value(at: step)
                #expect(value.isFinite && value >= 1e-3 && value <= 1e-2, "\(mode.name) \(step): \(value)")
            }
        }
        // triangular2 after ~1000 cycles: the amplitude underflows to 0 (torch overflows).
        let halving = try Schedule(.cyclic, [.baseLR: 0.1, .maxLR: 0.2, .stepSizeUp: 1, .mode: 1])
        #expect(halving.value(at: 1 << 20 + 1) == 0.1)
    }

    @Test func stepSizeUpMustBePositive() throws {
        var schedule = try Schedule(.cyclic)
        let error = S.error { () throws(HLRError) in try schedule.set(.stepSizeUp, 0) }
        #expect(error?.message.contains("step_size_up") == true)
    }
}
