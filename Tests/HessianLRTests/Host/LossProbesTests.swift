import Testing
@testable import HessianLR

/// Host mode of `.losses`: trial weights in a scratch buffer, oracle failures, the ξ = 0 shortcut.
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
                try LossProbes.compute(
                    weights: pw, direction: pd, layout: layout, probes: probes, currentLoss: currentLoss,
                    loss: recorder.loss)
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

    @Test func failuresAreNamedAndStopTheProbes() {
        let nan = Recorder<Double>()
        nan.result = { $0[0] > 1.5 ? .nan : 1 }
        let bad = #expect(throws: HLRError.self) {
            try Self.run([1], [-1], offsets: [0, 1], probes: [[0.1], [1], [2]], recorder: nan)
        }
        #expect(bad?.kind == .nonFinite)
        #expect(bad?.message.contains("probe 1") == true)
        #expect(nan.seen.count == 2)
        let failing = #expect(throws: HLRError.self) {
            try LossProbes.compute(
                weights: UnsafeBufferPointer<Double>(start: nil, count: 0),
                direction: UnsafeBufferPointer<Double>(start: nil, count: 0),
                layout: try GroupLayout(single: 0), probes: [[1]]
            ) { (_: UnsafeBufferPointer<Double>) throws(HLRError) -> Double in
                throw HLRError(.callbackFailed, "user abort")
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
