import RealModule
import Testing
@testable import HessianLR

@Suite struct TridiagonalEigenTests {
    /// max |T z_i − λ_i z_i| and max |Zᵀ Z − I| for a full decomposition.
    static func defects(_ d: [Double], _ e: [Double], _ eigen: TridiagonalEigen) -> (residual: Double, orthogonality: Double) {
        let m = d.count
        var residual = 0.0, orthogonality = 0.0
        for i in 0..<m {
            let z = eigen.vector(i)
            for r in 0..<m {
                var tz = d[r] * z[r]
                if r > 0 { tz += e[r - 1] * z[r - 1] }
                if r < m - 1 { tz += e[r] * z[r + 1] }
                residual = max(residual, (tz - eigen.values[i] * z[r]).magnitude)
            }
            for j in 0..<m {
                let y = eigen.vector(j)
                let inner = zip(z, y).reduce(0) { $0 + $1.0 * $1.1 }
                orthogonality = max(orthogonality, (inner - (i == j ? 1 : 0)).magnitude)
            }
        }
        return (residual, orthogonality)
    }

    @Test func oneByOneAndEmpty() throws {
        let one = try TridiagonalEigen(diagonal: [-3.5], offDiagonal: [])
        #expect(one.values == [-3.5])
        #expect(one.components == [1])
        let empty = try TridiagonalEigen(diagonal: [], offDiagonal: [])
        #expect(empty.values.isEmpty)
    }

    @Test func twoByTwo() throws {
        let eigen = try TridiagonalEigen(diagonal: [2, 2], offDiagonal: [1])
        #expect(abs(eigen.values[0] - 1) <= 1e-15 && abs(eigen.values[1] - 3) <= 1e-15)
        let (residual, orthogonality) = Self.defects([2, 2], [1], eigen)
        #expect(residual <= 1e-15 && orthogonality <= 1e-15)
    }

    /// tridiag(−1, 2, −1) of order m has eigenvalues 2 − 2cos(kπ/(m+1)), k = 1…m.
    @Test func secondDifferenceMatrixToMachinePrecision() throws {
        let m = 60
        let d = [Double](repeating: 2, count: m), e = [Double](repeating: -1, count: m - 1)
        let eigen = try TridiagonalEigen(diagonal: d, offDiagonal: e)
        for k in 1...m {
            let exact = 2 - 2 * Double.cos(Double(k) * Double.pi / Double(m + 1))
            #expect(abs(eigen.values[k - 1] - exact) <= 1e-14)
        }
        let (residual, orthogonality) = Self.defects(d, e, eigen)
        #expect(residual <= 1e-14)
        #expect(orthogonality <= 1e-13)
    }

    /// Wilkinson's W⁺₂₁ has pairs of eigenvalues agreeing to ~1e-14; the vectors stay orthogonal.
    @Test func wilkinsonMatrixCloseEigenvalues() throws {
        let d = (0..<21).map { Double(abs(10 - $0)) }, e = [Double](repeating: 1, count: 20)
        let eigen = try TridiagonalEigen(diagonal: d, offDiagonal: e)
        #expect(abs(eigen.values[20] - 10.746194182903393) <= 1e-13)
        #expect(eigen.values == eigen.values.sorted())
        let (residual, orthogonality) = Self.defects(d, e, eigen)
        #expect(residual <= 1e-13 && orthogonality <= 1e-12)
    }

    @Test func selectedRowsMatchTheFullDecomposition() throws {
        let d = (0..<30).map { Double.sin(Double($0)) * 5 }, e = (0..<29).map { 1 + Double.cos(Double($0)) }
        let full = try TridiagonalEigen(diagonal: d, offDiagonal: e)
        let rows = try TridiagonalEigen(diagonal: d, offDiagonal: e, rows: [29, 0])
        #expect(rows.values == full.values)
        for i in 0..<30 {
            #expect(rows.component(row: 0, vector: i) == full.component(row: 29, vector: i))
            #expect(rows.component(row: 1, vector: i) == full.component(row: 0, vector: i))
        }
    }

    @Test func splitsAndExtremeScales() throws {
        let zero = try TridiagonalEigen(diagonal: [0, 0, 0], offDiagonal: [0, 0])
        #expect(zero.values == [0, 0, 0])
        let split = try TridiagonalEigen(diagonal: [3, 1, 2], offDiagonal: [0, 0])
        #expect(split.values == [1, 2, 3])
        let huge = try TridiagonalEigen(diagonal: [1e300, 1e300], offDiagonal: [1e300])
        #expect(abs(huge.values[0]) <= 1e285 && abs(huge.values[1] / 2e300 - 1) <= 1e-15)
        let tiny = try TridiagonalEigen(diagonal: [1e-300, 1e-300], offDiagonal: [1e-300])
        #expect(abs(tiny.values[1] / 2e-300 - 1) <= 1e-15)
    }

    @Test func badInputsThrowNeverTrap() {
        let cases: [([Double], [Double], [Int]?, HLRError.Kind, String)] = [
            ([1, 2], [], nil, .invalidArgument, "off-diagonal must have 1"),
            ([1, .nan], [0], nil, .nonFinite, "diagonal[1]"),
            ([1, 2], [.infinity], nil, .nonFinite, "offDiagonal[0]"),
            ([1, 2], [0], [2], .invalidArgument, "row 2"),
        ]
        for (d, e, rows, kind, fragment) in cases {
            let error = #expect(throws: HLRError.self) { try TridiagonalEigen(diagonal: d, offDiagonal: e, rows: rows) }
            #expect(error?.kind == kind)
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "")")
        }
    }
}
