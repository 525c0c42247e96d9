import Testing
@testable import HessianLR

/// What every tuner promises through the one interface: snapshots that continue bit-identically
/// and re-validate on restore, errors that change nothing, options checked against their specs.
@Suite struct TunerContractTests {
    static let newMethods: [Method] = [.cdat, .gen, .hidlr, .armijo]

    /// A few steps of gradient descent driven through host mode on a small quadratic.
    static func train(_ tuners: inout [any Tuner], steps: Range<UInt64>, w: inout [Double]) throws {
        let problem = TunerHostStepTests.problem
        let offsets = TunerHostStepTests.offsets
        for step in steps {
            let g = problem.gradient(w)
            for index in tuners.indices {
                try tuners[index].runHostStep(
                    step: step, weights: w, gradient: g, update: tuners[index].usesUpdateDirection ? g : nil,
                    groupOffsets: offsets, loss: { (x: [Double]) in problem.loss(x) },
                    hvp: { (v: [Double]) in problem.hvp(v) })
            }
            let rates = tuners[0].learningRates(step: step).map(\.bitPattern)
            for tuner in tuners.dropFirst() {
                #expect(tuner.learningRates(step: step).map(\.bitPattern) == rates, "step \(step)")
            }
            let real = tuners[0].learningRates(step: step)
            for k in 0..<3 { for i in offsets[k]..<offsets[k + 1] { w[i] -= real[k] * g[i] } }
        }
    }

    @Test(arguments: observingMethods)
    func snapshotMidRunContinuesBitIdentically(method: Method) throws {
        var reference = try makeTuner(method: method, groups: 3)
        try reference.setParameter(.initialLR, 0.05, group: nil)
        if method != .armijo && method != .cdat { try reference.setParameter(.updatePeriod, 3, group: nil) }
        var tuners = [reference]
        var w = TunerHostStepTests.w
        try Self.train(&tuners, steps: 0..<17, w: &w)
        var restored = try makeTuner(method: method, groups: 3)
        try restored.restore(snapshot: tuners[0].snapshot())
        #expect(restored.snapshot() == tuners[0].snapshot())
        tuners.append(restored)
        try Self.train(&tuners, steps: 17..<40, w: &w)
        #expect(tuners[1].snapshot() == tuners[0].snapshot())
        #expect(try tuners[0].info(.updates, group: 0) >= 5)
    }

    @Test func anUnfinishedLineSearchSurvivesASnapshot() throws {
        var tuner = try ArmijoTuner(groups: 1)
        try tuner.observe(step: 0, kind: .slope, values: [1, 1])
        try tuner.observe(step: 0, kind: .losses, values: [5])
        var restored = try ArmijoTuner(groups: 1)
        try restored.restore(snapshot: tuner.snapshot())
        #expect(restored.need(atStep: 0) == tuner.need(atStep: 0))
        try tuner.observe(step: 0, kind: .losses, values: [0.5])
        try restored.observe(step: 0, kind: .losses, values: [0.5])
        #expect(restored.snapshot() == tuner.snapshot())
    }

    @Test(arguments: newMethods)
    func invalidSnapshotsAreRefusedAndChangeNothing(method: Method) throws {
        var tuner = try makeTuner(method: method, groups: 2)
        let before = tuner.snapshot()
        var payload = tuner.encodePayload()
        // Every new method's first option is initial_lr: group-scoped (count, then K doubles) or
        // one double. Write −1 there: a value `set` refuses.
        let spec = try method.spec(for: .initialLR)
        let offset = spec.scope == .group ? 16 : 8
        let bad = (-1.0).bitPattern
        for byte in 0..<8 { payload[offset + byte] = UInt8(truncatingIfNeeded: bad >> (8 * UInt64(byte))) }
        let corrupt = #expect(throws: HLRError.self) {
            try tuner.restore(snapshot: Snapshot.seal(method: method, payload: payload))
        }
        #expect(corrupt?.kind == .snapshotCorrupt)
        #expect(corrupt?.message.contains("initial_lr") == true)
        let truncated = #expect(throws: HLRError.self) {
            try tuner.restore(snapshot: Snapshot.seal(method: method, payload: Array(tuner.encodePayload().dropLast())))
        }
        #expect(truncated?.kind == .snapshotCorrupt)
        let other = try makeTuner(method: method, groups: 3)
        let groups = #expect(throws: HLRError.self) { try tuner.restore(snapshot: other.snapshot()) }
        #expect(groups?.kind == .snapshotMismatch)
        let foreign = try makeTuner(method: method == .gen ? .cdat : .gen, groups: 2)
        let kind = #expect(throws: HLRError.self) { try tuner.restore(snapshot: foreign.snapshot()) }
        #expect(kind?.kind == .snapshotMismatch)
        #expect(tuner.snapshot() == before)
    }

    @Test func aMaximalUpdateCounterSaturatesInsteadOfTrapping() throws {
        var tuner = try GeNTuner(groups: 1)
        try tuner.setParameter(.updatePeriod, 1, group: nil)
        try tuner.observe(step: 0, kind: .losses, values: [1.6, 1, 0.64])
        var options = SnapshotWriter()
        tuner.options.encode(into: &options)
        var payload = tuner.encodePayload()
        let offset = 8 + options.bytes.count  // groups, options, then the update counter
        for byte in 0..<8 { payload[offset + byte] = 0xFF }
        try tuner.restore(snapshot: Snapshot.seal(method: .gen, payload: payload))
        #expect(try tuner.info(.updates, group: 0) == Double(UInt64.max))
        try tuner.observe(step: 1, kind: .losses, values: [1.6, 1, 0.64])
        #expect(try tuner.info(.updates, group: 0) == Double(UInt64.max))
    }

    @Test(arguments: newMethods)
    func refusedCallsChangeNothing(method: Method) throws {
        var tuner = try makeTuner(method: method, groups: 2)
        let before = tuner.snapshot()
        for spec in method.parameterSpecs {
            for value in [spec.maximum.nextUp, spec.minimum.nextDown, .nan, .infinity] where !(value >= spec.minimum && value <= spec.maximum) {
                let error = #expect(throws: HLRError.self) { try tuner.setParameter(spec.key, value, group: nil) }
                #expect(error?.kind == .invalidArgument, "\(spec.key.name) = \(value)")
                #expect(error?.message.contains(spec.key.name) == true, "\(error?.message ?? "")")
            }
            if spec.integral && spec.maximum > spec.minimum {
                #expect(throws: HLRError.self) { try tuner.setParameter(spec.key, spec.minimum + 0.5, group: nil) }
            }
            if spec.scope == .handle {
                let scoped = #expect(throws: HLRError.self) { try tuner.setParameter(spec.key, spec.defaultValue, group: 0) }
                #expect(scoped?.message.contains("whole tuner") == true)
            }
            #expect(throws: HLRError.self) { try tuner.setParameter(spec.key, spec.defaultValue, group: 2) }
        }
        if method != .armijo {
            let lrMax = try tuner.parameter(.lrMax, group: 0)
            try tuner.setParameter(.lrMax, 0.5, group: nil)
            let cross = #expect(throws: HLRError.self) { try tuner.setParameter(.lrMin, 0.6, group: nil) }
            #expect(cross?.message.contains("lr_min (0.6) must not exceed lr_max (0.5)") == true)
            try tuner.setParameter(.lrMax, lrMax, group: nil)
        }
        let unknown = #expect(throws: HLRError.self) { try tuner.setParameter(.negativeCurvatureDecay, 0.5, group: nil) }
        #expect(unknown?.kind == .unknownKey)
        #expect(throws: HLRError.self) { try tuner.learningRate(group: 2, step: 0) }
        #expect(throws: HLRError.self) { try tuner.info(.lastFlags, group: -1) }
        #expect(throws: HLRError.self) { try tuner.observe(step: 0, kind: .curvature, values: [.nan, 1, 1, 1]) }
        #expect(throws: HLRError.self) { try tuner.observe(step: 0, kind: .losses, values: [.nan]) }
        #expect(throws: HLRError.self) { try tuner.observe(step: 0, kind: .slope, values: []) }
        #expect(tuner.snapshot() == before)
    }

    @Test(arguments: observingMethods)
    func factoryAndDefaults(method: Method) throws {
        let tuner = try makeTuner(method: method, groups: 2)
        #expect(tuner.method == method)
        #expect(tuner.groupCount == 2)
        for spec in method.parameterSpecs {
            #expect(try tuner.parameter(spec.key, group: 1) == spec.defaultValue, "\(method.name).\(spec.key.name)")
        }
        #expect(throws: HLRError.self) { try makeTuner(method: method, groups: 0) }
        #expect(try tuner.info(.updates, group: 0) == 0)
        #expect(try tuner.info(.lastStep, group: 0) == -1)
        #expect(try tuner.info(.nextUpdateStep, group: 0) == 0)
    }

    @Test func stableNumbersNeverMove() {
        #expect(Method.allCases.map(\.rawValue) == [1, 2, 3, 4, 5, 6, 7])
        #expect(Method.allCases.map(\.name) == ["hessianlr", "cdat", "gen", "hidlr", "armijo", "constant", "auto"])
        #expect(ParameterKey.allCases.map(\.rawValue) == Array(1...29))
        #expect(InfoKey.allCases.map(\.rawValue) == Array(1...20))
        #expect(Set(ParameterKey.allCases.map(\.name)).count == ParameterKey.allCases.count)
        #expect(Set(InfoKey.allCases.map(\.name)).count == InfoKey.allCases.count)
        let flags: [DecisionFlags] = [
            .boundedLow, .boundedHigh, .clampedMin, .clampedMax, .negativeCurvature, .zeroGradient, .notDescent,
            .fitRejected, .poorFit, .rankDeficient, .projected, .backtrackLimit,
        ]
        #expect(flags.map(\.rawValue) == (0..<12).map { UInt32(1) << UInt32($0) })
    }

    @Test(arguments: newMethods)
    func randomCallsNeverTrapAndFailuresChangeNothing(method: Method) throws {
        var generator = SplitMix(seed: UInt64(method.rawValue) * 977)
        let extremes: [Double] = [
            0, -0.0, 1, -1, 0.5, 3, 1e308, -1e308, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
            .nan, .infinity, -.infinity, 1e-300, 65536, 7,
        ]
        func value() -> Double {
            generator.next() % 3 == 0 ? extremes[Int(generator.next() % UInt64(extremes.count))] : generator.nextSigned()
        }
        var tuner = try makeTuner(method: method, groups: 1 + Int(generator.next() % 3))
        var failures = 0
        for _ in 0..<3000 {
            let before = tuner.snapshot()
            let step = generator.next() % 12
            do {
                switch generator.next() % 6 {
                case 0:
                    let specs = method.parameterSpecs
                    let spec = specs[Int(generator.next() % UInt64(specs.count))]
                    let candidate = generator.next() % 2 == 0 ? value() : spec.defaultValue * (1 + Double(generator.next() % 3))
                    try tuner.setParameter(spec.key, candidate, group: nil)
                case 1:
                    let kind = ObservationKind.allCases[Int(generator.next() % 3)]
                    let count = Int(generator.next() % 20)
                    try tuner.observe(step: step, kind: kind, values: (0..<count).map { _ in value() })
                case 2:
                    // A well-formed observation of what the tuner needs, with arbitrary values.
                    let need = tuner.need(atStep: step)
                    if let kind = need.kind {
                        let values = (0..<need.valueCount(groups: tuner.groupCount)).map { _ in
                            generator.next() % 8 == 0 ? value() : abs(generator.nextSigned())
                        }
                        try tuner.observe(step: step, kind: kind, values: values)
                    }
                case 3:
                    var payload = tuner.encodePayload()
                    if !payload.isEmpty {
                        let index = Int(generator.next() % UInt64(payload.count))
                        payload[index] ^= UInt8(truncatingIfNeeded: 1 << (generator.next() % 8))
                    }
                    try tuner.restore(snapshot: Snapshot.seal(method: method, payload: payload))
                case 4:
                    for key in InfoKey.allCases { _ = try? tuner.info(key, group: Int(generator.next() % 4)) }
                    _ = tuner.learningRates(step: step)
                    continue
                default:
                    tuner.reset(state: generator.next() % 2 == 0, options: generator.next() % 4 == 0)
                    continue
                }
            } catch {
                failures += 1
                #expect(tuner.snapshot() == before, "\(error.message)")
            }
            for rate in tuner.learningRates(step: step) { #expect(!rate.isNaN && rate >= 0) }
        }
        #expect(failures > 100)
    }
}
