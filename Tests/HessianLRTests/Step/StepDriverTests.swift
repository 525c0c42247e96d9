import Testing
@testable import HessianLR

/// `Tuner.runStep`: the loop, the observations, the failure policy and the process average,
/// over a scripted `StepBackend` (the C tests pin the same driver through the ABI bit for bit).
@Suite struct StepDriverTests {
    /// L(w) = ½ Σ aᵢwᵢ², d = g = a ⊙ w, one group per half; `processes` identical processes
    /// summed by `allReduce` (×P is exact for P a power of two).
    struct Quadratic: StepBackend {
        var w: [Double] = [1, -0.5, 0.25, 2]
        let a: [Double] = [1, 2, 3, 4]
        var trial: [Double]? = nil
        var nanTrialOn = 0
        var processes = 1
        var log: [String] = []
        var trialLosses = 0

        var groupCount: Int { 2 }
        var isDistributed: Bool { processes > 1 }
        func g(_ i: Int) -> Double { a[i] * w[i] }

        mutating func slopes() throws(HLRError) -> [Double] {
            log.append("slopes")
            return [g(0) * g(0) + g(1) * g(1), g(2) * g(2) + g(3) * g(3)]
        }
        mutating func curvatures() throws(HLRError) -> [Double] {
            log.append("curvatures")
            return [a[0] * g(0) * g(0) + a[1] * g(1) * g(1), a[2] * g(2) * g(2) + a[3] * g(3) * g(3)]
        }
        mutating func setTrial(_ steps: [Double]) throws(HLRError) {
            log.append("setTrial")
            trial = steps
        }
        mutating func loss() throws(HLRError) -> Double {
            log.append("loss")
            var total = 0.0
            for i in 0..<4 {
                let x = w[i] - (trial?[i / 2] ?? 0) * g(i)
                total += 0.5 * a[i] * x * x
            }
            if trial != nil {
                trialLosses += 1
                if trialLosses == nanTrialOn { return .nan }
            }
            return total
        }
        mutating func restore() throws(HLRError) {
            log.append("restore")
            trial = nil
        }
        mutating func allReduce(_ values: inout [Double]) throws(HLRError) {
            log.append("allReduce")
            values = values.map { $0 * Double(processes) }
        }
    }

    @Test(arguments: [Method.hessianLR, .cdat, .gen, .hidlr, .armijo])
    func processAverageOfIdenticalProcessesIsTheSingleProcessRun(method: Method) throws {
        var single = try makeTuner(method: method, groups: 2)
        var twin = try makeTuner(method: method, groups: 2)
        for step in UInt64(0)..<8 {
            var one = Quadratic()
            var four = Quadratic(processes: 4)
            let a = try single.runStep(step: step, backend: &one)
            let b = try twin.runStep(step: step, backend: &four)
            #expect(a == b)
            #expect(four.log.filter { $0 == "allReduce" }.count == b.rounds)
            #expect(!one.log.contains("allReduce"))
            #expect(single.snapshot() == twin.snapshot())
        }
    }

    @Test func aDivergedTrialIsAFailureAndRestoresTheWeights() throws {
        var gen = try makeTuner(method: .gen, groups: 2)
        let before = try gen.learningRate(group: 0, step: 0)
        var backend = Quadratic(nanTrialOn: 1)
        let report = try gen.runStep(step: 0, backend: &backend, currentLoss: 1)
        #expect(report.rounds == 1 && report.failures == 1 && report.lossCalls == 1)
        #expect(backend.trial == nil && backend.log.last == "restore")
        let decay = try gen.parameter(.fitFailureDecay, group: 0)
        #expect(try gen.learningRate(group: 0, step: 1) == before * decay)
    }

    @Test func aNonFiniteCurrentLossOrGroupMismatchChangesNothing() throws {
        var cdat = try makeTuner(method: .cdat, groups: 3)
        let snapshot = cdat.snapshot()
        var backend = Quadratic()
        let groups = #expect(throws: HLRError.self) { try cdat.runStep(step: 0, backend: &backend) }
        #expect(groups?.message.contains("the tuner has 3") == true)
        var armijo = try makeTuner(method: .armijo, groups: 2)
        let nan = #expect(throws: HLRError.self) {
            try armijo.runStep(step: 0, backend: &backend, currentLoss: .infinity)
        }
        #expect(nan?.kind == .nonFinite)
        #expect(cdat.snapshot() == snapshot)
    }
}
