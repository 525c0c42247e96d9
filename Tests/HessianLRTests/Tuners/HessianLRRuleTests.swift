import Testing
@testable import HessianLR

/// The pure update rule: candidate → relative bound → EMA → absolute clamp.
@Suite struct HessianLRRuleTests {
    /// Options with every stage neutral unless a test turns it on.
    static func neutral() -> HessianLROptions {
        neutralSafeguards(HessianLROptions(groups: 1), bounds: \.lrBoundLow, \.lrBoundHigh)
    }

    @Test func candidateIsSlopeOverCurvature() {
        let d = HessianLRRule.decide(current: 1, slope: 1, curvature: 4, options: Self.neutral())
        #expect(d.learningRate == 0.25)
        #expect(d.candidate == 0.25)
        #expect(d.flags.isEmpty)
    }

    @Test(arguments: [0.5, 2.0, 10.0, 1e6])
    func eigenvectorGivesInverseEigenvalue(lambda: Double) {
        // g = c·eᵢ of H = diag(λ): gᵀg = c², gᵀHg = λc² → lr* = 1/λ exactly for c a power of 2.
        let c = 4.0
        let d = HessianLRRule.decide(current: 1, slope: c * c, curvature: lambda * c * c, options: Self.neutral())
        #expect(d.learningRate == 1 / lambda)
    }

    @Test func relativeBoundsClipAndFlag() {
        var options = Self.neutral()
        options.lrBoundLow = 0.3
        options.lrBoundHigh = 3.0
        let high = HessianLRRule.decide(current: 0.1, slope: 1, curvature: 1, options: options)
        #expect(high.learningRate == 3.0 * 0.1)
        #expect(high.candidate == 1)
        #expect(high.flags == .boundedHigh)
        let low = HessianLRRule.decide(current: 0.1, slope: 1, curvature: 1e6, options: options)
        #expect(low.learningRate == 0.3 * 0.1)
        #expect(low.flags == .boundedLow)
    }

    @Test func emaMixesCurrentAndBoundedCandidate() {
        var options = Self.neutral()
        options.smoothing = 0.9
        let d = HessianLRRule.decide(current: 0.1, slope: 1, curvature: 5, options: options)
        #expect(d.learningRate == 0.9 * 0.1 + (1 - 0.9) * 0.2)
    }

    @Test func absoluteClampIsLast() {
        var options = Self.neutral()
        options.lrMax = 0.15
        options.smoothing = 0.5
        // EMA gives 0.5·0.1 + 0.5·0.5 = 0.3, then the clamp lowers it to lr_max.
        let d = HessianLRRule.decide(current: 0.1, slope: 1, curvature: 2, options: options)
        #expect(d.learningRate == 0.15)
        #expect(d.flags == .clampedMax)
        options.lrMax = 1
        options.lrMin = 0.5
        let up = HessianLRRule.decide(current: 0.1, slope: 1, curvature: 100, options: options)
        #expect(up.learningRate == 0.5)
        #expect(up.flags == .clampedMin)
    }

    @Test(arguments: [0.0, -1.0, -1e-300])
    func nonPositiveCurvatureDecays(curvature: Double) {
        var options = Self.neutral()
        options.negativeCurvatureDecay = 0.5
        let d = HessianLRRule.decide(current: 0.2, slope: 1, curvature: curvature, options: options)
        #expect(d.learningRate == 0.1)
        #expect(d.candidate.isNaN)
        #expect(d.flags == .negativeCurvature)
    }

    @Test func decayPassesThroughBoundsAndEMA() {
        var options = HessianLROptions(groups: 1)  // seed defaults: bounds (0.3, 3), β 0.9
        options.negativeCurvatureDecay = 0.1
        let d = HessianLRRule.decide(current: 0.2, slope: 1, curvature: -3, options: options)
        // decay·lr = 0.02 is below low·lr = 0.06: bounded, then EMA 0.9·0.2 + 0.1·0.06.
        #expect(d.flags == [.negativeCurvature, .boundedLow])
        #expect(d.learningRate == 0.9 * 0.2 + (1 - 0.9) * (0.3 * 0.2))
    }

    @Test func zeroSlopeKeepsRate() {
        let d = HessianLRRule.decide(current: 0.2, slope: 0, curvature: 7, options: Self.neutral())
        #expect(d.learningRate == 0.2)
        #expect(d.flags == .zeroGradient)
        #expect(d.candidate.isNaN)
    }

    @Test func negativeSlopeKeepsRate() {
        let d = HessianLRRule.decide(current: 0.2, slope: -1, curvature: 7, options: Self.neutral())
        #expect(d.learningRate == 0.2)
        #expect(d.flags == .notDescent)
    }

    @Test func tinyCurvatureIsCaughtByTheBound() {
        var options = Self.neutral()
        options.lrBoundHigh = 3
        let d = HessianLRRule.decide(current: 0.1, slope: 1e300, curvature: 1e-300, options: options)
        #expect(d.candidate == .infinity)
        #expect(d.learningRate == 3 * 0.1)
        #expect(d.flags == .boundedHigh)
    }

    @Test func warmupIsLinearToInitial() {
        var options = HessianLROptions(groups: 1)
        options.warmupSteps = 4
        let rates = (0..<6).map { HessianLRRule.scheduled(initial: 0.5, step: UInt64($0), options: options) }
        #expect(rates == [0.125, 0.25, 0.375, 0.5, 0.5, 0.5])
    }
}
