import Testing
@testable import HessianLR

/// Host mode of `.slope`: [L(w), gᵀd per group].
@Suite struct SlopeTermsTests {
    static func run(
        _ w: [Double], _ g: [Double], _ d: [Double], offsets: [Int], currentLoss: Double? = nil,
        loss: LossProbes.Oracle<Double>?
    ) throws(HLRError) -> [Double] {
        let layout = try GroupLayout(offsets: offsets, elementCount: w.count)
        return try w.withUnsafeBufferPointer { (pw) throws(HLRError) in
            try g.withUnsafeBufferPointer { (pg) throws(HLRError) in
                try d.withUnsafeBufferPointer { (pd) throws(HLRError) in
                    try SlopeTerms.compute(
                        weights: pw, gradient: pg, direction: pd, layout: layout, currentLoss: currentLoss, loss: loss)
                }
            }
        }
    }

    @Test func lossThenPerGroupSlopes() throws {
        var calls = 0
        let values = try Self.run(
            [1, 2, 3], [1, -2, 0.5], [2, 1, 4], offsets: [0, 2, 2, 3]
        ) { (w: UnsafeBufferPointer<Double>) throws(HLRError) -> Double in
            calls += 1
            return w[2]
        }
        let expected: [Double] = [3, 0, 0, 2]  // L = w₂; 1·2 + (−2)·1; empty group; 0.5·4
        #expect(values == expected)
        #expect(calls == 1)
        let given = try Self.run([1], [1], [1], offsets: [0, 1], currentLoss: 9, loss: nil)
        #expect(given == [9, 1])
    }

    @Test func missingLossAndNonFiniteValuesAreRefused() {
        let missing = #expect(throws: HLRError.self) { try Self.run([1], [1], [1], offsets: [0, 1], loss: nil) }
        #expect(missing?.message.contains("needs L(w)") == true)
        let nan = #expect(throws: HLRError.self) {
            try Self.run([1], [.nan], [1], offsets: [0, 1], currentLoss: 1, loss: nil)
        }
        #expect(nan?.kind == .nonFinite)
        let loss = #expect(throws: HLRError.self) {
            try Self.run([1], [1], [1], offsets: [0, 1], currentLoss: .infinity, loss: nil)
        }
        #expect(loss?.kind == .nonFinite)
    }
}
