import Testing
@testable import HessianLR

/// `Tuner.steadyUntil(step:)`, the promise a binding relies on to skip the library between
/// observations (`hlr_tuner_plan`): for every t strictly between a step s and steadyUntil(s), with
/// nothing observed or set in between, need(t) is `nothing` and the rates are s's, bit for bit.
@Suite struct SteadyUntilTests {
    /// Checks the promise at step s on the tuner as it is (looking at most `horizon` steps ahead),
    /// and returns steadyUntil(s).
    @discardableResult
    static func checkPromise(_ tuner: any Tuner, at s: UInt64, horizon: UInt64 = 80) -> UInt64 {
        let until = tuner.steadyUntil(step: s)
        #expect(until > s, "steadyUntil(\(s)) = \(until)")
        if tuner.need(atStep: s) != .nothing { #expect(until == s + 1, "step \(s) needs an observation") }
        let rates = tuner.learningRates(step: s).map(\.bitPattern)
        var t = s + 1
        while t < until && t <= s + horizon {
            #expect(tuner.need(atStep: t) == .nothing, "step \(t) inside (\(s), \(until))")
            #expect(tuner.learningRates(step: t).map(\.bitPattern) == rates, "rates at \(t) differ from \(s)'s")
            t += 1
        }
        return until
    }

    /// Every method through host mode on the small quadratic, with and without a base schedule:
    /// the promise holds at every step, and methods that observe periodically promise more than
    /// one step between their observations.
    @Test(arguments: Method.allCases, [false, true])
    func thePromiseHoldsAlongARun(method: Method, scheduled: Bool) throws {
        var base = try makeTuner(method: method, groups: 3)
        try base.setParameter(.initialLR, 0.05, group: nil)
        if method.parameterSpecs.contains(where: { $0.key == .updatePeriod }) {
            try base.setParameter(.updatePeriod, 4, group: nil)  // CDAT and HessianLR default to 1
        }
        if method.parameterSpecs.contains(where: { $0.key == .warmupSteps }) {
            try base.setParameter(.warmupSteps, 3, group: nil)  // the ramp moves the rate every step
        }
        var tuner: any Tuner = base
        if scheduled {
            tuner = ScheduledTuner(base: base, schedule: try Schedule(.cosine, [.baseLR: 0.05, .tMax: 30, .etaMin: 0.005]))
        }
        let problem = TunerHostStepTests.problem
        let offsets = TunerHostStepTests.offsets
        var w = TunerHostStepTests.w
        var longest: UInt64 = 0
        for step in UInt64(0)..<40 {
            let until = Self.checkPromise(tuner, at: step)
            longest = max(longest, until == .max ? .max : until - step)
            let g = problem.gradient(w)
            try tuner.runHostStep(
                step: step, weights: w, gradient: g, update: tuner.usesUpdateDirection ? g : nil,
                groupOffsets: offsets, loss: { (x: [Double]) in problem.loss(x) },
                hvp: { (v: [Double]) in problem.hvp(v) })
            Self.checkPromise(tuner, at: step)  // after the observation: need nothing at step
            let rates = tuner.learningRates(step: step)
            for k in 0..<3 { for i in offsets[k]..<offsets[k + 1] { w[i] -= rates[k] * g[i] } }
        }
        if scheduled {
            #expect(longest == 1)  // the schedule's factor moves every step
        } else if method == .constant {
            #expect(longest == .max)
        } else if method != .armijo {
            #expect(longest > 1, "\(method.name) observes periodically")
        }
    }

    @Test func hessianLRsWarmupRampMovesEveryStep() throws {
        var tuner = try HessianLRTuner(groups: 1)
        try tuner.setParameter(.warmupSteps, 5, group: nil)
        try tuner.setParameter(.updatePeriod, 100, group: nil)
        for s in UInt64(0)..<5 { #expect(Self.checkPromise(tuner, at: s) == s + 1) }
        #expect(tuner.need(atStep: 5) == .curvature && Self.checkPromise(tuner, at: 5) == 6)
        try tuner.observe(step: 5, kind: .curvature, values: [1, 4])
        #expect(Self.checkPromise(tuner, at: 5) == 105 && Self.checkPromise(tuner, at: 6) == 105)
    }

    /// Steps beyond 2⁵³ are not all doubles: the promise comes from the rule's UInt64 next
    /// observation step, exact there (CDAT observed at 2⁶⁰ with period 4 next observes at
    /// 2⁶⁰ + 4, which info next_update_step can only round to a double).
    @Test func thePromiseIsExactBeyondTwoToThe53() throws {
        var tuner = try CDATTuner(groups: 1)
        try tuner.setParameter(.updatePeriod, 4, group: nil)
        let s: UInt64 = 1 << 60
        try tuner.observe(step: s, kind: .curvature, values: [1, 4])
        #expect(tuner.steadyUntil(step: s) == s + 4)
        #expect(tuner.steadyUntil(step: s + 1) == s + 4)
        #expect(tuner.need(atStep: s + 3) == .nothing && tuner.need(atStep: s + 4) == .curvature)
    }

    @Test func theLastStepPromisesForever() throws {
        let tuner = try makeTuner(method: .gen, groups: 1)
        #expect(tuner.steadyUntil(step: .max) == .max)
        #expect(tuner.steadyUntil(step: 0) == 1)  // step 0 needs losses
    }
}
