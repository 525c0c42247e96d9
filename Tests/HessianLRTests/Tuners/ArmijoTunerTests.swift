import Testing
@testable import HessianLR

/// The Armijo line search as a state machine: slope, then one trial at a time.
@Suite struct ArmijoTunerTests {
    /// Runs one search at `step` on f(w) = ½·λ·w² (1-D, d = g = λw), returning the trials asked.
    static func search(
        _ tuner: inout ArmijoTuner, step: UInt64, w: Double, lambda: Double
    ) throws -> [Double] {
        let f = { (x: Double) in 0.5 * lambda * x * x }
        let g = lambda * w
        #expect(tuner.need(atStep: step) == .slope)
        try tuner.observe(step: step, kind: .slope, values: [f(w), g * g])
        var trials: [Double] = []
        while case .losses(let probes) = tuner.need(atStep: step) {
            let eta = probes[0][0]
            trials.append(eta)
            try tuner.observe(step: step, kind: .losses, values: [f(w - eta * g)])
        }
        return trials
    }

    @Test func oneRateForAllGroups() {
        #expect(Method.armijo.parameterSpecs.allSatisfy { $0.scope == .handle })
    }

    @Test func backtrackingSequenceOnAQuadraticByHand() throws {
        // f(w) = 5w², w = 1: g = 10, S = gᵀg = 100, f(w) = 5. Trial η gives f(1 − 10η); the
        // Armijo bound is 5 − 1e-4·η·100 ≈ 4.99. η = 1, 0.8, …, 0.8⁷ give 405, 245, 145.8, 84.872,
        // 47.93…, 25.92…, 13.14…, 6.018… (all > 4.99); 0.8⁸ = 0.16777216 gives 2.2966… and is
        // accepted after 8 backtracks.
        var tuner = try ArmijoTuner(groups: 1)
        let trials = try Self.search(&tuner, step: 0, w: 1, lambda: 10)
        var expected: [Double] = [1]
        for _ in 0..<8 { expected.append(expected[expected.count - 1] * 0.8) }
        #expect(trials == expected)
        #expect(TunerCheck.close(trials[8], 0.16777216, 1e-15))
        #expect(try tuner.learningRate(group: 0, step: 0) == expected[8])
        #expect(try tuner.info(.backtracks, group: 0) == 8)
        #expect(try tuner.info(.updates, group: 0) == 1)
        #expect(try tuner.info(.referenceLoss, group: 0) == 5)
        #expect(try tuner.info(.lastFlags, group: 0) == 0)
        #expect(tuner.need(atStep: 0) == .nothing)
        // Next step from w₁ = 1 − 0.16777216·10: the first trial is 1.5× the accepted rate.
        let w1 = 1 - expected[8] * 10
        let next = try Self.search(&tuner, step: 1, w: w1, lambda: 10)
        #expect(next[0] == expected[8] * 1.5)
        #expect(TunerCheck.close(next[0], 0.25165824, 1e-15))
    }

    @Test func theCapUsesTheLastTrial() throws {
        var tuner = try ArmijoTuner(groups: 2)
        try tuner.setParameter(.maxBacktracks, 2, group: nil)
        try tuner.observe(step: 3, kind: .slope, values: [1, 0.5, 0.5])
        #expect(tuner.need(atStep: 3) == .losses(probes: [[1, 1]]))
        try tuner.observe(step: 3, kind: .losses, values: [7])
        #expect(tuner.need(atStep: 3) == .losses(probes: [[0.8, 0.8]]))
        #expect(try tuner.info(.trialLR, group: 0) == 0.8)
        try tuner.observe(step: 3, kind: .losses, values: [7])
        try tuner.observe(step: 3, kind: .losses, values: [7])
        #expect(tuner.need(atStep: 3) == .nothing)
        #expect(tuner.learningRates(step: 3) == [0.8 * 0.8, 0.8 * 0.8])
        #expect(try tuner.info(.lastFlags, group: 1) == Double(DecisionFlags.backtrackLimit.rawValue))
        #expect(try tuner.info(.trialLR, group: 0).isNaN)
        #expect(try tuner.info(.nextUpdateStep, group: 0) == 4)
    }

    @Test func nonDescentDirectionsAreSearchedAndFlagged() throws {
        var tuner = try ArmijoTuner(groups: 1)
        try tuner.observe(step: 0, kind: .slope, values: [1, -2])
        try tuner.observe(step: 0, kind: .losses, values: [1])  // 1 ≤ 1 + 1e-4·1·2: accepted
        #expect(try tuner.info(.lastFlags, group: 0) == Double(DecisionFlags.notDescent.rawValue))
        #expect(try tuner.info(.lastSlope, group: 0) == -2)
    }

    @Test func anUnfinishedSearchIsAbandonedByTheNextStep() throws {
        var tuner = try ArmijoTuner(groups: 1)
        try tuner.setParameter(.initialLR, 0.5, group: nil)
        try tuner.observe(step: 0, kind: .slope, values: [1, 1])
        try tuner.observe(step: 0, kind: .losses, values: [9])  // backtrack to 0.4
        #expect(try tuner.info(.nextUpdateStep, group: 0) == 0)
        #expect(tuner.need(atStep: 1) == .slope)
        try tuner.observe(step: 1, kind: .slope, values: [1, 1])
        #expect(tuner.need(atStep: 1) == .losses(probes: [[0.5]]))  // restarted from the rate in use
        #expect(tuner.need(atStep: 0) == .nothing)
        #expect(try tuner.learningRate(group: 0, step: 1) == 0.5)
    }

    @Test func refusalsChangeNothing() throws {
        var tuner = try ArmijoTuner(groups: 2)
        var before = tuner.snapshot()
        let first = #expect(throws: HLRError.self) { try tuner.observe(step: 0, kind: .losses, values: [1]) }
        #expect(first?.message.contains("armijo needs slope at step 0, not losses") == true)
        let count = #expect(throws: HLRError.self) { try tuner.observe(step: 0, kind: .slope, values: [1, 2]) }
        #expect(count?.message.contains("expected 3") == true)
        let nan = #expect(throws: HLRError.self) { try tuner.observe(step: 0, kind: .slope, values: [.nan, 1, 1]) }
        #expect(nan?.kind == .nonFinite)
        #expect(nan?.message.contains("L(w)") == true)
        #expect(tuner.snapshot() == before)
        try tuner.observe(step: 0, kind: .slope, values: [1, 1, 1])
        before = tuner.snapshot()
        let again = #expect(throws: HLRError.self) { try tuner.observe(step: 0, kind: .slope, values: [1, 1, 1]) }
        #expect(again?.message.contains("needs losses at step 0, not slope") == true)
        let two = #expect(throws: HLRError.self) { try tuner.observe(step: 0, kind: .losses, values: [1, 2]) }
        #expect(two?.message.contains("expected 1") == true)
        let inf = #expect(throws: HLRError.self) { try tuner.observe(step: 0, kind: .losses, values: [.infinity]) }
        #expect(inf?.message.contains("trial loss") == true)
        #expect(tuner.snapshot() == before)
        try tuner.observe(step: 0, kind: .losses, values: [0])
        let done = #expect(throws: HLRError.self) { try tuner.observe(step: 0, kind: .slope, values: [1, 1, 1]) }
        #expect(done?.message.contains("steps must increase") == true)
    }
}
