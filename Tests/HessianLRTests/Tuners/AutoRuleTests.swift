import Foundation
import Testing
@testable import HessianLR

/// `auto`: the bracket, the tracking fit, the adaptive period, divergence, and the tuner end to
/// end through the step driver.
@Suite struct AutoRuleTests {
    /// L(ρ) = c − β·ρ + ½·α·ρ² at the rows of `phase`.
    static func quadratic(_ phase: AutoRule.Phase, c: Double, beta: Double, alpha: Double) -> [Double] {
        AutoRule.ratios(phase).map { c - beta * $0 + 0.5 * alpha * $0 * $0 }
    }

    @Test func bracketRowsSpanFourToTheSixEitherWay() {
        let ratios = AutoRule.ratios(.bracket)
        #expect(ratios.count == 14)
        #expect(ratios[0] == 0 && ratios[1] == pow(4, -6) && ratios[13] == pow(4, 6))
        #expect(AutoRule.ratios(.track) == [-1, 0, 1])
    }

    @Test func bracketPicksTheLowestRowAndDividesByTheOptimizersGain() {
        // Minimiser of the quadratic at ρ = β/α = 20: the closest row is 16 (4²).
        let losses = Self.quadratic(.bracket, c: 10, beta: 2, alpha: 0.1)
        let sgd = AutoRule.bracket(losses: losses, gain: 1)
        #expect(sgd.factor == 16 && sgd.phase == .track)
        let momentum = AutoRule.bracket(losses: losses, gain: 10)
        #expect(momentum.factor == 1.6)
    }

    @Test func bracketMovesByItsWidthWhenTheMinimumIsOutside() {
        let rising = AutoRule.ratios(.bracket).map { 1 + $0 }  // every step increases the loss
        let down = AutoRule.bracket(losses: rising, gain: 1)
        #expect(down.factor == pow(4, -7) && down.phase == .bracket)
        let falling = AutoRule.ratios(.bracket).map { 1 - $0 * 1e-6 }  // the largest row is best
        let up = AutoRule.bracket(losses: falling, gain: 1)
        #expect(up.factor == pow(4, 6) && up.phase == .bracket)
        // With momentum the steady step is G times the first: the rates move by 4⁶/G.
        #expect(AutoRule.bracket(losses: falling, gain: 10).factor == pow(4, 6) / 10)
        var diverged = Self.quadratic(.bracket, c: 10, beta: 2, alpha: 0.1)
        for j in 10..<14 { diverged[j] = .infinity }  // rows 4³ … 4⁶ overflowed
        #expect(AutoRule.bracket(losses: diverged, gain: 1).factor == 16)
    }

    /// A bracket whose rows the loss does not resolve (probe steps below its precision) moves the
    /// rates up as "far too low"; one whose rows equal the current loss exactly (a zero update)
    /// moves them up one row; both repeat. It never cuts them (that was an absorbing state at
    /// lr_min). At a loss of exactly 0 it holds.
    @Test func anUnresolvedBracketMovesUpAndRepeats() {
        let flat = AutoRule.ratios(.bracket).map { _ in 2.5 }
        for gain in [1.0, 10] {
            let up = AutoRule.bracket(losses: flat, gain: gain)
            #expect(up.factor == 4 && up.phase == .bracket && up.flags == [.zeroGradient])
        }
        // Within the resolution 1e-6·|L| of the zero row counts as unresolved, whatever its sign.
        let noise = AutoRule.ratios(.bracket).enumerated().map { 2.5 + ($0.offset % 2 == 0 ? 1 : -1) * 2e-6 * Double($0.offset) / 13 }
        for gain in [1.0, 10] {
            let up = AutoRule.bracket(losses: noise, gain: gain)
            #expect(up.factor == pow(4, 6) / gain && up.phase == .bracket && up.flags == [.zeroGradient])
        }
        let zero = AutoRule.bracket(losses: flat.map { _ in 0 }, gain: 1)
        #expect(zero.factor == 1 && zero.phase == .bracket && zero.flags == [.zeroGradient])
        // One resolved row is information: the usual decision.
        var one = flat
        one[13] = 2.5 * (1 - 1e-5)
        #expect(AutoRule.bracket(losses: one, gain: 1).flags == [.boundedHigh])
    }

    /// A tuner whose first brackets are unresolved (a start far below the loss's resolution)
    /// climbs out in a few steps instead of sinking to lr_min.
    @Test func aStartBelowTheLossResolutionClimbsOut() throws {
        // f(w) = ½·w² from w = 1 at lr0 = 1e-15: the bracket's largest step 4⁶·1e-15 changes the
        // loss by ~4e-12 relative, unresolved; the good rate is 1.
        var tuner = try AutoTuner(groups: 1)
        try tuner.setParameter(.initialLR, 1e-15, group: 0)
        var step: UInt64 = 0
        while step < 6, case .losses(let probes) = tuner.need(atStep: step) {
            let losses = probes.map { row in 0.5 * (1 - row[0]) * (1 - row[0]) }
            try tuner.observe(step: step, kind: .losses, values: losses)
            step += 1
            if tuner.state.phase == .track { break }
        }
        #expect(tuner.state.phase == .track, "still bracketing after \(step) steps")
        let rate = try tuner.learningRate(group: 0, step: step)
        #expect(rate > 0.25 && rate < 4, "rate \(rate)")
    }

    /// Options probing along the previous update, with the optimizer's coefficients.
    static func previous(momentum: Double = 0, optimizer: Int = 0) -> AutoOptions {
        var options = AutoOptions(groups: 1)
        options.probePrevious = true
        options.momentum = momentum
        options.optimizer = optimizer
        return options
    }

    @Test func trackingAlongTheCurrentUpdateFindsTheQuadraticMinimiserAndAverages() {
        let options = AutoOptions(groups: 1)  // probe_previous 0: the slope at ρ = 0
        // h = 0.5; in ξ = ρh units: b = β/h, a = α/h²: minimiser ξ* = b/a = h·β/α = 0.5·2/4.
        let losses = Self.quadratic(.track, c: 3, beta: 2, alpha: 4)
        let first = AutoRule.track(losses: losses, rate: 0.5, slopeAverage: 0, curvatureAverage: 0, options: options)
        #expect(abs(first.factor * 0.5 - 0.25) < 1e-15)
        #expect(abs(first.slope - 4) < 1e-12 && abs(first.curvature - 16) < 1e-12)
        #expect(abs(first.slopeAverage - 0.4) < 1e-12 && abs(first.curvatureAverage - 1.6) < 1e-12)
        // A negative slope counts as 0 in the average (CDAT's max(b, 0)): the rate shrinks by β.
        let ascent = Self.quadratic(.track, c: 3, beta: -2, alpha: 4)
        let second = AutoRule.track(
            losses: ascent, rate: 0.25, slopeAverage: first.slopeAverage, curvatureAverage: first.curvatureAverage,
            options: options)
        #expect(second.flags.contains(.notDescent))
        #expect(abs(second.factor * 0.25 - 0.9 * 0.4 / (0.9 * 1.6 + 0.1 * 64)) < 1e-15)
    }

    /// Along the previous update the row ρ = −1 is the previous iterate, and the slope is taken
    /// there (κ = 1 for gradient descent): a line search from w_{t−1}. On f = ½λx² with d = λ·x_{t−1}
    /// the rate is exactly the greedy 1/λ whatever the rate h of the last step (the slope at
    /// ρ = 0 would give 1/λ − h, whose fixed point is the half-greedy 1/(2λ)).
    @Test(arguments: [0.1, 0.15, 0.2])  // within the trust region (factor ≤ 4), 1/λ − h > 0
    func trackingAlongThePreviousUpdateLineSearchesFromThePreviousIterate(h: Double) {
        let lambda = 4.0, previous = 1.0
        let d = lambda * previous
        let x = previous - h * d
        func f(_ y: Double) -> Double { 0.5 * lambda * y * y }
        let losses = AutoRule.ratios(.track).map { f(x - $0 * h * d) }
        let decision = AutoRule.track(
            losses: losses, rate: h, slopeAverage: 0, curvatureAverage: 0, options: Self.previous())
        #expect(abs(decision.factor * h - 1 / lambda) < 1e-12 * (1 / lambda))
        let current = AutoRule.track(
            losses: losses, rate: h, slopeAverage: 0, curvatureAverage: 0, options: AutoOptions(groups: 1))
        #expect(abs(current.factor * h - (1 / lambda - h)) < 1e-12)
    }

    /// With momentum only the fresh fraction κ of the step was decided by the rate: the slope is
    /// taken at ρ = −κ (heavy ball β = 0.9: κ = 0.1; Adam β₁ = 0.9: κ = 0.1).
    @Test func momentumTakesTheSlopeAtTheFreshFraction() {
        let losses = Self.quadratic(.track, c: 3, beta: 2, alpha: 4)  // B = 2, A = 4 per ρ
        for options in [Self.previous(momentum: 0.9), Self.previous(momentum: 0.9, optimizer: 1)] {
            let decision = AutoRule.track(
                losses: losses, rate: 0.5, slopeAverage: 0, curvatureAverage: 0, options: options)
            #expect(abs(decision.slope - (2 + 0.1 * 4) / 0.5) < 1e-12)
            #expect(abs(decision.factor * 0.5 - 0.5 * (2 + 0.1 * 4) / 4) < 1e-12)
        }
    }

    /// A step that more than doubled the batch loss (L₀ > 2·L₋, the row ρ = −1 being the previous
    /// iterate) cuts the rate by 1/(1 + √q) at once — q = L₀/L₋, η·λ = 1 + √q on a quadratic whose
    /// loss grows q-fold per step, so the cut lands on the greedy rate — and forgets the averages.
    @Test func aLossSpikeCutsAtOnceAndForgetsTheAverages() {
        let options = Self.previous()
        let spike = AutoRule.track(
            losses: [1, 9, 30], rate: 2, slopeAverage: 5, curvatureAverage: 1, options: options)
        #expect(abs(spike.factor - 1.0 / 4) < 1e-15)
        #expect(spike.flags.contains(.lossSpike) && spike.slopeAverage == 0 && spike.curvatureAverage == 0)
        // The largest cut is fit_failure_decay; a loss that exactly doubled is no spike.
        let huge = AutoRule.track(losses: [1, 1e6, 1e7], rate: 2, slopeAverage: 5, curvatureAverage: 1, options: options)
        #expect(huge.factor == options.fitFailureDecay)
        let doubled = AutoRule.track(losses: [1, 2, 3.5], rate: 2, slopeAverage: 5, curvatureAverage: 1, options: options)
        #expect(!doubled.flags.contains(.lossSpike))
        // Losses of any sign: the rise over |L₋|; from L₋ = 0 any rise is a spike.
        #expect(AutoRule.spikeGrowth(previous: -1, current: 0.5) == 2.5)
        #expect(AutoRule.spikeGrowth(previous: 0, current: 1e-300) == .infinity)
        #expect(AutoRule.spikeGrowth(previous: 3, current: 1) == 1)
        // Along the current update row −1 is no iterate: no spike test.
        let current = AutoRule.track(
            losses: [1, 9, 30], rate: 2, slopeAverage: 5, curvatureAverage: 1, options: AutoOptions(groups: 1))
        #expect(!current.flags.contains(.lossSpike))
    }

    /// A spike at rate η that grew the loss q-fold reveals the edge 2η/(1 + √q) (twice the rate
    /// the cut lands on); no later fit, doubling or average raises the rate above the lowest such
    /// edge, decreases pass, and a second, lower edge replaces it.
    @Test func aSpikesEdgeCapsEveryLaterRise() {
        let options = Self.previous()
        #expect(AutoRule.edge(rate: 2, growth: 9, decay: options.fitFailureDecay) == 1)
        // Beyond the growth the largest cut accounts for, (1/δ − 1)² = 225, the edge is that
        // growth's, 2δη: never 0, also for a rise from a loss of exactly 0 (q = +∞).
        #expect(AutoRule.edge(rate: 2, growth: 225, decay: 1.0 / 16) == 0.25)
        #expect(AutoRule.edge(rate: 2, growth: 1e12, decay: 1.0 / 16) == 0.25)
        #expect(AutoRule.edge(rate: 2, growth: .infinity, decay: 1.0 / 16) == 0.25)
        let spike = AutoRule.track(
            losses: [1, 9, 30], rate: 2, slopeAverage: 5, curvatureAverage: 1, options: options)
        #expect(spike.ceiling == 1 && abs(2 * spike.factor - 0.5) < 1e-15)
        // A fit wanting ×4 from 0.5 stops at the ceiling 1 (×2), flagged.
        let wants = Self.quadratic(.track, c: 3, beta: 1, alpha: 1e-3)
        let capped = AutoRule.track(
            losses: wants, rate: 0.5, slopeAverage: 0, curvatureAverage: 0, ceiling: spike.ceiling, options: options)
        #expect(capped.factor == 2 && capped.flags.contains(.boundedHigh) && capped.ceiling == 1)
        // At the ceiling a rise is factor 1; the flat-probe doubling is capped too.
        let atCeiling = AutoRule.track(
            losses: wants, rate: 1, slopeAverage: 0, curvatureAverage: 0, ceiling: 1, options: options)
        #expect(atCeiling.factor == 1 && atCeiling.flags.contains(.boundedHigh))
        let flat = AutoRule.track(losses: [1, 1, 1], rate: 1, slopeAverage: 1, curvatureAverage: 2, ceiling: 1, options: options)
        #expect(flat.factor == 1 && flat.flags.contains(.zeroGradient))
        // A decrease is untouched and keeps the ceiling (the minimiser from ρ = −1 at ρ = 0.95).
        let down = AutoRule.track(
            losses: Self.quadratic(.track, c: 3, beta: -0.5, alpha: 10), rate: 0.5, slopeAverage: 0, curvatureAverage: 0,
            ceiling: 1, options: options)
        #expect(down.factor < 1 && !down.flags.contains(.boundedHigh) && down.ceiling == 1)
        // A later spike at a lower edge lowers the ceiling; a higher one keeps it.
        let lower = AutoRule.track(losses: [1, 9, 30], rate: 0.5, slopeAverage: 0, curvatureAverage: 0, ceiling: 1, options: options)
        #expect(lower.ceiling == 0.25)
        let higher = AutoRule.track(losses: [1, 9, 30], rate: 8, slopeAverage: 0, curvatureAverage: 0, ceiling: 1, options: options)
        #expect(higher.ceiling == 1)
        // A spike from a previous loss of exactly 0 (q = +∞): the largest cut, and the ceiling
        // twice the rate it leads to, 2δη (never 0, which would freeze the rate and make the
        // snapshot invalid); a lower ceiling is kept.
        let fromZero = AutoRule.track(losses: [0, 1, 2], rate: 2, slopeAverage: 5, curvatureAverage: 1, options: options)
        #expect(fromZero.flags.contains(.lossSpike) && fromZero.factor == options.fitFailureDecay)
        #expect(fromZero.ceiling == 2 * 2 * options.fitFailureDecay)
        let fromZeroCapped = AutoRule.track(
            losses: [0, 1, 2], rate: 2, slopeAverage: 5, curvatureAverage: 1, ceiling: 0.1, options: options)
        #expect(fromZeroCapped.ceiling == 0.1)
    }

    /// Through the tuner: after a spike no rate handed out exceeds the edge, the ceiling survives
    /// a snapshot, and a snapshot holding a non-positive or NaN ceiling is refused.
    @Test func theCeilingHoldsThroughTheTunerAndItsSnapshots() throws {
        var tuner = try AutoTuner(groups: 1)
        try tuner.setParameter(.probePrevious, 1, group: nil)
        try tuner.observe(step: 0, kind: .losses, values: Self.quadratic(.bracket, c: 10, beta: 1, alpha: 1))
        let h = try tuner.learningRate(group: 0, step: 1)
        try tuner.observe(step: 1, kind: .losses, values: [1, 9, 30])  // spike: edge 2h/4
        #expect(tuner.state.ceiling == h / 2)
        #expect(try tuner.learningRate(group: 0, step: 2) == h / 4)  // the cut: 1/(1 + √9)
        var step: UInt64 = 2
        var observed = 0
        for _ in 0..<20 {
            if case .losses = tuner.need(atStep: step) {
                try tuner.observe(step: step, kind: .losses, values: Self.quadratic(.track, c: 3, beta: 1, alpha: 1e-3))
                observed += 1
            }
            #expect(try tuner.learningRate(group: 0, step: step) <= h / 2)
            step += 1
        }
        // The fits (each wanting ×4) did run and reached the ceiling, flagged, and stay there.
        #expect(observed >= 2)
        #expect(try tuner.learningRate(group: 0, step: step) == h / 2)
        #expect(DecisionFlags(rawValue: UInt32(try tuner.info(.lastFlags, group: 0))).contains(.boundedHigh))
        // A spike from a previous loss of 0 sets the ceiling 2δη, and the snapshot stays valid.
        var zero = try AutoTuner(groups: 1)
        try zero.setParameter(.probePrevious, 1, group: nil)
        try zero.observe(step: 0, kind: .losses, values: Self.quadratic(.bracket, c: 10, beta: 1, alpha: 1))
        let rateBeforeZero = try zero.learningRate(group: 0, step: 1)
        try zero.observe(step: 1, kind: .losses, values: [0, 1, 2])
        #expect(zero.state.ceiling == 2 * rateBeforeZero * zero.options.fitFailureDecay)
        var zeroRestored = try AutoTuner(groups: 1)
        try zeroRestored.restore(snapshot: zero.snapshot())
        #expect(zeroRestored.snapshot() == zero.snapshot())
        let blob = tuner.snapshot()
        var restored = try AutoTuner(groups: 1)
        try restored.restore(snapshot: blob)
        #expect(restored.state.ceiling == h / 2 && restored.snapshot() == blob)
        for bad in [0.0, -1.0, Double.nan] {
            var corrupt = tuner
            corrupt.state.ceiling = bad
            var target = try AutoTuner(groups: 1)
            #expect(throws: HLRError.self) { try target.restore(snapshot: corrupt.snapshot()) }
            #expect(target.snapshot() == (try AutoTuner(groups: 1)).snapshot())
        }
    }

    /// The fitted minimiser is trusted at most one bracket ratio (4) beyond the probed span.
    @Test func aFitMovesTheRateUpAtMostOneBracketRatio() {
        let nearlyLinear = Self.quadratic(.track, c: 3, beta: 1, alpha: 1e-3)  // minimiser at ρ = 1000
        let decision = AutoRule.track(
            losses: nearlyLinear, rate: 1, slopeAverage: 0, curvatureAverage: 0, options: AutoOptions(groups: 1))
        #expect(decision.factor == 4 && decision.flags.contains(.boundedHigh))
    }

    /// Flat probes right after the bracket or a reset (no informative fit yet) mean the probe
    /// step is below the loss's resolution: the rate doubles. After an informative fit they mean
    /// the loss has reached its resolution (a floor, e.g. 0 when a batch is interpolated): the
    /// rate holds. Doubling there grew it without bound while the loss sat at 0, until the
    /// weights blew up (a tiny MLP on one batch: rate 6·10⁸ at step 554, NaN at 561).
    @Test func flatProbesDoubleOnlyBeforeAnInformativeFitAndDivergedProbesCut() {
        let options = AutoOptions(groups: 1)
        let flat = AutoRule.track(losses: [1, 1, 1], rate: 1e-30, slopeAverage: 1, curvatureAverage: 2, options: options)
        #expect(flat.factor == 2 && flat.slopeAverage == 1 && flat.curvatureAverage == 2)
        let floor = AutoRule.track(
            losses: [0, 0, 0], rate: 3, slopeAverage: 1, curvatureAverage: 2, informed: true, options: options)
        #expect(floor.factor == 1 && floor.flags.contains(.zeroGradient))
        #expect(floor.slopeAverage == 1 && floor.curvatureAverage == 2)
        let diverged = AutoRule.track(
            losses: [.infinity, 1, 0.5], rate: 1, slopeAverage: 1, curvatureAverage: 2, options: options)
        #expect(diverged.factor == options.fitFailureDecay)
        #expect(diverged.slopeAverage == 0 && diverged.curvatureAverage == 0)
        #expect(diverged.flags.contains(.observationFailed))
    }

    /// Through the tuner: flat probes double the rate until a fit is informative; from then on
    /// (the loss at a floor, here exactly 0) every rate handed out stays finite and the same.
    @Test func atALossFloorTheTunerHoldsTheRate() throws {
        var tuner = try AutoTuner(groups: 1)
        try tuner.setParameter(.probePrevious, 1, group: nil)
        try tuner.observe(step: 0, kind: .losses, values: Self.quadratic(.bracket, c: 10, beta: 1, alpha: 1))
        let start = try tuner.learningRate(group: 0, step: 1)
        try tuner.observe(step: 1, kind: .losses, values: [5, 5, 5])
        #expect(try tuner.learningRate(group: 0, step: 2) == 2 * start)
        try tuner.observe(step: 2, kind: .losses, values: Self.quadratic(.track, c: 3, beta: 1, alpha: 1))
        #expect(tuner.state.fits == 1)
        let held = try tuner.learningRate(group: 0, step: 3)
        var observed = 0
        for step in UInt64(3)..<200 {
            if case .losses = tuner.need(atStep: step) {
                try tuner.observe(step: step, kind: .losses, values: [0, 0, 0])
                observed += 1
            }
            #expect(try tuner.learningRate(group: 0, step: step) == held)
        }
        // The period grows while the flat fits hold the rate (a new-user test: it stayed 1 at
        // the floor, two extra forwards on every step): 3, 4, 6, 10, 18, then every 16.
        #expect(observed >= 5 && observed <= 17, "\(observed)")
        #expect(tuner.state.period == tuner.options.updatePeriod)
    }

    @Test func thePeriodGrowsOnlyOnceTheAveragesSpanTheirMemory() {
        #expect(AutoRule.warmFits(smoothing: 0.9) == 10 && AutoRule.warmFits(smoothing: 0) == 1)
        #expect(AutoRule.warmFits(smoothing: 0.5) == 2 && AutoRule.warmFits(smoothing: (1.0).nextDown) > UInt64(1e15))
        #expect(AutoRule.nextPeriod(4, factor: 1.05, phase: .track, maximum: 16, warm: false) == 4)
        #expect(AutoRule.nextPeriod(4, factor: 1.5, phase: .track, maximum: 16, warm: false) == 2)
        #expect(AutoRule.nextPeriod(8, factor: 1.05, phase: .track, maximum: 16, reset: true) == 1)
    }

    @Test func thePeriodDoublesWhileTheRateHoldsAndHalvesWhenItMoves() {
        #expect(AutoRule.nextPeriod(4, factor: 1.05, phase: .track, maximum: 16) == 8)
        #expect(AutoRule.nextPeriod(16, factor: 0.95, phase: .track, maximum: 16) == 16)
        #expect(AutoRule.nextPeriod(8, factor: 1.5, phase: .track, maximum: 16) == 4)
        #expect(AutoRule.nextPeriod(1, factor: 0.1, phase: .track, maximum: 16) == 1)
        #expect(AutoRule.nextPeriod(8, factor: 1, phase: .bracket, maximum: 16) == 1)
    }

    /// Gradient descent on L(w) = ½ Σ λᵢ wᵢ² through the step driver (host buffers, d = g):
    /// from starts 10⁻⁶ and 10³ the rate lands near the greedy 1/λ and the loss falls.
    @Test(arguments: [1e-6, 1e3])
    func gradientDescentFromAnyStartConverges(start: Double) throws {
        let lambda: [Double] = [1, 2, 4, 8]
        var w: [Double] = [1, -1, 0.5, 0.25]
        var tuner: any Tuner = try AutoTuner(groups: 1)
        try tuner.setParameter(.initialLR, start, group: nil)
        func loss(_ x: [Double]) -> Double { zip(lambda, x).reduce(0) { $0 + 0.5 * $1.0 * $1.1 * $1.1 } }
        let initial = loss(w)
        for step in UInt64(0)..<60 {
            let g = zip(lambda, w).map { $0 * $1 }
            try tuner.runHostStep(
                step: step, weights: w, gradient: g, currentLoss: loss(w),
                loss: { (x: [Double]) in loss(x) })
            let rate = try tuner.learningRate(group: 0, step: step)
            #expect(rate.isFinite && rate > 0)
            w = zip(w, g).map { $0 - rate * $1 }
        }
        let rate = try tuner.learningRate(group: 0, step: 59)
        #expect(rate > 1.0 / 8 / 4 && rate < 2.0 / 8 * 1.01, "rate \(rate) outside the stable range")
        #expect(loss(w) < 1e-6 * initial)
    }

    @Test func observeRefusesNaNAndInfinityAtTheZeroRowButTakesDivergedTrials() throws {
        var tuner: any Tuner = try AutoTuner(groups: 1)
        let before = tuner.snapshot()
        var losses = Self.quadratic(.bracket, c: 1, beta: 1e-3, alpha: 1e-6)
        losses[0] = .infinity
        #expect(throws: HLRError.self) { try tuner.observe(step: 0, kind: .losses, values: losses) }
        losses[0] = 1
        losses[5] = .nan
        #expect(throws: HLRError.self) { try tuner.observe(step: 0, kind: .losses, values: losses) }
        losses[5] = -.infinity
        #expect(throws: HLRError.self) { try tuner.observe(step: 0, kind: .losses, values: losses) }
        #expect(tuner.snapshot() == before)
        losses[5] = .infinity
        try tuner.observe(step: 0, kind: .losses, values: losses)
        #expect(try tuner.info(.updates, group: 0) == 1)
        #expect(try tuner.info(.nextUpdateStep, group: 0) == 1)
    }

    @Test func snapshotsContinueBitIdentically() throws {
        let lambda: [Double] = [1, 3]
        func loss(_ x: [Double]) -> Double { zip(lambda, x).reduce(0) { $0 + 0.5 * $1.0 * $1.1 * $1.1 } }
        var a: any Tuner = try AutoTuner(groups: 1)
        var w: [Double] = [1, 1]
        var saved: [UInt8] = []
        var savedW: [Double] = []
        var rates: [Double] = []
        for step in UInt64(0)..<30 {
            if step == 12 {
                saved = a.snapshot()
                savedW = w
            }
            let g = zip(lambda, w).map { $0 * $1 }
            try a.runHostStep(step: step, weights: w, gradient: g, loss: { (x: [Double]) in loss(x) })
            let rate = try a.learningRate(group: 0, step: step)
            rates.append(rate)
            w = zip(w, g).map { $0 - rate * $1 }
        }
        var b: any Tuner = try AutoTuner(groups: 1)
        try b.restore(snapshot: saved)
        w = savedW
        for step in UInt64(12)..<30 {
            let g = zip(lambda, w).map { $0 * $1 }
            try b.runHostStep(step: step, weights: w, gradient: g, loss: { (x: [Double]) in loss(x) })
            let rate = try b.learningRate(group: 0, step: step)
            #expect(rate.bitPattern == rates[Int(step)].bitPattern)
            w = zip(w, g).map { $0 - rate * $1 }
        }
        #expect(a.snapshot() == b.snapshot())
    }

    @Test func optionsAreCheckedTogether() throws {
        var tuner: any Tuner = try AutoTuner(groups: 1)
        try tuner.setParameter(.momentum, 0.9, group: nil)
        try tuner.setParameter(.nesterov, 1, group: nil)
        #expect(throws: HLRError.self) { try tuner.setParameter(.dampening, 0.5, group: nil) }
        try tuner.setParameter(.nesterov, 0, group: nil)
        try tuner.setParameter(.optimizer, 1, group: nil)
        #expect(throws: HLRError.self) { try tuner.setParameter(.nesterov, 1, group: nil) }
        #expect(throws: HLRError.self) { try tuner.setParameter(.lrMin, 1e141, group: nil) }
    }
}
