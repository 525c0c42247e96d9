import Testing
@testable import HessianLR

/// Host mode of `.losses` (`StepDriver.probeLosses` over a `HostStepBackend`): trial weights in a
/// scratch buffer, oracle failures, the ξ = 0 shortcut, the stop after a diverged probe.
@Suite struct LossProbesTests {
    /// A loss oracle that records every buffer it sees and returns Σ wᵢ².
    final class Recorder<T: HostScalar> {
        var seen: [[T]] = []
        var result: (([T]) -> Double)?
        func loss(_ w: UnsafeBufferPointer<T>) throws(HLRError) -> Double {
            seen.append(Array(w))
            if let result { return result(Array(w)) }
            return w.reduce(0.0) { $0 + Double($1) * Double($1) }
        }
    }

    static func run<T: HostScalar>(
        _ w: [T], _ d: [T], offsets: [Int], probes: [[Double]], currentLoss: Double? = nil, recorder: Recorder<T>
    ) throws(HLRError) -> [Double] {
        let layout = try GroupLayout(offsets: offsets, elementCount: w.count)
        return try w.withUnsafeBufferPointer { (pw) throws(HLRError) in
            try d.withUnsafeBufferPointer { (pd) throws(HLRError) in
                var backend = try HostStepBackend(
                    weights: pw, gradient: pd, direction: pd, layout: layout, loss: recorder.loss, hvp: nil)
                var calls = 0
                return try StepDriver.probeLosses(
                    probes, groups: layout.groupCount, currentLoss: currentLoss, backend: &backend, lossCalls: &calls)
            }
        }
    }

    @Test func trialWeightsMoveEachGroupByItsOwnStep() throws {
        let recorder = Recorder<Double>()
        let w: [Double] = [1, 2, 3, 4]
        let d: [Double] = [0.5, -1, 2, 0.25]
        let losses = try Self.run(w, d, offsets: [0, 1, 4], probes: [[0.1, -2], [0, 0]], recorder: recorder)
        let expected: [Double] = [1 - 0.1 * 0.5, 2 - 2, 3 + 2 * 2, 4 + 2 * 0.25]
        #expect(recorder.seen[0] == expected)
        #expect(recorder.seen[1] == w)  // ξ = 0 is w bit for bit
        #expect(losses == recorder.seen.map { $0.reduce(0.0) { $0 + $1 * $1 } })
    }

    @Test func theCurrentLossSavesTheZeroProbe() throws {
        let recorder = Recorder<Double>()
        let losses = try Self.run(
            [1, 2], [1, 1], offsets: [0, 2], probes: [[-0.5], [0], [0.5]], currentLoss: 42, recorder: recorder)
        #expect(recorder.seen.count == 2)
        #expect(losses[1] == 42)
    }

    @Test func float32TrialsAreRoundedOnceFromFloat64() throws {
        let recorder = Recorder<Float>()
        let w: [Float] = [0.1, 0.7]
        let d: [Float] = [0.3, -0.9]
        _ = try Self.run(w, d, offsets: [0, 2], probes: [[0.37]], recorder: recorder)
        let first = Float(Double(w[0]) - 0.37 * Double(d[0]))
        let second = Float(Double(w[1]) - 0.37 * Double(d[1]))
        #expect(recorder.seen[0] == [first, second])
    }

    @Test func aDivergedProbeStopsTheProbesAndFailuresAreNamed() throws {
        let nan = Recorder<Double>()
        nan.result = { $0[0] > 1.5 ? .nan : 1 }
        let losses = try Self.run([1], [-1], offsets: [0, 1], probes: [[0.1], [1], [2]], recorder: nan)
        #expect(losses[0] == 1 && losses[1].isNaN && losses[2].isNaN)
        #expect(nan.seen.count == 2)  // the third probe is not evaluated
        let one: [Double] = [1]
        let failing = #expect(throws: HLRError.self) {
            try one.withUnsafeBufferPointer { (w) throws(HLRError) in
                var backend = try HostStepBackend<Double>(
                    weights: w, gradient: w, direction: w, layout: try GroupLayout(single: 1),
                    loss: { (_: UnsafeBufferPointer<Double>) throws(HLRError) -> Double in
                        throw HLRError(.callbackFailed, "user abort")
                    }, hvp: nil)
                var calls = 0
                _ = try StepDriver.probeLosses([[1]], groups: 1, currentLoss: nil, backend: &backend, lossCalls: &calls)
            }
        }
        #expect(failing?.kind == .callbackFailed)
        let rows = #expect(throws: HLRError.self) {
            try Self.run([1, 2], [1, 1], offsets: [0, 1, 2], probes: [[1]], recorder: Recorder<Double>())
        }
        #expect(rows?.message.contains("probe 0 has 1 steps") == true)
        let weights = #expect(throws: HLRError.self) {
            try Self.run([1, .infinity], [1, 1], offsets: [0, 2], probes: [[1]], recorder: Recorder<Double>())
        }
        #expect(weights?.message.contains("weights[1]") == true)
        let step = #expect(throws: HLRError.self) {
            try Self.run([1], [1], offsets: [0, 1], probes: [[.nan]], recorder: Recorder<Double>())
        }
        #expect(step?.message.contains("not finite") == true)
    }
}
