import Testing
@testable import HessianLR

/// Host mode: per-group gᵀd and d_kᵀHd_k from buffers and an HVP oracle.
@Suite struct QuadraticTermsTests {
    /// H = diag(λ) as an oracle that also counts its calls and records the vectors it saw.
    final class Diagonal<T: HostScalar> {
        let lambda: [T]
        var calls: [[T]] = []
        init(_ lambda: [T]) { self.lambda = lambda }
        func apply(_ v: UnsafeBufferPointer<T>, _ out: UnsafeMutableBufferPointer<T>) throws(HLRError) {
            calls.append(Array(v))
            for index in v.indices { out[index] = lambda[index] * v[index] }
        }
    }

    static func terms<T: HostScalar>(
        _ g: [T], _ d: [T]? = nil, offsets: [Int]? = nil, oracle: Diagonal<T>
    ) throws(HLRError) -> [Double] {
        let layout = try GroupLayout(offsets: offsets ?? [0, g.count], elementCount: g.count)
        return try g.withUnsafeBufferPointer { (pg) throws(HLRError) in
            try (d ?? g).withUnsafeBufferPointer { (pd) throws(HLRError) in
                try QuadraticTerms.compute(gradient: pg, direction: pd, layout: layout, hvp: oracle.apply)
            }
        }
    }

    @Test func eigenvectorOfADiagonalHessian() throws {
        let oracle = Diagonal<Double>([2, 5, 10])
        let values = try Self.terms([0, 0, 4], oracle: oracle)
        #expect(values == [16, 160])
        #expect(oracle.calls.count == 1)
    }

    @Test func float32AccumulatesInDouble() throws {
        let oracle = Diagonal<Float>([1, 3])
        let values = try Self.terms([Float(0.1), 0.2], oracle: oracle)
        let g0 = Double(Float(0.1)), g1 = Double(Float(0.2))
        #expect(values[0] == g0 * g0 + g1 * g1)
        #expect(values[1] == g0 * Double(Float(0.1) * 1) + g1 * Double(Float(0.2) * 3))
    }

    @Test func eachGroupSeesOnlyItsSlice() throws {
        let oracle = Diagonal<Double>([1, 2, 3, 4, 5])
        let values = try Self.terms([1, 1, 1, 1, 1], offsets: [0, 2, 2, 5], oracle: oracle)
        #expect(values == [2, 3, 0, 0, 3, 12])
        #expect(oracle.calls == [[1, 1, 0, 0, 0], [0, 0, 1, 1, 1]])  // the empty group costs nothing
    }

    @Test func everyGroupGetsAZeroedOutputAndItsOwnMaskedDirection() throws {
        // The oracle checks that out is zero on entry and then writes every element, so a
        // second group would see the first group's output if it were not zeroed again.
        let n = 20_003
        var seen: [(zeroed: Bool, support: Int)] = []
        func oracle(_ v: UnsafeBufferPointer<Float>, _ out: UnsafeMutableBufferPointer<Float>) throws(HLRError) {
            seen.append((out.allSatisfy { $0 == 0 }, v.filter { $0 != 0 }.count))
            for index in out.indices { out[index] = 2 * v[index] }
            for index in out.indices where v[index] == 0 { out[index] = 7 }  // garbage outside the group
        }
        let g = (0..<n).map { Float($0 % 5) + 1 }
        let layout = try GroupLayout(offsets: [0, 3, 3, 10_000, n], elementCount: n)
        let values = try g.withUnsafeBufferPointer { (pg) throws(HLRError) in
            try QuadraticTerms.compute(gradient: pg, direction: pg, layout: layout, hvp: oracle)
        }
        #expect(seen.map(\.zeroed) == [true, true, true])
        #expect(seen.map(\.support) == [3, 9_997, n - 10_000])
        for (group, range) in [0..<3, 3..<3, 3..<10_000, 10_000..<n].enumerated() {
            let slope = range.reduce(0.0) { $0 + Double(g[$1]) * Double(g[$1]) }
            #expect(values[2 * group] == slope)  // small integers: exact in any order
            #expect(values[2 * group + 1] == 2 * slope)
        }
    }

    @Test func updateDirection() throws {
        let oracle = Diagonal<Double>([2, 2])
        let values = try Self.terms([1, 2], [3, -1], oracle: oracle)
        #expect(values == [1, 20])
    }

    @Test func nonFiniteInputsOrOutputsAreRefused() throws {
        let nanGradient = #expect(throws: HLRError.self) {
            try Self.terms([1, .nan], oracle: Diagonal<Double>([1, 1]))
        }
        #expect(nanGradient?.kind == .nonFinite)
        let nanOutput = #expect(throws: HLRError.self) {
            try Self.terms([1, 1], oracle: Diagonal<Double>([1, .infinity]))
        }
        #expect(nanOutput?.kind == .nonFinite)
        #expect(nanOutput?.message.contains("HVP output") == true)
    }

    @Test func layoutValidationNamesTheBadOffset() {
        let cases: [([Int], Int, String)] = [
            ([1, 3], 3, "group_offsets[0]"), ([0, 2, 1, 3], 3, "group_offsets[2]"),
            ([0, 2], 3, "buffer length 3"), ([0], 0, "at least 2"),
        ]
        for (offsets, n, fragment) in cases {
            let error = #expect(throws: HLRError.self) { try GroupLayout(offsets: offsets, elementCount: n) }
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "")")
        }
    }

    @Test func tunerHostModeMatchesObservationMode() throws {
        var host = try HessianLRTuner(groups: 2)
        try host.setParameter(.updatePeriod, 1, group: nil)
        var observed = host
        let lambda: [Double] = [1, 4, 9, 16]
        let g: [Double] = [0.5, -0.25, 2, 1]
        try host.observeCurvature(step: 0, gradient: g, groupOffsets: [0, 2, 4]) { (v: [Double]) in
            zip(lambda, v).map { $0 * $1 }
        }
        try observed.observeCurvature(step: 0, values: [0.3125, 0.5, 5, 52])
        #expect(host.snapshot() == observed.snapshot())
    }

    @Test func hostModeSpendsNothingOnUnwantedSteps() throws {
        var tuner = try HessianLRTuner(groups: 1)  // period 10: step 3 wants nothing
        var calls = 0
        let error = #expect(throws: HLRError.self) {
            try tuner.observeCurvature(step: 3, gradient: [1.0, 2.0]) { (v: [Double]) in
                calls += 1
                return v
            }
        }
        #expect(error?.kind == .wrongState)
        #expect(calls == 0)
    }

    @Test func failingOracleChangesNothing() throws {
        var tuner = try HessianLRTuner(groups: 1)
        let before = tuner.snapshot()
        let error = #expect(throws: HLRError.self) {
            try tuner.observeCurvature(step: 0, gradient: [1.0, 2.0]) { (_: [Double]) throws(HLRError) -> [Double] in
                throw HLRError(.callbackFailed, "boom")
            }
        }
        #expect(error?.kind == .callbackFailed)
        #expect(tuner.snapshot() == before)
    }

    @Test func updateMustMatchTheDirectionOption() throws {
        var tuner = try HessianLRTuner(groups: 1)
        let extra = #expect(throws: HLRError.self) {
            try tuner.observeCurvature(step: 0, gradient: [1.0], update: [1.0]) { (v: [Double]) in v }
        }
        #expect(extra?.kind == .invalidArgument)
        try tuner.setParameter(.direction, 1, group: nil)
        let missing = #expect(throws: HLRError.self) {
            try tuner.observeCurvature(step: 0, gradient: [1.0]) { (v: [Double]) in v }
        }
        #expect(missing?.kind == .invalidArgument)
    }
}
