import Testing
@testable import HessianLR

/// The HessianLR state machine: schedule of requests, per-group state, errors that change nothing.
@Suite struct HessianLRTunerTests {
    static func tuner(groups: Int = 1, _ settings: [(ParameterKey, Double)] = []) throws -> HessianLRTuner {
        try .with(groups: groups, settings)
    }

    @Test func wantsCurvatureFollowsWarmupAndPeriod() throws {
        let tuner = try Self.tuner([(.warmupSteps, 3), (.updatePeriod, 4)])
        let wanted = (0..<20).filter { tuner.wantsCurvature(atStep: UInt64($0)) }
        #expect(wanted == [3, 7, 11, 15, 19])
        #expect(try tuner.info(.nextCurvatureStep, group: 0) == 3)
    }

    @Test func stepsMustIncrease() throws {
        var tuner = try Self.tuner([(.updatePeriod, 1)])
        try tuner.observeCurvature(step: 5, values: [1, 2])
        #expect(!tuner.wantsCurvature(atStep: 5))
        #expect(!tuner.wantsCurvature(atStep: 4))
        #expect(tuner.wantsCurvature(atStep: 6))
        let error = #expect(throws: HLRError.self) { try tuner.observeCurvature(step: 5, values: [1, 2]) }
        #expect(error?.kind == .wrongState)
        #expect(error?.message.contains("step 5") == true)
    }

    @Test func notWantedStepNamesTheNextOne() throws {
        var tuner = try Self.tuner([(.warmupSteps, 2), (.updatePeriod, 10)])
        let error = #expect(throws: HLRError.self) { try tuner.observeCurvature(step: 5, values: [1, 2]) }
        #expect(error?.kind == .wrongState)
        #expect(error?.message.contains("next curvature step is 12") == true)
    }

    @Test func ratesBeforeFirstUpdateFollowWarmup() throws {
        var tuner = try Self.tuner([(.warmupSteps, 4), (.initialLR, 0.5)])
        #expect(try tuner.learningRate(group: 0, step: 0) == 0.125)
        #expect(try tuner.learningRate(group: 0, step: 3) == 0.5)
        #expect(try tuner.learningRate(group: 0, step: 100) == 0.5)
        try tuner.setParameter(.smoothing, 0, group: nil)
        try tuner.observeCurvature(step: 4, values: [1, 0.25])  // candidate 4, bounded to 3·0.5
        #expect(try tuner.learningRate(group: 0, step: 4) == 1.0)  // clamped by lr_max = 1
        #expect(try tuner.info(.lastFlags, group: 0) == Double((DecisionFlags.boundedHigh.union(.clampedMax)).rawValue))
    }

    @Test func groupsAreIndependent() throws {
        var tuner = try Self.tuner(groups: 3, [(.smoothing, 0), (.updatePeriod, 1), (.lrMax, 10)])
        try tuner.setParameter(.initialLR, 0.1, group: 1)
        try tuner.setParameter(.initialLR, 1.0, group: 2)
        try tuner.observeCurvature(step: 0, values: [1, 4000, 1, 8, 0, 0])
        #expect(try tuner.learningRate(group: 0, step: 0) == 0.3 * 1e-3)  // 2.5e-4 < low·lr
        #expect(try tuner.learningRate(group: 1, step: 0) == 0.125)
        #expect(try tuner.learningRate(group: 2, step: 0) == 1.0)  // zero gradient: kept
        #expect(try tuner.info(.lastFlags, group: 2) == Double(DecisionFlags.zeroGradient.rawValue))
        #expect(try tuner.info(.updates, group: 0) == 1)
        #expect(try tuner.info(.lastStep, group: 0) == 0)
    }

    @Test func nonFiniteObservationChangesNothing() throws {
        var tuner = try Self.tuner([(.updatePeriod, 1)])
        try tuner.observeCurvature(step: 0, values: [1, 2])
        let before = tuner.snapshot()
        for bad in [Double.nan, .infinity, -.infinity] {
            for values in [[bad, 1.0], [1.0, bad]] {
                let error = #expect(throws: HLRError.self) { try tuner.observeCurvature(step: 1, values: values) }
                #expect(error?.kind == .nonFinite)
                #expect(tuner.snapshot() == before)
            }
        }
    }

    @Test func negativeSquaredNormIsInvalidForGradientDirection() throws {
        var tuner = try Self.tuner([(.updatePeriod, 1)])
        let error = #expect(throws: HLRError.self) { try tuner.observeCurvature(step: 0, values: [-1, 2]) }
        #expect(error?.kind == .invalidArgument)
        #expect(error?.message.contains("-1.0") == true)
        try tuner.setParameter(.direction, 1, group: nil)
        try tuner.observeCurvature(step: 0, values: [-1, 2])  // direction update: not a descent
        #expect(try tuner.info(.lastFlags, group: 0) == Double(DecisionFlags.notDescent.rawValue))
    }

    @Test func wrongValueCountIsInvalid() throws {
        var tuner = try Self.tuner(groups: 2, [(.updatePeriod, 1)])
        let error = #expect(throws: HLRError.self) { try tuner.observeCurvature(step: 0, values: [1, 2]) }
        #expect(error?.kind == .invalidArgument)
        #expect(error?.message.contains("expected 4") == true)
    }

    @Test func invalidOptionsAreRefusedAndNamed() throws {
        var tuner = try Self.tuner()
        let cases: [(ParameterKey, Double, String)] = [
            (.smoothing, 1.0, "smoothing"), (.smoothing, .nan, "nan"), (.lrBoundLow, 0, "lr_bound_low"),
            (.lrBoundHigh, 0.5, "lr_bound_high"), (.updatePeriod, 0, "update_period"),
            (.updatePeriod, 2.5, "integer"), (.warmupSteps, -1, "warmup_steps"),
            (.lrMin, 2, "lr_min"), (.initialLR, 0, "initial_lr"), (.direction, 2, "direction"),
            (.lrMax, -.infinity, "finite"), (.lrMax, .nan, "nan"),
        ]
        let before = tuner.snapshot()
        for (key, value, fragment) in cases {
            let error = #expect(throws: HLRError.self) { try tuner.setParameter(key, value, group: nil) }
            #expect(error?.kind == .invalidArgument, "\(key.name) = \(value)")
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "")")
            #expect(tuner.snapshot() == before)
        }
        let groupError = #expect(throws: HLRError.self) { try tuner.setParameter(.smoothing, 0.5, group: 0) }
        #expect(groupError?.message.contains("whole tuner") == true)
        let rangeError = #expect(throws: HLRError.self) { try tuner.setParameter(.initialLR, 0.5, group: 1) }
        #expect(rangeError?.message.contains("group 1") == true)
    }

    @Test func groupCountIsBounded() {
        #expect(throws: HLRError.self) { try HessianLRTuner(groups: 0) }
        #expect(throws: HLRError.self) { try HessianLRTuner(groups: HessianLRTuner.maxGroups + 1) }
    }

    @Test func resetStateKeepsOptionsAndViceVersa() throws {
        var tuner = try Self.tuner([(.updatePeriod, 1), (.initialLR, 0.2), (.smoothing, 0)])
        try tuner.observeCurvature(step: 0, values: [1, 10])
        #expect(try tuner.learningRate(group: 0, step: 1) == 0.1)
        var stateReset = tuner
        stateReset.reset(state: true, options: false)
        #expect(try stateReset.learningRate(group: 0, step: 1) == 0.2)
        #expect(try stateReset.info(.updates, group: 0) == 0)
        #expect(try stateReset.parameter(.smoothing, group: 0) == 0)
        var optionsReset = tuner
        optionsReset.reset(state: false, options: true)
        #expect(try optionsReset.parameter(.smoothing, group: 0) == 0.9)
        #expect(try optionsReset.info(.updates, group: 0) == 1)
    }

    @Test func snapshotMidRunContinuesBitIdentically() throws {
        var reference = try Self.tuner(groups: 2, [(.updatePeriod, 3), (.warmupSteps, 2)])
        var generator = SplitMix(seed: 7)
        var restored: HessianLRTuner?
        for step in UInt64(0)..<200 {
            let values = (0..<4).map { _ in generator.nextSigned() }
            if reference.wantsCurvature(atStep: step) {
                try? reference.observeCurvature(step: step, values: values)
                if restored != nil, restored!.wantsCurvature(atStep: step) {
                    try? restored!.observeCurvature(step: step, values: values)
                }
            }
            if step == 77 {
                var fresh = try Self.tuner(groups: 2)
                try fresh.restore(snapshot: reference.snapshot())
                restored = fresh
            }
            if let restored {
                #expect(restored.learningRates(step: step).map(\.bitPattern)
                    == reference.learningRates(step: step).map(\.bitPattern))
            }
        }
        #expect(restored?.snapshot() == reference.snapshot())
    }
}

/// A tiny deterministic generator for test inputs (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [−1, 3): mostly positive, sometimes negative.
    mutating func nextSigned() -> Double { Double(next() >> 11) / Double(1 << 53) * 4 - 1 }
}
