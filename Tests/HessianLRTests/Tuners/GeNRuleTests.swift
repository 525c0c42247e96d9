import Testing
@testable import HessianLR

/// GeN's pure rule: probes, exact quadratic recovery, gates, safeguards, groups.
@Suite struct GeNRuleTests {
    /// Smoothing off, bounds and clamp wide open: the rate is the fitted b/a itself.
    static func neutral(groups: Int = 1) -> GeNOptions {
        neutralSafeguards(GeNOptions(groups: groups), bounds: \.probeFit.lrBoundLow, \.probeFit.lrBoundHigh)
    }

    /// Losses of L(ξ) = c − b·ξ + ½·a·ξ² at the probes of group 0.
    static func parabola(c: Double, b: Double, a: Double, probes: [[Double]]) -> [Double] {
        probes.map { row in c - b * row[0] + 0.5 * a * row[0] * row[0] }
    }

    @Test func probeRatiosAreSymmetricAndEquallySpaced() {
        #expect(GeNRule.probeRatios(count: 3) == [-1, 0, 1])
        #expect(GeNRule.probeRatios(count: 4) == [-1, -1.0 / 3, 1.0 / 3, 1])
        #expect(GeNRule.probeRatios(count: 5) == [-1, -0.5, 0, 0.5, 1])
        var options = GeNOptions(groups: 2)
        options.probeFit.probeScale = 2
        #expect(GeNRule.probes(rates: [0.1, 0.25], options: options) == [[-0.2, -0.5], [0, 0], [0.2, 0.5]])
    }

    @Test func recoversBOverAExactlyOnAQuadratic() throws {
        let probes = GeNRule.probes(rates: [0.2], options: Self.neutral())
        #expect(probes == [[-0.2], [0], [0.2]])
        let losses = Self.parabola(c: 5, b: 3, a: 12, probes: probes)
        let decision = try GeNRule.decide(current: [0.2], losses: losses, options: Self.neutral())
        #expect(TunerCheck.close(decision.learningRates[0], 0.25, 1e-12))
        #expect(TunerCheck.close(decision.slopes[0], 3, 1e-12))
        #expect(TunerCheck.close(decision.curvature[0], 12, 1e-12))
        #expect(TunerCheck.close(decision.model.intercept, 5, 1e-14))
        #expect(decision.flags == [[]])
        // The 3-probe closed forms.
        let xi = 0.2
        #expect(TunerCheck.close(decision.slopes[0], (losses[0] - losses[2]) / (2 * xi), 1e-12))
        #expect(TunerCheck.close(decision.curvature[0], (losses[2] + losses[0] - 2 * losses[1]) / (xi * xi), 1e-12))
        #expect(decision.model.r2 > 1 - 1e-12)
    }

    @Test func recoversTheQuadraticOptimumAlongTheGradient() throws {
        // L(w) = ½wᵀHw, d = g: L(w − ξg) is exactly quadratic in ξ with b = gᵀg, a = gᵀHg.
        let problem = TunerQuadratic.diagonal([1, 4, 9], offset: 0.5)
        let w: [Double] = [1, -0.5, 0.25]
        let g = problem.gradient(w)
        let lr = 0.05
        var options = Self.neutral()
        options.probeFit.probeCount = 7
        let probes = GeNRule.probes(rates: [lr], options: options)
        let losses = probes.map { row in problem.loss(zip(w, g).map { $0 - row[0] * $1 }) }
        let decision = try GeNRule.decide(current: [lr], losses: losses, options: options)
        let exact = TunerCheck.dot(g, g) / TunerCheck.dot(g, problem.hvp(g))
        #expect(TunerCheck.close(decision.learningRates[0], exact, 1e-10))
        #expect(TunerCheck.close(decision.slopes[0], TunerCheck.dot(g, g), 1e-10))
    }

    @Test func defaultSafeguardsClipThenSmooth() throws {
        let options = GeNOptions(groups: 1)  // clip [lr/2, 2lr], β = 0.9
        let probes = GeNRule.probes(rates: [0.2], options: options)
        let near = try GeNRule.decide(
            current: [0.2], losses: Self.parabola(c: 1, b: 3, a: 12, probes: probes), options: options)
        #expect(near.learningRates[0] == 0.9 * 0.2 + (1 - 0.9) * near.candidates[0])
        let far = try GeNRule.decide(
            current: [0.2], losses: Self.parabola(c: 1, b: 10, a: 1, probes: probes), options: options)
        #expect(far.flags == [.boundedHigh])
        #expect(far.learningRates[0] == 0.9 * 0.2 + (1 - 0.9) * (2.0 * 0.2))
        let small = try GeNRule.decide(
            current: [0.2], losses: Self.parabola(c: 1, b: 1, a: 100, probes: probes), options: options)
        #expect(small.flags == [.boundedLow])
        #expect(small.learningRates[0] == 0.9 * 0.2 + (1 - 0.9) * (0.5 * 0.2))
    }

    /// The reference's gates: a rejected fit keeps the rate (it halves only when the fit fails).
    @Test func concaveOrAscendingFitsKeepTheRate() throws {
        let options = Self.neutral()
        let probes = GeNRule.probes(rates: [0.2], options: options)
        let concave = try GeNRule.decide(
            current: [0.2], losses: Self.parabola(c: 1, b: 3, a: -12, probes: probes), options: options)
        #expect(concave.learningRates == [0.2])
        #expect(concave.flags == [[.fitRejected, .negativeCurvature]])
        #expect(concave.candidates[0].isNaN)
        let flat = try GeNRule.decide(
            current: [0.2], losses: Self.parabola(c: 1, b: 3, a: 0, probes: probes), options: options)
        #expect(flat.flags == [[.fitRejected, .negativeCurvature]])
        let ascending = try GeNRule.decide(
            current: [0.2], losses: Self.parabola(c: 1, b: -3, a: 12, probes: probes), options: options)
        #expect(ascending.learningRates == [0.2])
        #expect(ascending.flags == [[.fitRejected, .notDescent]])
        let still = try GeNRule.decide(current: [0.2], losses: [1, 1, 1], options: options)
        #expect(still.flags == [[.fitRejected, .negativeCurvature, .zeroGradient]])
    }

    @Test func poorFitsKeepTheRate() throws {
        var options = Self.neutral()
        options.probeFit.probeCount = 5
        let probes = GeNRule.probes(rates: [0.2], options: options)
        // A good parabola plus alternating noise: convex and descending, but R² far below 0.99.
        var noisy = Self.parabola(c: 1, b: 3, a: 12, probes: probes)
        for j in noisy.indices { noisy[j] += j % 2 == 0 ? 0.3 : -0.3 }
        let decision = try GeNRule.decide(current: [0.2], losses: noisy, options: options)
        #expect(decision.model.r2 < 0.99)
        #expect(decision.model.curvature[0] > 0 && decision.model.slope[0] > 0)
        #expect(decision.learningRates == [0.2])
        #expect(decision.flags == [[.fitRejected, .poorFit]])
        // A kink (not a quadratic) fails the same gate.
        let kink = probes.map { max(0, -$0[0]) * 10 + 1 }
        let kinked = try GeNRule.decide(current: [0.2], losses: kink, options: options)
        #expect(kinked.model.r2 < 0.99)
        #expect(kinked.flags[0].contains(.fitRejected))
        // The same noise with the gate at 0 passes.
        options.probeFit.r2Threshold = 0
        #expect(try GeNRule.decide(current: [0.2], losses: noisy, options: options).flags == [[]])
    }

    @Test func rejectedFitsKeepTheRateWhateverTheFailureDecay() throws {
        var options = Self.neutral()
        options.lrMin = 0.15
        let probes = GeNRule.probes(rates: [0.2], options: options)
        for decay in [1.0, 0.5, 1e-3] {
            options.probeFit.fitFailureDecay = decay
            let kept = try GeNRule.decide(
                current: [0.2], losses: Self.parabola(c: 1, b: 3, a: -1, probes: probes), options: options)
            #expect(kept.learningRates == [0.2])
            #expect(kept.flags == [[.fitRejected, .negativeCurvature]])
        }
    }

    @Test func groupsShareOneScaleAndKeepTheirRatios() throws {
        // Probes move group k by ρ·lr_k: the fit is along the combined step; b_k, a_k are in each
        // group's own step units and b_k/a_k = (β/α)·lr_k.
        let options = Self.neutral(groups: 2)
        let rates = [0.1, 0.3]
        let probes = GeNRule.probes(rates: rates, options: options)
        let losses = probes.map { row in 2 - 3 * (row[0] / 0.1) + 0.5 * 4 * (row[0] / 0.1) * (row[0] / 0.1) }
        let decision = try GeNRule.decide(current: rates, losses: losses, options: options)
        #expect(TunerCheck.close(decision.learningRates[0], 0.1 * 0.75, 1e-12))
        #expect(TunerCheck.close(decision.learningRates[1], 0.3 * 0.75, 1e-12))
        #expect(TunerCheck.close(decision.slopes[0] * 0.1, decision.slopes[1] * 0.3, 1e-12))
        #expect(TunerCheck.close(decision.candidates[1] / decision.candidates[0], 3, 1e-14))
    }

    @Test func malformedLossesAreRefused() {
        #expect(throws: HLRError.self) { try GeNRule.decide(current: [0.1], losses: [1, 2], options: Self.neutral()) }
        let nan = #expect(throws: HLRError.self) {
            try GeNRule.decide(current: [0.1], losses: [1, .nan, 2], options: Self.neutral())
        }
        #expect(nan?.kind == .nonFinite)
    }
}
