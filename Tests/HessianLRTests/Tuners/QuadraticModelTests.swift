import Testing
@testable import HessianLR

/// The least-squares quadratic over probe coordinates shared by GeN and Hi-DLR.
@Suite struct QuadraticModelTests {
    static func probes(_ k: Int, _ m: Int, seed: UInt64 = 3) -> [[Double]] {
        HiDLRRule.unitProbes(groups: k, count: m, seed: seed, round: 0)
    }

    @Test func diagonalModelIsExactOnASeparableQuadratic() throws {
        let b: [Double] = [0.7, -0.2, 1.5]
        let a: [Double] = [2, 0.5, 8]
        let r = Self.probes(3, 12)
        let losses = r.map { (x: [Double]) -> Double in
            var value = 4.0
            for k in 0..<3 { value += -b[k] * x[k] + 0.5 * a[k] * x[k] * x[k] }
            return value
        }
        let model = try QuadraticModel.fit(probes: r, losses: losses, kind: .diagonal, dimension: 3)
        #expect(!model.isRankDeficient && model.unknowns == 7)
        #expect(TunerCheck.close(model.intercept, 4, 1e-12))
        for k in 0..<3 {
            #expect(TunerCheck.close(model.slope[k], b[k], 1e-11))
            #expect(TunerCheck.close(model.curvature[k * 3 + k], a[k], 1e-11))
        }
        #expect(model.curvature[1] == 0 && model.curvature[3] == 0)
        #expect(model.r2 > 1 - 1e-12)
    }

    @Test func fullModelRecoversTheCrossTerms() throws {
        // L(r) = 1 − bᵀr + ½ rᵀAr with a coupled A.
        let b: [Double] = [1, 2]
        let a: [Double] = [3, 1, 1, 2]
        let r = Self.probes(2, 9)
        let losses = r.map { (x: [Double]) -> Double in
            let linear = b[0] * x[0] + b[1] * x[1]
            let quadratic = a[0] * x[0] * x[0] + 2 * a[1] * x[0] * x[1] + a[3] * x[1] * x[1]
            return 1 - linear + 0.5 * quadratic
        }
        let full = try QuadraticModel.fit(probes: r, losses: losses, kind: .full, dimension: 2)
        #expect(full.unknowns == 6)
        for (fitted, exact) in zip(full.curvature, a) { #expect(TunerCheck.close(fitted, exact, 1e-10)) }
        #expect(full.r2 > 1 - 1e-12)
        let diagonal = try QuadraticModel.fit(probes: r, losses: losses, kind: .diagonal, dimension: 2)
        #expect(diagonal.r2 < full.r2)  // the diagonal model cannot explain the coupling
    }

    @Test func unknownCounts() {
        #expect(QuadraticModel.unknowns(kind: .diagonal, dimension: 1) == 3)
        #expect(QuadraticModel.unknowns(kind: .diagonal, dimension: 4) == 9)
        #expect(QuadraticModel.unknowns(kind: .full, dimension: 4) == 15)
        #expect(QuadraticModel.unknowns(kind: .full, dimension: 16) == 153)
    }

    @Test func degenerateProbesAreRankDeficient() throws {
        let same = Array(repeating: [0.5], count: 4)
        let model = try QuadraticModel.fit(probes: same, losses: [1, 2, 3, 4], kind: .diagonal, dimension: 1)
        #expect(model.isRankDeficient)
        #expect(model.slope[0].isNaN && model.r2.isNaN)
        // ±1 only (Rademacher-like): ½r² equals the intercept column.
        let signs: [[Double]] = [[1], [-1], [1], [-1]]
        #expect(try QuadraticModel.fit(probes: signs, losses: [1, 2, 1, 2], kind: .diagonal, dimension: 1).isRankDeficient)
    }

    @Test func flatLossesHaveRSquaredOneAndZeroCoefficients() throws {
        let model = try QuadraticModel.fit(probes: [[-1], [0], [1]], losses: [2, 2, 2], kind: .diagonal, dimension: 1)
        #expect(model.r2 == 1)
        #expect(model.slope[0] == 0 && model.curvature[0] == 0)
    }

    @Test func countsAreChecked() {
        let few = #expect(throws: HLRError.self) {
            try QuadraticModel.fit(probes: [[0], [1]], losses: [1, 2], kind: .diagonal, dimension: 1)
        }
        #expect(few?.message.contains("3 unknowns") == true)
        #expect(throws: HLRError.self) {
            try QuadraticModel.fit(probes: [[0], [1], [2]], losses: [1, 2], kind: .diagonal, dimension: 1)
        }
        #expect(throws: HLRError.self) {
            try QuadraticModel.fit(probes: [[0], [1], [2, 3]], losses: [1, 2, 3], kind: .diagonal, dimension: 1)
        }
    }
}
