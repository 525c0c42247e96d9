import Testing
@testable import HessianLR

/// `Tuner.observeFailure`: the caller could not measure the losses a step needs. GeN and Hi-DLR
/// decay every rate by fit_failure_decay (the reference GeN's failure path), Armijo rejects the
/// trial, and the methods that never need losses refuse it without changing anything.
@Suite struct ObserveFailureTests {
    @Test func hiDLRDecaysEveryGroupAndDrawsNewProbesNext() throws {
        var tuner = try HiDLRTuner(groups: 2)
        try tuner.setParameter(.initialLR, 0.1, group: 0)
        try tuner.setParameter(.initialLR, 0.4, group: 1)
        try tuner.setParameter(.fitFailureDecay, 0.5, group: nil)
        guard case .losses(let first) = tuner.need(atStep: 0) else {
            Issue.record("step 0 must need losses")
            return
        }
        try tuner.observeFailure(step: 0)
        #expect(tuner.learningRates(step: 0) == [0.05, 0.2])
        let failed = Double(DecisionFlags([.fitRejected, .observationFailed]).rawValue)
        #expect(try tuner.info(.lastFlags, group: 0) == failed)
        #expect(try tuner.info(.lastFlags, group: 1) == failed)
        #expect(try tuner.info(.influence, group: 1).isNaN)
        #expect(try tuner.info(.updates, group: 0) == 1)
        guard case .losses(let second) = tuner.need(atStep: 10) else {
            Issue.record("step 10 must need losses")
            return
        }
        #expect(second == HiDLRRule.probes(rates: [0.05, 0.2], options: tuner.options, round: 1))
        #expect(second != first)
    }

    @Test func armijoBacktracksAsIfTheTrialLossWereInfinite() throws {
        var failing = try ArmijoTuner(groups: 1)
        var reference = try ArmijoTuner(groups: 1)
        // f(w) = 5w² at w = 1: L = 5, S = gᵀg = 100.
        try failing.observe(step: 0, kind: .slope, values: [5, 100])
        try reference.observe(step: 0, kind: .slope, values: [5, 100])
        try failing.observeFailure(step: 0)
        try reference.observe(step: 0, kind: .losses, values: [1e300])
        #expect(failing.need(atStep: 0) == reference.need(atStep: 0))
        #expect(failing.need(atStep: 0) == .losses(probes: [[0.8]]))
        try failing.observe(step: 0, kind: .losses, values: [1])  // 0.8 accepted
        #expect(failing.rate == 0.8)
        #expect(try failing.info(.lastFlags, group: 0) == Double(DecisionFlags.observationFailed.rawValue))
        // Failing every trial ends the search at max_backtracks.
        var exhausted = try ArmijoTuner(groups: 1)
        try exhausted.setParameter(.maxBacktracks, 2, group: nil)
        try exhausted.observe(step: 0, kind: .slope, values: [5, 100])
        for _ in 0..<3 { try exhausted.observeFailure(step: 0) }
        #expect(exhausted.need(atStep: 0) == .nothing)
        #expect(exhausted.rate == 0.8 * 0.8)
        #expect(try exhausted.info(.lastFlags, group: 0)
            == Double(DecisionFlags([.observationFailed, .backtrackLimit]).rawValue))
        // Before the slope the step needs the slope, not losses.
        var fresh = try ArmijoTuner(groups: 1)
        let error = #expect(throws: HLRError.self) { try fresh.observeFailure(step: 0) }
        #expect(error?.message.contains("armijo needs slope at step 0, not losses") == true)
    }

    @Test func methodsWithoutLossObservationsRefuseAndChangeNothing() throws {
        for method in [Method.hessianLR, .cdat, .constant] {
            var tuner = try makeTuner(method: method, groups: 2)
            let before = tuner.snapshot()
            for step in [UInt64(0), 3, .max] {
                let error = #expect(throws: HLRError.self) { try tuner.observeFailure(step: step) }
                #expect(error?.kind == .wrongState, "\(method.name)")
                let message = error?.message ?? ""
                #expect(
                    ["not losses", "needs nothing", "needs no observations"].contains { message.contains($0) },
                    "\(method.name): \(message)")
            }
            #expect(tuner.snapshot() == before, "\(method.name)")
        }
    }

    @Test func aScheduledTunerForwardsToItsBase() throws {
        var tuner = ScheduledTuner(
            base: try makeTuner(method: .gen, groups: 1),
            schedule: try Schedule(.cosine, [.baseLR: 1, .tMax: 100]))
        let before = try tuner.learningRate(group: 0, step: 0)
        try tuner.observeFailure(step: 0)
        #expect(try tuner.learningRate(group: 0, step: 0) == 0.5 * before)
    }
}
