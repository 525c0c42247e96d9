import Testing
@testable import HessianLR

@Suite struct HostVectorSpaceTests {
    static func space<T: HostScalar>(_: T.Type, n: Int = 13) throws -> HostVectorSpace<T> {
        try HostVectorSpace<T>(dimension: n) { v, out throws(HLRError) in
            for i in 0..<v.count where i % 2 == 0 { out[i] = 3 * v[i] }  // odd outputs left unwritten
        }
    }

    @Test func probesFollowTheCounterRNGFormula() throws {
        let rng = CounterRNG(seed: 11, stream: RandomStream.hutchinson.rawValue, index: 4)
        let double = try Self.space(Double.self), float = try Self.space(Float.self)
        for distribution in ProbeDistribution.allCases {
            let x = try double.makeVector(), y = try float.makeVector()
            try double.fillProbe(x, seed: 11, stream: 3, index: 4, distribution: distribution)
            try float.fillProbe(y, seed: 11, stream: 3, index: 4, distribution: distribution)
            let expected = (0..<13).map { distribution.value(rng, UInt64($0)) }
            #expect(x.elements == expected)
            #expect(y.elements == expected.map { Float($0) })
        }
    }

    @Test func operationsMatchTheirDefinitions() throws {
        let space = try Self.space(Double.self)
        let x = try space.makeVector((0..<13).map { Double($0) - 6 })
        let y = try space.makeVector((0..<13).map { 0.5 * Double($0) })
        #expect(try space.dot(x, y) == zip(x.elements, y.elements).reduce(0) { $0 + $1.0 * $1.1 })
        let blocks = try GroupLayout(offsets: [0, 4, 4, 13], elementCount: 13)
        let parts = try space.blockDots(x, y, blocks: blocks)
        let total = try space.dot(x, y)
        #expect(parts.count == 3 && parts[1] == 0)
        #expect(parts[0] + parts[2] == total)
        let z = try space.makeVector()
        #expect(z.elements == [Double](repeating: 0, count: 13))  // new vectors are zero
        try space.copy(x, to: z)
        try space.axpy(2, y, z)
        let sum: [Double] = zip(x.elements, y.elements).map { (a: Double, b: Double) -> Double in a + 2 * b }
        #expect(z.elements == sum)
        try space.scale(-0.5, z)
        try space.multiplyAccumulate(3, x, y, into: z)
        let expected: [Double] = zip(x.elements, y.elements).map { (a: Double, b: Double) -> Double in -0.5 * (a + 2 * b) + (3 * a) * b }
        #expect(z.elements == expected)
        let out = try space.makeVector(Array(repeating: 99, count: 13))
        try space.applyOperator(x, into: out)  // out is zeroed before the oracle runs
        let product: [Double] = (0..<13).map { (i: Int) -> Double in i % 2 == 0 ? 3 * (Double(i) - 6) : 0 }
        #expect(out.elements == product)
    }

    /// The oracle always sees a zero output, whatever the output vector held before (fresh,
    /// written by an earlier HVP, a probe, the mutable buffer, an axpy).
    @Test func theOracleAlwaysGetsAZeroOutput() throws {
        var dirty = 0, calls = 0
        let space = try HostVectorSpace<Double>(dimension: 9) { v, out throws(HLRError) in
            calls += 1
            if out.contains(where: { $0 != 0 }) { dirty += 1 }
            for i in 0..<v.count { out[i] += 2 * v[i] }  // accumulates: a stale output would show
        }
        let v = try space.makeVector((0..<9).map { Double($0) + 1 })
        let fresh = try space.makeVector()
        try space.applyOperator(v, into: fresh)
        try space.applyOperator(v, into: fresh)  // written by the first call
        #expect(fresh.elements == v.elements.map { 2 * $0 })
        let filled = try space.makeVector()
        try space.fillProbe(filled, seed: 1, stream: 3, index: 0, distribution: .rademacher)
        try space.applyOperator(v, into: filled)
        let written = try space.makeVector()
        written.withUnsafeMutableBufferPointer { $0[4] = 7 }
        try space.applyOperator(v, into: written)
        let scaled = try space.makeVector()
        try space.axpy(1, v, scaled)
        try space.applyOperator(v, into: scaled)
        #expect(calls == 5 && dirty == 0)
        #expect(written.elements == v.elements.map { 2 * $0 } && scaled.elements == written.elements)
    }

    @Test func misuseThrowsInsteadOfTrapping() throws {
        let space = try Self.space(Double.self)
        let other = try Self.space(Double.self, n: 5)
        let x = try space.makeVector(), foreign = try other.makeVector()
        for (call, fragment) in [
            ({ try space.dot(x, foreign) }, "dot y has 5 elements"),
            ({ try space.applyOperator(x, into: x); return 0 }, "must be different"),
            ({ try space.blockDots(x, x, blocks: try GroupLayout(single: 5)).first ?? 0 }, "dimension is 13"),
            ({ _ = try space.makeVector([1, 2]); return 0 }, "needs 13 elements"),
        ] as [(() throws -> Double, String)] {
            let error = #expect(throws: HLRError.self) { try call() }
            #expect(error?.kind == .invalidArgument && error?.message.contains(fragment) == true, "\(error?.message ?? "")")
        }
        let threads = #expect(throws: HLRError.self) { try HostVectorSpace<Float>(dimension: 3, threads: 0) { _, _ throws(HLRError) in } }
        #expect(threads?.kind == .invalidArgument)
    }
}
