import Testing
@testable import HessianLR

/// The Armijo decisions: first trial, sufficient decrease, verdicts.
@Suite struct ArmijoRuleTests {
    @Test func firstTrialGrowsFromThePreviousRateUpToTheCap() {
        var options = ArmijoOptions(groups: 1)
        #expect(ArmijoRule.firstTrial(previous: nil, options: options) == 1)
        #expect(ArmijoRule.firstTrial(previous: 0.2, options: options) == 0.2 * 1.5)
        #expect(ArmijoRule.firstTrial(previous: 0.9, options: options) == 1)
        options.initialLR = 5
        options.lrMax = 2
        #expect(ArmijoRule.firstTrial(previous: nil, options: options) == 2)
    }

    @Test func sufficientDecreaseIsInclusive() {
        let options = ArmijoOptions(groups: 1)
        let bound = 5 - 1e-4 * 0.5 * 100
        #expect(ArmijoRule.isSufficientDecrease(loss0: 5, slope: 100, rate: 0.5, trialLoss: bound, options: options))
        #expect(!ArmijoRule.isSufficientDecrease(
            loss0: 5, slope: 100, rate: 0.5, trialLoss: bound.nextUp, options: options))
    }

    @Test func verdicts() {
        var options = ArmijoOptions(groups: 1)
        options.maxBacktracks = 2
        #expect(ArmijoRule.judge(loss0: 5, slope: 1, rate: 0.5, trialLoss: 1, backtracks: 0, options: options) == .accept(0.5))
        #expect(ArmijoRule.judge(loss0: 5, slope: 1, rate: 0.5, trialLoss: 9, backtracks: 1, options: options) == .backtrack(0.5 * 0.8))
        #expect(ArmijoRule.judge(loss0: 5, slope: 1, rate: 0.5, trialLoss: 9, backtracks: 2, options: options) == .giveUp(0.5))
        // A decrease that underflows ends the search at the last positive trial.
        options.decreaseFactor = 0.25
        #expect(ArmijoRule.judge(
            loss0: 5, slope: 1, rate: .leastNonzeroMagnitude, trialLoss: 9, backtracks: 0, options: options)
            == .giveUp(.leastNonzeroMagnitude))
    }
}
