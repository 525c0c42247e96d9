import Testing
@testable import HessianLR

/// factor(at:) = value(at:)/nominalRate, the hook for a curvature rule to scale a schedule.
@Suite struct ScheduleFactorTests {
    @Test func nominalRates() throws {
        #expect(try Schedule(.cosine, [.baseLR: 0.3]).nominalRate == 0.3)
        #expect(try Schedule(.oneCycle, [.maxLR: 0.7]).nominalRate == 0.7)
        #expect(try Schedule(.cyclic, [.baseLR: 0.2, .maxLR: 0.1]).nominalRate == 0.2)
        #expect(try Schedule(.hyperbolic, [.baseLR: 0.4]).nominalRate == 0.4)
        #expect(try Schedule(.cosine, [.baseLR: 0.1, .etaMin: 0.3]).nominalRate == 0.3)
        #expect(try Schedule(.oneCycle, [.maxLR: 0.1, .divFactor: 0.5]).nominalRate == 0.2)
        #expect(try Schedule(.warmupStableDecay, [.baseLR: 0.1, .startLR: 0.5]).nominalRate == 0.5)
        let child = try Schedule(.cosine, [.baseLR: 0.5])
        let warm = try Schedule.warmup(child, steps: 10, startValue: 0)
        #expect(warm.nominalRate == 0.5)
        let joined = try Schedule.join([warm, try Schedule(.constant, [.baseLR: 0.9])], boundaries: [5])
        #expect(joined.nominalRate == 0.9)
    }

    @Test func factorIsTheShape() throws {
        let cosine = try Schedule(.cosine, [.baseLR: 0.5, .tMax: 10])
        let warm = try Schedule.warmup(cosine, steps: 4, startValue: 0)
        #expect(warm.factor(at: 0) == 0)  // defined although value(at: 0) is 0
        #expect(warm.factor(at: 2) == 0.5)
        #expect(warm.factor(at: 4) == 1)
        #expect(warm.factor(at: 14) == 0)
        let zero = try Schedule(.constant, [.baseLR: 0])
        #expect(zero.factor(at: 3) == 0)
    }
}
