import Testing
@testable import HessianLR

/// The generic host driver: need → compute → observe until nothing is needed, bit-identical to
/// observation mode, all-or-nothing on failure.
@Suite struct TunerHostStepTests {
    /// Three groups of sizes 2, 3, 1 (each < 8 elements, so `HostKernels.dot` sums in index
    /// order like `TunerCheck.dot`) on a coupled quadratic.
    static let offsets = [0, 2, 5, 6]
    static let problem: TunerQuadratic = {
        let n = 6
        var h = [Double](repeating: 0, count: n * n)
        let diagonal: [Double] = [3, 1, 4, 1.5, 9, 2.5]
        for i in 0..<n { h[i * n + i] = diagonal[i] }
        for i in 0..<(n - 1) { h[i * n + i + 1] = 0.3; h[(i + 1) * n + i] = 0.3 }
        return TunerQuadratic(n: n, hessian: h, minimum: [0.5, -1, 0.25, 2, 0, 1], offset: 0.75)
    }()
    static let w: [Double] = [1, 0.5, -0.5, 1, 0.2, -1]

    static func slice(_ v: [Double], _ k: Int) -> [Double] { Array(v[offsets[k]..<offsets[k + 1]]) }

    /// The observation the tuner needs at `step`, computed by hand (no host-mode code).
    static func observe(_ tuner: inout any Tuner, step: UInt64, w: [Double], d: [Double]) throws {
        let g = problem.gradient(w)
        while let kind = tuner.need(atStep: step).kind {
            var values: [Double] = []
            switch tuner.need(atStep: step) {
            case .curvature:
                for k in 0..<3 {
                    var masked = [Double](repeating: 0, count: w.count)
                    for i in offsets[k]..<offsets[k + 1] { masked[i] = d[i] }
                    values += [TunerCheck.dot(slice(g, k), slice(d, k)), TunerCheck.dot(slice(d, k), slice(problem.hvp(masked), k))]
                }
            case .losses(let probes):
                for row in probes {
                    var trial = w
                    for k in 0..<3 { for i in offsets[k]..<offsets[k + 1] { trial[i] = w[i] - row[k] * d[i] } }
                    values.append(problem.loss(trial))
                }
            case .slope:
                values = [problem.loss(w)] + (0..<3).map { TunerCheck.dot(slice(g, $0), slice(d, $0)) }
            case .nothing:
                break
            }
            try tuner.observe(step: step, kind: kind, values: values)
        }
    }

    static func host(_ tuner: inout any Tuner, step: UInt64, w: [Double], maxRounds: Int = 4096) throws -> Int {
        let g = problem.gradient(w)
        return try tuner.runHostStep(
            step: step, weights: w, gradient: g, update: tuner.usesUpdateDirection ? g : nil,
            groupOffsets: offsets, loss: { (x: [Double]) in problem.loss(x) },
            hvp: { (v: [Double]) in problem.hvp(v) }, maxRounds: maxRounds)
    }

    static func tuner(_ method: Method) throws -> any Tuner {
        var tuner = try makeTuner(method: method, groups: 3)
        try tuner.setParameter(.initialLR, 0.05, group: nil)
        if method == .gen || method == .hidlr || method == .hessianLR {
            try tuner.setParameter(.updatePeriod, 2, group: nil)
        }
        return tuner
    }

    @Test(arguments: observingMethods)
    func hostModeEqualsObservationModeBitForBit(method: Method) throws {
        var host = try Self.tuner(method)
        var observed = try Self.tuner(method)
        var w = Self.w
        for step in UInt64(0)..<12 {
            _ = try Self.host(&host, step: step, w: w)
            try Self.observe(&observed, step: step, w: w, d: Self.problem.gradient(w))
            #expect(host.snapshot() == observed.snapshot(), "\(method.name) step \(step)")
            let g = Self.problem.gradient(w)
            let rates = host.learningRates(step: step)
            for k in 0..<3 { for i in Self.offsets[k]..<Self.offsets[k + 1] { w[i] -= rates[k] * g[i] } }
        }
        #expect(try host.info(.updates, group: 0) > 0)
    }

    @Test func roundsCountTheObservations() throws {
        var gen = try Self.tuner(.gen)
        #expect(try Self.host(&gen, step: 0, w: Self.w) == 1)
        #expect(try Self.host(&gen, step: 1, w: Self.w) == 0)
        var armijo = try Self.tuner(.armijo)
        let rounds = try Self.host(&armijo, step: 0, w: Self.w)
        #expect(rounds == 2 + Int(try armijo.info(.backtracks, group: 0)))
    }

    @Test func aFailingOracleMidSearchChangesNothing() throws {
        var tuner: any Tuner = try ArmijoTuner(groups: 3)
        try tuner.runHostStep(
            step: 0, weights: Self.w, gradient: Self.problem.gradient(Self.w), groupOffsets: Self.offsets,
            loss: { (x: [Double]) in Self.problem.loss(x) })
        let before = tuner.snapshot()
        var calls = 0
        let error = #expect(throws: HLRError.self) {
            try tuner.runHostStep(
                step: 1, weights: Self.w, gradient: Self.problem.gradient(Self.w), groupOffsets: Self.offsets,
                loss: { (x: [Double]) throws(HLRError) -> Double in
                    calls += 1
                    if calls == 3 { throw HLRError(.callbackFailed, "forward pass failed") }
                    return 1e6 * Self.problem.loss(x)  // never sufficient: keeps backtracking
                })
        }
        #expect(error?.kind == .callbackFailed)
        #expect(calls == 3)
        #expect(tuner.snapshot() == before)
        for bad in [Double.nan, .infinity] {
            // A non-finite loss at the current weights is an error and changes nothing …
            let nonFinite = #expect(throws: HLRError.self) {
                try tuner.runHostStep(
                    step: 1, weights: Self.w, gradient: Self.problem.gradient(Self.w), groupOffsets: Self.offsets,
                    loss: { (_: [Double]) in bad })
            }
            #expect(nonFinite?.kind == .nonFinite)
            #expect(nonFinite?.message.contains("the loss at the current weights") == true)
            #expect(tuner.snapshot() == before)
            // … a non-finite trial loss is a failed trial: the search backtracks (the policy of
            // every backend, `Tuner.runStep`) until it gives up at max_backtracks.
            var searching = tuner
            let rounds = try searching.runHostStep(
                step: 1, weights: Self.w, gradient: Self.problem.gradient(Self.w), groupOffsets: Self.offsets,
                currentLoss: 1, loss: { (_: [Double]) in bad })
            let backtracks = try searching.info(.backtracks, group: 0)
            #expect(backtracks == (try searching.parameter(.maxBacktracks, group: 0)))
            #expect(rounds == 1 + Int(backtracks) + 1)
            #expect(try searching.learningRate(group: 0, step: 1) < (try tuner.learningRate(group: 0, step: 0)))
        }
    }

    @Test func theRoundCapAndMissingOraclesChangeNothing() throws {
        var armijo: any Tuner = try ArmijoTuner(groups: 1)
        let before = armijo.snapshot()
        let capped = #expect(throws: HLRError.self) {
            try armijo.runHostStep(
                step: 0, weights: [1.0], gradient: [1.0], currentLoss: 0,
                loss: { (_: [Double]) in 1.0 }, maxRounds: 3)
        }
        #expect(capped?.kind == .wrongState)
        #expect(capped?.message.contains("max_rounds 3") == true)
        #expect(armijo.snapshot() == before)
        let noLoss = #expect(throws: HLRError.self) {
            try armijo.runHostStep(step: 0, weights: [1.0], gradient: [1.0], currentLoss: 1)
        }
        #expect(noLoss?.message.contains("no loss oracle") == true)
        #expect(armijo.snapshot() == before)
        var cdat: any Tuner = try CDATTuner(groups: 1)
        let noHVP = #expect(throws: HLRError.self) {
            try cdat.runHostStep(step: 0, weights: [1.0], gradient: [1.0], update: [1.0])
        }
        #expect(noHVP?.message.contains("no HVP oracle") == true)
        let noUpdate = #expect(throws: HLRError.self) {
            try cdat.runHostStep(step: 0, weights: [1.0], gradient: [1.0], hvp: { (v: [Double]) in v })
        }
        #expect(noUpdate?.message.contains("no update vector") == true)
        let layout = #expect(throws: HLRError.self) {
            try cdat.runHostStep(step: 0, weights: [1.0, 2], gradient: [1.0, 2], groupOffsets: [0, 1, 2])
        }
        #expect(layout?.message.contains("2 groups") == true)
    }

    /// Empty buffers are refused, as the C API refuses n = 0, and change nothing (a new-user
    /// test: Swift took them as a zero-gradient observation and auto moved its rate).
    @Test(arguments: [Method.auto, .hessianLR, .cdat, .gen, .armijo])
    func emptyBuffersAreRefusedAndChangeNothing(method: Method) throws {
        var tuner = try makeTuner(method: method, groups: 1)
        let before = tuner.snapshot()
        let empty: [Double] = []
        let stepped = #expect(throws: HLRError.self) {
            try tuner.runHostStep(
                step: 0, weights: empty, gradient: empty, update: tuner.usesUpdateDirection ? empty : nil,
                loss: { (_: [Double]) in 1.0 }, hvp: { (v: [Double]) in v })
        }
        #expect(stepped?.kind == .invalidArgument && stepped?.message.contains("n must be ≥ 1") == true)
        #expect(tuner.snapshot() == before)
        if tuner.need(atStep: 0) == .curvature {
            let observed = #expect(throws: HLRError.self) {
                try tuner.observeCurvature(
                    step: 0, gradient: empty, update: tuner.usesUpdateDirection ? empty : nil) { (v: [Double]) in v }
            }
            #expect(observed?.kind == .invalidArgument && observed?.message.contains("n must be ≥ 1") == true)
            #expect(tuner.snapshot() == before)
        }
    }

    @Test func stepsThatNeedNothingCallNoOracle() throws {
        var gen: any Tuner = try GeNTuner(groups: 1)
        var calls = 0
        let rounds = try gen.runHostStep(
            step: 1, weights: [1.0], gradient: [1.0],
            loss: { (_: [Double]) in
                calls += 1
                return 1.0
            })
        #expect(rounds == 0 && calls == 0)
    }

    @Test func theCurrentLossSavesAForwardPass() throws {
        var gen: any Tuner = try GeNTuner(groups: 1)
        var calls = 0
        try gen.runHostStep(
            step: 0, weights: [1.0, 2], gradient: [0.5, 1], currentLoss: Self.problem.loss([1, 2, 0, 0, 0, 0]),
            loss: { (x: [Double]) in
                calls += 1
                return x[0] * x[0] + x[1]
            })
        #expect(calls == 2)
    }

    @Test func float32BuffersWork() throws {
        var host: any Tuner = try GeNTuner(groups: 1)
        var observed: any Tuner = try GeNTuner(groups: 1)
        let w: [Float] = [0.5, -0.25]
        let g: [Float] = [1, -0.5]
        let loss = { (x: [Float]) -> Double in Double(x[0] * x[0] + 4 * x[1] * x[1]) }
        try host.runHostStep(step: 0, weights: w, gradient: g, loss: loss)
        guard case .losses(let probes) = observed.need(atStep: 0) else { return }
        let values = probes.map { row in
            loss([Float(Double(w[0]) - row[0] * Double(g[0])), Float(Double(w[1]) - row[0] * Double(g[1]))])
        }
        try observed.observe(step: 0, kind: .losses, values: values)
        #expect(host.snapshot() == observed.snapshot())
    }
}
