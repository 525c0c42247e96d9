import Testing
@testable import HessianLR

/// The Hi-DLR state machine: schedule, probe counts, update counter as RNG index, refusals.
@Suite struct HiDLRTunerTests {
    static func tuner(groups: Int = 2, _ settings: [(ParameterKey, Double)] = []) throws -> HiDLRTuner {
        try .with(groups: groups, settings)
    }

    @Test func probeCountIsAutomaticOrAtLeastTheUnknowns() throws {
        #expect(try Self.tuner(groups: 1).options.resolvedProbeCount == 4)
        #expect(try Self.tuner(groups: 3).options.resolvedProbeCount == 12)
        #expect(try Self.tuner(groups: 3, [(.model, 1)]).options.resolvedProbeCount == 13)
        var tuner = try Self.tuner(groups: 3)
        let few = #expect(throws: HLRError.self) { try tuner.setParameter(.probeCount, 6, group: nil) }
        #expect(few?.message.contains("probe_count 6 is below the 7 unknowns") == true)
        try tuner.setParameter(.probeCount, 7, group: nil)
        let full = #expect(throws: HLRError.self) { try tuner.setParameter(.model, 1, group: nil) }
        #expect(full?.message.contains("below the 10 unknowns") == true)
        #expect(try tuner.parameter(.model, group: 0) == 0)
        var wide = try Self.tuner(groups: 17)
        let big = #expect(throws: HLRError.self) { try wide.setParameter(.model, 1, group: nil) }
        #expect(big?.message.contains("at most 16 groups") == true)
        let many = #expect(throws: HLRError.self) { try HiDLRTuner(groups: 257) }
        #expect(many?.message.contains("256") == true)
    }

    @Test func theUpdateCounterIndexesTheProbes() throws {
        var tuner = try Self.tuner([(.updatePeriod, 5), (.fitFailureDecay, 1)])
        guard case .losses(let first) = tuner.need(atStep: 0) else {
            Issue.record("step 0 must need losses")
            return
        }
        #expect(first.count == 8)
        #expect(first[0] == [0, 0])
        #expect((1..<11).filter { tuner.need(atStep: UInt64($0)) != .nothing } == [5, 10])
        try tuner.observe(step: 0, kind: .losses, values: Array(repeating: 1, count: 8))  // flat: rejected
        #expect(tuner.learningRates(step: 0) == [1e-3, 1e-3])  // decay 1 keeps them
        guard case .losses(let second) = tuner.need(atStep: 5) else {
            Issue.record("step 5 must need losses")
            return
        }
        #expect(second != first)  // same rates, next RNG index
        #expect(second == HiDLRRule.probes(rates: [1e-3, 1e-3], options: tuner.options, round: 1))
        #expect(try tuner.info(.nextUpdateStep, group: 0) == 5)
    }

    @Test func infoBeforeAndAfterTheFirstFit() throws {
        var tuner = try Self.tuner([(.initialLR, 0.1)])
        #expect(try tuner.info(.fitR2, group: 0).isNaN)
        #expect(try tuner.info(.influenceRank, group: 1) == -1)
        #expect(tuner.influenceRanking().isEmpty)
        #expect(tuner.lastFit == nil)
        guard case .losses(let probes) = tuner.need(atStep: 0) else { return }
        try tuner.observe(
            step: 0, kind: .losses,
            values: HiDLRRuleTests.quadratic(c: 1, b: [1, 2], a: [4, 0, 0, 40], probes: probes))
        #expect(TunerCheck.close(try tuner.info(.fitSlope, group: 1), 2, 1e-9))
        #expect(TunerCheck.close(try tuner.info(.fitCurvature, group: 1), 40, 1e-9))
        #expect(TunerCheck.close(try tuner.info(.fitIntercept, group: 0), 1, 1e-12))
        #expect(tuner.lastFit?.curvature.count == 4)
        #expect(try tuner.info(.updates, group: 0) == 1)
    }

    @Test func refusalsChangeNothing() throws {
        var tuner = try Self.tuner()
        let before = tuner.snapshot()
        let cases: [(UInt64, ObservationKind, [Double], HLRError.Kind, String)] = [
            (0, .curvature, [1, 2, 3, 4], .wrongState, "hidlr needs losses at step 0, not curvature"),
            (0, .losses, [1, 2, 3], .invalidArgument, "expected 8"),
            (0, .losses, [1, 1, 1, 1, 1, 1, 1, .infinity], .nonFinite, "loss at probe 7"),
            (3, .losses, Array(repeating: 1, count: 8), .wrongState, "next update step is 10"),
        ]
        for (step, kind, values, errorKind, fragment) in cases {
            let error = #expect(throws: HLRError.self) { try tuner.observe(step: step, kind: kind, values: values) }
            #expect(error?.kind == errorKind)
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "")")
            #expect(tuner.snapshot() == before)
        }
    }
}
