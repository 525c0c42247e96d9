import Testing
@testable import HessianLR

/// The GeN state machine: lazy schedule, probes from the current rates, info, refusals.
@Suite struct GeNTunerTests {
    static func tuner(groups: Int = 1, _ settings: [(ParameterKey, Double)] = []) throws -> GeNTuner {
        try .with(groups: groups, settings)
    }

    @Test func asksForLossesEveryPeriodAtTheCurrentRate() throws {
        var tuner = try Self.tuner([(.initialLR, 0.2)])
        #expect(tuner.need(atStep: 0) == .losses(probes: [[-0.2], [0], [0.2]]))
        #expect((1..<12).filter { tuner.need(atStep: UInt64($0)) != .nothing } == [4, 8])
        try tuner.observe(step: 0, kind: .losses, values: [1 + 0.6 + 0.24, 1, 1 - 0.6 + 0.24])  // b 3, a 12
        #expect(tuner.need(atStep: 0) == .nothing)
        let rate = try tuner.learningRate(group: 0, step: 0)
        #expect(rate == 0.9 * 0.2 + (1 - 0.9) * (try tuner.info(.lastCandidate, group: 0)))
        #expect(TunerCheck.close(try tuner.info(.lastCandidate, group: 0), 0.25, 1e-12))
        #expect(tuner.need(atStep: 4) == .losses(probes: [[-rate], [0], [rate]]))
        #expect(TunerCheck.close(try tuner.info(.fitSlope, group: 0), 3, 1e-12))
        #expect(TunerCheck.close(try tuner.info(.fitCurvature, group: 0), 12, 1e-12))
        #expect(TunerCheck.close(try tuner.info(.fitIntercept, group: 0), 1, 1e-12))
        #expect(try tuner.info(.fitR2, group: 0) > 0.99)
        #expect(try tuner.info(.nextUpdateStep, group: 0) == 4)
        #expect(try tuner.info(.nextCurvatureStep, group: 0) == -1)
        #expect(try tuner.info(.updates, group: 0) == 1)
    }

    @Test func probeCountShapesTheNeed() throws {
        let tuner = try Self.tuner([(.initialLR, 0.5), (.probeCount, 5), (.probeScale, 2)])
        #expect(tuner.need(atStep: 0) == .losses(probes: [[-1], [-0.5], [0], [0.5], [1]]))
        #expect(tuner.need(atStep: 0).valueCount(groups: 1) == 5)
    }

    @Test func refusalsChangeNothing() throws {
        var tuner = try Self.tuner(groups: 2)
        let before = tuner.snapshot()
        let cases: [(UInt64, ObservationKind, [Double], HLRError.Kind, String)] = [
            (0, .curvature, [1, 2, 3, 4], .wrongState, "gen needs losses at step 0, not curvature"),
            (0, .losses, [1, 2], .invalidArgument, "expected 3"),
            (0, .losses, [1, .nan, 2], .nonFinite, "loss at probe 1"),
            (1, .losses, [1, 2, 3], .wrongState, "next update step is 4"),
        ]
        for (step, kind, values, errorKind, fragment) in cases {
            let error = #expect(throws: HLRError.self) { try tuner.observe(step: step, kind: kind, values: values) }
            #expect(error?.kind == errorKind)
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "")")
            #expect(tuner.snapshot() == before)
        }
        let unknown = #expect(throws: HLRError.self) { try tuner.info(.lastSlope, group: 0) }
        #expect(unknown?.kind == .unknownKey)
        #expect(unknown?.message.contains("gen has no info key last_slope") == true)
        let noKey = #expect(throws: HLRError.self) { try tuner.setParameter(.sigma, 1, group: nil) }
        #expect(noKey?.kind == .unknownKey)
        #expect(noKey?.message.contains("key 11") == true)
    }

    @Test func repeatedRejectionsKeepTheRate() throws {
        var tuner = try Self.tuner([(.updatePeriod, 4), (.initialLR, 0.1)])
        for step in stride(from: UInt64(0), to: 40, by: 4) {
            try tuner.observe(step: step, kind: .losses, values: [1.0, 0.9, 0.7])  // concave: rejected
        }
        #expect(try tuner.learningRate(group: 0, step: 40) == 0.1)
        #expect(try tuner.info(.updates, group: 0) == 10)
        #expect(try tuner.info(.lastFlags, group: 0)
            == Double(DecisionFlags([.fitRejected, .negativeCurvature]).rawValue))
    }

    @Test func failedObservationsDecayAndFloorAtLrMin() throws {
        var tuner = try Self.tuner([(.updatePeriod, 1), (.initialLR, 1e-6), (.fitFailureDecay, 0.25)])
        try tuner.observeFailure(step: 0)
        #expect(try tuner.learningRate(group: 0, step: 0) == 0.25e-6)
        #expect(try tuner.info(.lastFlags, group: 0)
            == Double(DecisionFlags([.fitRejected, .observationFailed]).rawValue))
        #expect(try tuner.info(.fitR2, group: 0).isNaN)
        #expect(try tuner.info(.lastCandidate, group: 0).isNaN)
        for step in UInt64(1)..<20 { try tuner.observeFailure(step: step) }
        #expect(try tuner.learningRate(group: 0, step: 20) == 1e-8)
        #expect(try tuner.info(.updates, group: 0) == 20)
        #expect(try tuner.info(.lastFlags, group: 0)
            == Double(DecisionFlags([.fitRejected, .observationFailed, .clampedMin]).rawValue))
        // A failed fit after an accepted one forgets the fit, and the next fit starts from the
        // decayed rate.
        try tuner.setParameter(.fitFailureDecay, 0.5, group: nil)
        let probes = GeNRule.probes(rates: tuner.rates, options: tuner.options)
        try tuner.observe(step: 20, kind: .losses, values: probes.map { 1 - 3 * $0[0] + 6 * $0[0] * $0[0] })
        #expect(!(try tuner.info(.fitR2, group: 0)).isNaN)
        let before = try tuner.learningRate(group: 0, step: 21)
        try tuner.observeFailure(step: 21)
        #expect(try tuner.learningRate(group: 0, step: 21) == max(0.5 * before, 1e-8))
        #expect(try tuner.info(.fitR2, group: 0).isNaN)
    }

    @Test func failuresAreRefusedWhereNoLossesAreNeeded() throws {
        var tuner = try Self.tuner([(.updatePeriod, 4)])
        let before = tuner.snapshot()
        for (step, fragment) in [(UInt64(1), "needs nothing"), (UInt64.max, "needs nothing")] {
            let error = #expect(throws: HLRError.self) { try tuner.observeFailure(step: step) }
            #expect(error?.kind == .wrongState)
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "")")
        }
        #expect(tuner.snapshot() == before)
        try tuner.observeFailure(step: 0)
        let again = #expect(throws: HLRError.self) { try tuner.observeFailure(step: 0) }
        #expect(again?.message.contains("steps must increase") == true)
    }
}
