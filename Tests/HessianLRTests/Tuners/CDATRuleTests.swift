import Testing
@testable import HessianLR

/// CDAT's pure rule: η = σ·n̂/d̂ with separate EMAs, degenerate cases, clamp.
@Suite struct CDATRuleTests {
    /// No smoothing, no clamp: the raw rule.
    static func raw(sigma: Double = 2, epsilon: Double = 0.5) -> CDATOptions {
        var options = CDATOptions(groups: 1)
        options.smoothing = 0
        options.sigma = sigma
        options.epsilon = epsilon
        options.lrMin = 0
        options.lrMax = .greatestFiniteMagnitude
        return options
    }

    @Test func formulaIsSigmaNOverD() {
        let d = CDATRule.decide(numerator: 0, denominator: 0, slope: 3, curvature: 5.5, options: Self.raw())
        #expect(d.learningRate == 2 * 3 / (5.5 + 0.5))  // σ·n/(|c| + ε) = 1
        #expect(d.candidate == 1)
        #expect(d.numerator == 3 && d.denominator == 6)
        #expect(d.flags.isEmpty)
    }

    @Test func sigmaOneIsTheQuadraticallyGreedyRate() {
        // s/c along an eigenvector of H = diag(λ): 1/λ, the minimiser of the quadratic.
        let d = CDATRule.decide(
            numerator: 0, denominator: 0, slope: 16, curvature: 160, options: Self.raw(sigma: 1, epsilon: .leastNormalMagnitude))
        #expect(d.learningRate == 0.1)
        let edge = CDATRule.decide(
            numerator: 0, denominator: 0, slope: 16, curvature: 160, options: Self.raw(sigma: 2, epsilon: .leastNormalMagnitude))
        #expect(edge.learningRate * 10 == 2)  // η·λ = 2: the edge of stability
    }

    @Test func emaSmoothsNumeratorAndDenominatorSeparately() {
        var options = Self.raw()
        options.smoothing = 0.75
        let first = CDATRule.decide(numerator: 0, denominator: 0, slope: 4, curvature: 1.5, options: options)
        #expect(first.numerator == 0.25 * 4)
        #expect(first.denominator == 0.25 * 2)
        // Bias corrections cancel: the first rate is σ·n/d up to rounding.
        #expect(TunerCheck.close(first.learningRate, 2 * 4 / 2.0, 1e-15))
        let second = CDATRule.decide(
            numerator: first.numerator, denominator: first.denominator, slope: 1, curvature: 7.5, options: options)
        let n = 0.75 * first.numerator + 0.25 * 1
        let d = 0.75 * first.denominator + 0.25 * 8
        #expect(second.numerator == n && second.denominator == d)
        #expect(second.learningRate == 2 * n / d)
        // Not the EMA of the rates: σ·EMA(n)/EMA(d) ≠ EMA(σ·n/d).
        #expect(second.learningRate != 0.75 * first.learningRate + 0.25 * (2 * 1 / 8.0))
    }

    @Test func zeroOrNegativeSlopeGivesNoStepThenTheFloor() {
        var options = Self.raw()
        options.lrMin = 1e-8
        let negative = CDATRule.decide(numerator: 0, denominator: 0, slope: -2, curvature: 3, options: options)
        #expect(negative.candidate == 0)
        #expect(negative.learningRate == 1e-8)
        #expect(negative.flags == [.notDescent, .clampedMin])
        let zero = CDATRule.decide(numerator: 0, denominator: 0, slope: 0, curvature: 3, options: options)
        #expect(zero.flags == [.zeroGradient, .clampedMin])
        // With history, n = 0 only pulls the EMA down.
        options.smoothing = 0.5
        let smoothed = CDATRule.decide(numerator: 2, denominator: 4, slope: -1, curvature: 3.5, options: options)
        #expect(smoothed.numerator == 1 && smoothed.learningRate == 2 * 1 / 4.0)
    }

    @Test func negativeCurvatureUsesItsMagnitude() {
        let up = CDATRule.decide(numerator: 0, denominator: 0, slope: 1, curvature: 3.5, options: Self.raw())
        let down = CDATRule.decide(numerator: 0, denominator: 0, slope: 1, curvature: -3.5, options: Self.raw())
        #expect(up.learningRate == down.learningRate)
        #expect(down.flags == .negativeCurvature)
    }

    @Test func tinyDenominatorIsCaughtByTheClamp() {
        var options = Self.raw(epsilon: 1e-300)
        options.lrMax = 1
        let d = CDATRule.decide(numerator: 0, denominator: 0, slope: 1e10, curvature: 0, options: options)
        #expect(d.candidate == .infinity)
        #expect(d.learningRate == 1)
        #expect(d.flags == .clampedMax)
    }

    @Test func zeroOverZeroIsZero() {
        var options = Self.raw(epsilon: .leastNonzeroMagnitude)
        options.smoothing = 0.5
        // d̂ = 0.5·ε underflows to 0 and n̂ = 0: candidate 0, not NaN.
        let d = CDATRule.decide(numerator: 0, denominator: 0, slope: 0, curvature: 0, options: options)
        #expect(d.candidate == 0)
        #expect(!d.learningRate.isNaN)
    }
}
