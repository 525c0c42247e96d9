import Testing
@testable import HessianLR

/// lr_max = +∞ (no ceiling): accepted by every clamped method, round-trips through snapshots, and
/// still never hands out an infinite rate (the largest finite Double caps it; for GeN and Hi-DLR
/// the probe bound min(lr_max, 1e150 / probe_scale) does).
@Suite struct RateCeilingTests {
    static let clampedMethods: [Method] = [.hessianLR, .cdat, .gen, .hidlr, .armijo]

    @Test(arguments: clampedMethods)
    func infiniteLRMaxIsAcceptedAndRestored(method: Method) throws {
        var tuner = try makeTuner(method: method, groups: 2)
        try tuner.setParameter(.lrMax, .infinity, group: nil)
        #expect(try tuner.parameter(.lrMax, group: 0) == .infinity)
        #expect(method.parameterSpecs.first { $0.key == .lrMax }?.maximum == .infinity)
        var restored = try makeTuner(method: method, groups: 2)
        try restored.restore(snapshot: tuner.snapshot())
        #expect(try restored.parameter(.lrMax, group: 0) == .infinity)
        #expect(restored.snapshot() == tuner.snapshot())
    }

    @Test(arguments: clampedMethods)
    func negativeInfinityAndNaNAreRefusedAndNamed(method: Method) throws {
        var tuner = try makeTuner(method: method, groups: 1)
        let before = tuner.snapshot()
        for (value, fragment) in [(-Double.infinity, "must be finite"), (.nan, "nan")] {
            let error = #expect(throws: HLRError.self) { try tuner.setParameter(.lrMax, value, group: nil) }
            #expect(error?.kind == .invalidArgument)
            #expect(error?.message.contains("lr_max") == true && error?.message.contains(fragment) == true,
                    "\(error?.message ?? "")")
            #expect(tuner.snapshot() == before)
        }
        // Infinity stays refused where it is not a bound (every other option).
        let other = #expect(throws: HLRError.self) { try tuner.setParameter(.initialLR, .infinity, group: nil) }
        #expect(other?.message.contains("initial_lr must be finite, got inf") == true, "\(other?.message ?? "")")
    }

    @Test func theSharedClampKeepsRatesFinite() {
        var flags: DecisionFlags = []
        #expect(RateSafeguards.clamp(.infinity, lrMin: 0, lrMax: .infinity, flags: &flags) == .greatestFiniteMagnitude)
        #expect(flags == [.clampedMax])
        flags = []
        #expect(RateSafeguards.clamp(1e300, lrMin: 0, lrMax: .infinity, flags: &flags) == 1e300)
        #expect(flags.isEmpty)
    }

    @Test func cdatWithAVanishingDenominatorGivesTheLargestFiniteRate() {
        var options = CDATOptions(groups: 1)
        options.smoothing = 0
        options.lrMax = .infinity
        options.epsilon = .leastNormalMagnitude
        let decision = CDATRule.decide(numerator: 0, denominator: 0, slope: 1e300, curvature: 0, options: options)
        #expect(decision.candidate == .infinity)
        #expect(decision.learningRate == .greatestFiniteMagnitude)
        #expect(decision.flags.contains(.clampedMax))
    }

    @Test func hessianLRCandidateOverflowIsCappedFinite() {
        var options = HessianLROptions(groups: 1)
        options.lrMax = .infinity
        options.lrBoundHigh = 3
        options.smoothing = 0.5
        // s/c = 1e310 overflows to +∞, so does 3·lr: the smoothed rate is +∞ before the clamp.
        let decision = HessianLRRule.decide(current: 1e308, slope: 1e10, curvature: 1e-300, options: options)
        #expect(decision.candidate == .infinity)
        #expect(decision.learningRate == .greatestFiniteMagnitude)
        #expect(decision.flags == [.clampedMax])
    }

    @Test func armijoTrialsStayFiniteWithoutACeiling() {
        var options = ArmijoOptions(groups: 1)
        options.lrMax = .infinity
        options.increaseFactor = 1.5
        #expect(ArmijoRule.firstTrial(previous: .greatestFiniteMagnitude, options: options) == .greatestFiniteMagnitude)
        #expect(ArmijoRule.firstTrial(previous: 2, options: options) == 3)
    }

    @Test func genRatesObeyTheProbeBound() throws {
        var options = GeNOptions(groups: 1)
        options.lrMax = .infinity
        options.probeFit.probeScale = 4
        options.smoothing = 0
        #expect(options.rateCeiling == 1e150 / 4)
        let current = 2.4e149
        let probes = GeNRule.probes(rates: [current], options: options)
        // L(ξ) = 1 − bξ + ½aξ² with b/a = 10·current: the candidate is bounded to 2·current, then
        // the probe bound 2.5e149 applies.
        let a = 1e-300, b = a * 10 * current
        let losses = probes.map { 1 - b * $0[0] + 0.5 * a * $0[0] * $0[0] }
        let decision = try GeNRule.decide(current: [current], losses: losses, options: options)
        #expect(decision.learningRates == [2.5e149])
        #expect(decision.flags[0].contains(.clampedMax))
        #expect(GeNRule.probes(rates: decision.learningRates, options: options).allSatisfy { $0.allSatisfy(\.isFinite) })
    }

    @Test(arguments: [Method.gen, .hidlr])
    func probeConstraintCoversInitialRatesAndTheFloor(method: Method) throws {
        var tuner = try makeTuner(method: method, groups: 1)
        try tuner.setParameter(.lrMax, .greatestFiniteMagnitude, group: nil)  // no longer refused
        try tuner.setParameter(.initialLR, 1e150, group: nil)
        let before = tuner.snapshot()
        let scale = #expect(throws: HLRError.self) { try tuner.setParameter(.probeScale, 4, group: nil) }
        #expect(scale?.message.contains("probe_scale (4.0) × the largest rate (1e+150)") == true, "\(scale?.message ?? "")")
        #expect(tuner.snapshot() == before)
        try tuner.setParameter(.initialLR, 1e-3, group: nil)
        let floor = #expect(throws: HLRError.self) { try tuner.setParameter(.lrMin, 1e151, group: nil) }
        #expect(floor?.message.contains("probe_scale") == true)
    }
}
