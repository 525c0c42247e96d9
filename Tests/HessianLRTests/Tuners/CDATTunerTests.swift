import Testing
@testable import HessianLR

/// The CDAT state machine: schedule, per-group EMAs, the edge-of-stability diagnostic, refusals.
@Suite struct CDATTunerTests {
    static func tuner(groups: Int = 1, _ settings: [(ParameterKey, Double)] = []) throws -> CDATTuner {
        try .with(groups: groups, settings)
    }

    @Test func defaultDirectionIsTheUpdate() throws {
        #expect(try Self.tuner().usesUpdateDirection)
    }

    @Test func curvatureEveryPeriodSteps() throws {
        let every = try Self.tuner()
        #expect((0..<5).allSatisfy { every.wantsCurvature(atStep: UInt64($0)) })
        let tuner = try Self.tuner([(.updatePeriod, 3)])
        #expect((0..<10).filter { tuner.wantsCurvature(atStep: UInt64($0)) } == [0, 3, 6, 9])
        let error = #expect(throws: HLRError.self) {
            var copy = tuner
            try copy.observeCurvature(step: 4, values: [1, 1])
        }
        #expect(error?.kind == .wrongState)
        #expect(error?.message.contains("next update step is 6") == true)
    }

    @Test func ratesFollowTheRulePerGroup() throws {
        var tuner = try Self.tuner(groups: 2, [(.smoothing, 0), (.lrMax, 10)])
        try tuner.setParameter(.initialLR, 0.05, group: 1)
        #expect(tuner.learningRates(step: 0) == [1e-3, 0.05])
        try tuner.observeCurvature(step: 0, values: [1, 4, 2, 1])
        #expect(try tuner.learningRate(group: 0, step: 0) == 2 * 1 / (4 + 1e-12))
        #expect(try tuner.learningRate(group: 1, step: 0) == 2 * 2 / (1 + 1e-12))
        #expect(try tuner.info(.lastSlope, group: 1) == 2)
        #expect(try tuner.info(.lastCurvature, group: 0) == 4)
        #expect(try tuner.info(.smoothedNumerator, group: 0) == 1)
        #expect(try tuner.info(.updates, group: 0) == 1)
        #expect(try tuner.info(.nextUpdateStep, group: 0) == 1)
        // Between observations the rate stays.
        #expect(try tuner.learningRate(group: 0, step: 5) == 2 * 1 / (4 + 1e-12))
    }

    @Test func edgeOfStabilityNeedsTheCallersSharpness() throws {
        var tuner = try Self.tuner([(.smoothing, 0), (.epsilon, 1e-300)])
        try tuner.observeCurvature(step: 0, values: [1, 10])  // η = 2·1/10 = 0.2
        #expect(try tuner.info(.edgeOfStability, group: 0).isNaN)
        try tuner.setParameter(.sharpness, 10, group: 0)
        #expect(try tuner.info(.edgeOfStability, group: 0) == 0.2 * 10)
        #expect(try tuner.learningRate(group: 0, step: 0) == 0.2)  // a diagnostic only
    }

    @Test func refusalsChangeNothing() throws {
        var tuner = try Self.tuner(groups: 2)
        try tuner.observeCurvature(step: 0, values: [1, 2, 3, 4])
        let before = tuner.snapshot()
        let cases: [(ObservationKind, [Double], HLRError.Kind, String)] = [
            (.curvature, [1, 2], .invalidArgument, "expected 4"),
            (.curvature, [1, .nan, 1, 1], .nonFinite, "uᵀHu of group 0"),
            (.curvature, [1, 1, .infinity, 1], .nonFinite, "gᵀu of group 1"),
            (.losses, [1], .wrongState, "cdat needs curvature at step 1, not losses"),
            (.slope, [1, 2, 3], .wrongState, "not slope"),
        ]
        for (kind, values, errorKind, fragment) in cases {
            let error = #expect(throws: HLRError.self) { try tuner.observe(step: 1, kind: kind, values: values) }
            #expect(error?.kind == errorKind, "\(fragment)")
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "")")
            #expect(tuner.snapshot() == before)
        }
        var huge = tuner
        try huge.setParameter(.epsilon, 1e308, group: nil)
        let overflow = #expect(throws: HLRError.self) { try huge.observeCurvature(step: 1, values: [1, 1, 1, 1e308]) }
        #expect(overflow?.kind == .nonFinite)
        #expect(overflow?.message.contains("overflows") == true)
        let old = #expect(throws: HLRError.self) { try tuner.observeCurvature(step: 0, values: [1, 2, 3, 4]) }
        #expect(old?.message.contains("steps must increase") == true)
        try tuner.setParameter(.direction, 0, group: nil)
        let negative = #expect(throws: HLRError.self) { try tuner.observeCurvature(step: 1, values: [-1, 2, 3, 4]) }
        #expect(negative?.kind == .invalidArgument)
        #expect(negative?.message.contains("squared norm") == true)
    }

    @Test func resetStateForgetsTheEMAs() throws {
        var tuner = try Self.tuner()
        try tuner.observeCurvature(step: 0, values: [1, 3])
        tuner.reset(state: true, options: false)
        #expect(try tuner.info(.smoothedNumerator, group: 0) == 0)
        #expect(try tuner.info(.updates, group: 0) == 0)
        #expect(try tuner.learningRate(group: 0, step: 0) == 1e-3)
        #expect(tuner.wantsCurvature(atStep: 0))
    }
}
