import Testing
@testable import HessianLR

/// rescaled(toNominal:): the schedule torch runs for a param group whose initial lr is the new
/// nominal rate (eta_min of the cosine kinds absolute, every other rate in proportion).
@Suite struct ScheduleRescalingTests {
    typealias S = ScheduleTestSupport

    @Test func multiplicativeKindsGetTheGroupsLrAsBase() throws {
        let kinds: [(ScheduleKind, [ScheduleParameter: Double])] = [
            (.constant, [.baseLR: 0.1, .factor: 0.25, .totalIters: 4]),
            (.linear, [.baseLR: 0.1, .startFactor: 0.2, .endFactor: 0.9, .totalIters: 7]),
            (.step, [.baseLR: 0.1, .stepSize: 3, .gamma: 0.5]),
            (.exponential, [.baseLR: 0.1, .gamma: 0.9]),
            (.polynomial, [.baseLR: 0.1, .totalIters: 9, .power: 0.5]),
        ]
        for (kind, settings) in kinds {
            let schedule = try Schedule(kind, settings)
            var expected = settings
            expected[.baseLR] = 0.037
            let torch = try Schedule(kind, expected)  // torch: base_lr = the group's initial lr
            let group = try schedule.rescaled(toNominal: 0.037)
            #expect(group == torch, "\(kind.name)")
        }
    }

    @Test func cosineKeepsEtaMinAbsolute() throws {
        let cosine = try Schedule(.cosine, [.baseLR: 0.05, .tMax: 10, .etaMin: 1e-10])
        let group = try cosine.rescaled(toNominal: 0.5)  // torch's test_cos_anneal_lr, group 1
        #expect(try group.parameter(.baseLR) == 0.5 && group.parameter(.etaMin) == 1e-10)
        #expect(group.value(at: 10) == 1e-10)
        let restarts = try Schedule(.cosineWarmRestarts, [.baseLR: 0.05, .t0: 10, .tMult: 2, .etaMin: 1e-3])
        let restarted = try restarts.rescaled(toNominal: 0.005)
        #expect(try restarted.parameter(.baseLR) == 0.005 && restarted.parameter(.etaMin) == 1e-3)
        #expect(S.close(restarted.value(at: 5), 1e-3 + (0.005 - 1e-3) * 0.5))
        // A group lr below eta_min: the cosine rises to eta_min, as torch's does.
        let below = try restarts.rescaled(toNominal: 1e-4)
        #expect(S.close(below.value(at: 0), 1e-4) && below.value(at: 5) > 1e-4 && below.value(at: 5) < 1e-3)
    }

    @Test func oneCycleAndCyclicScaleTheirRates() throws {
        let cycle = try Schedule(.oneCycle, [.maxLR: 0.4, .totalSteps: 50, .divFactor: 25, .finalDivFactor: 1e4])
        let group = try cycle.rescaled(toNominal: 0.04)
        #expect(try group.parameter(.maxLR) == 0.04 && group.parameter(.divFactor) == 25)
        let cyclic = try Schedule(.cyclic, [.baseLR: 0.001, .maxLR: 0.1, .stepSizeUp: 5])
        let scaled = try cyclic.rescaled(toNominal: 0.01)
        #expect(try scaled.parameter(.maxLR) == 0.01 && scaled.parameter(.baseLR) == 0.001 * (0.01 / 0.1))
    }

    @Test func compositesRescaleEveryNode() throws {
        let cosine = try Schedule(.cosine, [.baseLR: 0.1, .tMax: 20, .etaMin: 1e-4])
        let warm = try Schedule.warmup(cosine, steps: 5, startValue: 0.01)
        let joined = try Schedule.join([warm, try Schedule(.constant, [.baseLR: 0.02])], boundaries: [30])
        let group = try joined.rescaled(toNominal: 0.3)
        let expectedCosine = try Schedule(.cosine, [.baseLR: 0.3, .tMax: 20, .etaMin: 1e-4])
        let expectedWarm = try Schedule.warmup(expectedCosine, steps: 5, startValue: 0.01 * (0.3 / 0.1))
        let expected = try Schedule.join(
            [expectedWarm, try Schedule(.constant, [.baseLR: 0.02 * (0.3 / 0.1)])], boundaries: [30])
        #expect(group == expected)
        #expect(group.nominalRate == 0.3)
    }

    @Test func theSameNominalIsTheSameSchedule() throws {
        let schedules = [
            try Schedule(.cosine, [.baseLR: 0.1, .etaMin: 0.01]),
            try Schedule(.multiStep, [.baseLR: 0.3]),
            try Schedule(.hyperbolic, [.baseLR: 0.2]),
            try Schedule(.warmupStableDecay, [.baseLR: 0.1, .startLR: 0.01, .finalLR: 0.001]),
            try Schedule.warmup(try Schedule(.oneCycle, [.maxLR: 0.6]), steps: 3, startValue: 0.1),
        ]
        for schedule in schedules {
            #expect(try schedule.rescaled(toNominal: schedule.nominalRate) == schedule)
        }
        var milestones = try Schedule(.multiStep, [.baseLR: 0.3])
        try milestones.setMilestones([5, 2, 5])
        #expect(try milestones.rescaled(toNominal: 0.6).milestones == [2, 5, 5])
    }

    @Test func zeroNominalsAndBadTargets() throws {
        let zero = try Schedule(.constant, [.baseLR: 0])
        #expect(try zero.rescaled(toNominal: 0.5) == zero)
        let hyperbolic = try Schedule(.hyperbolic, [.baseLR: 0.2, .infimumLR: 1e-3])
        let off = try hyperbolic.rescaled(toNominal: 0)
        #expect(off.values(from: 0, count: 20).allSatisfy { $0 == 0 })
        let cosine = try Schedule(.cosine, [.baseLR: 0.1, .etaMin: 1e-3])
        #expect(try cosine.rescaled(toNominal: 0).value(at: 0) == 0)
        for bad in [Double.nan, .infinity, -.infinity, -1e-3, 2e300] {
            let error = S.error { () throws(HLRError) in _ = try cosine.rescaled(toNominal: bad) }
            #expect(error?.kind == .invalidArgument, "\(bad)")
        }
        let tiny = try Schedule(.cyclic, [.baseLR: 1e-300, .maxLR: 1e-299])
        let error = S.error { () throws(HLRError) in _ = try tiny.rescaled(toNominal: 1e300) }  // base_lr·1e599 overflows
        #expect(error?.kind == .invalidArgument)
    }

    /// Every rate parameter of every kind (a spec with range [0, maxRate]) is either scaled or
    /// the cosine kinds' eta_min: a new rate parameter must be placed in this policy.
    @Test func everyRateParameterHasAPolicy() {
        for kind in ScheduleKind.allCases {
            for spec in kind.parameterSpecs where spec.minimum == 0 && spec.maximum == ScheduleParameterSpec.maxRate {
                let scaled = Schedule.scalesWithNominal(spec.parameter, of: kind)
                #expect(scaled != (spec.parameter == .etaMin), "\(kind.name).\(spec.parameter.name)")
            }
        }
    }
}
