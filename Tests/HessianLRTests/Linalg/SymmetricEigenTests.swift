import Testing
@testable import HessianLR

/// Cyclic Jacobi: known spectra, orthogonality, reconstruction, errors.
@Suite struct SymmetricEigenTests {
    static func reconstruct(_ e: SymmetricEigen.Decomposition) -> [Double] {
        let n = e.dimension
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var sum = 0.0
                for k in 0..<n { sum += e.vectors[i * n + k] * e.values[k] * e.vectors[j * n + k] }
                a[i * n + j] = sum
            }
        }
        return a
    }

    @Test func twoByTwo() throws {
        let e = try SymmetricEigen.decompose([2, 1, 1, 2], dimension: 2)
        #expect(abs(e.values[0] - 1) < 1e-15 && abs(e.values[1] - 3) < 1e-15)
        let r = 0.5.squareRoot()
        #expect(abs(abs(e.vectors[0]) - r) < 1e-15 && abs(abs(e.vectors[2]) - r) < 1e-15)
        #expect(abs(e.vectors[0] + e.vectors[2]) < 1e-15)  // (1, −1)/√2 up to sign
        #expect(abs(e.vectors[1] - e.vectors[3]) < 1e-15)  // (1, 1)/√2 up to sign
    }

    @Test func diagonalIsSortedWithoutRotations() throws {
        let e = try SymmetricEigen.decompose([3, 0, 0, 0, -1, 0, 0, 0, 2], dimension: 3)
        #expect(e.values == [-1, 2, 3])
        #expect(e.sweeps == 0)
        #expect(e.vectors == [0, 0, 1, 1, 0, 0, 0, 1, 0])
    }

    @Test func knownSpectrumThroughAReflection() throws {
        // A = Q·diag(λ)·Qᵀ with Q = I − 2vvᵀ/vᵀv: eigenvalues λ exactly, indefinite included.
        let lambda: [Double] = [-4, 0.5, 1, 7, 30]
        let v: [Double] = [1, -2, 0.5, 3, 1]
        let n = 5
        let vv = v.reduce(0) { $0 + $1 * $1 }
        var q = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { q[i * n + j] = (i == j ? 1 : 0) - 2 * v[i] * v[j] / vv } }
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var sum = 0.0
                for k in 0..<n { sum += q[i * n + k] * lambda[k] * q[j * n + k] }
                a[i * n + j] = sum
            }
        }
        for i in 0..<n { for j in 0..<i { a[i * n + j] = a[j * n + i] } }
        let e = try SymmetricEigen.decompose(a, dimension: n)
        for (value, expected) in zip(e.values, lambda) { #expect(abs(value - expected) < 1e-12) }
        let back = Self.reconstruct(e)
        for (x, y) in zip(back, a) { #expect(abs(x - y) < 1e-12) }
        for i in 0..<n {  // VᵀV = I
            for j in 0..<n {
                var sum = 0.0
                for k in 0..<n { sum += e.vectors[k * n + i] * e.vectors[k * n + j] }
                #expect(abs(sum - (i == j ? 1 : 0)) < 1e-13)
            }
        }
    }

    @Test func applySolvesWithTheInverse() throws {
        let a: [Double] = [4, 1, 0, 1, 3, 1, 0, 1, 2]
        let e = try SymmetricEigen.decompose(a, dimension: 3)
        let b: [Double] = [1, 2, 3]
        let x = e.apply(b) { 1 / $0 }
        for i in 0..<3 {
            let ax = (0..<3).reduce(0.0) { $0 + a[i * 3 + $1] * x[$1] }
            #expect(abs(ax - b[i]) < 1e-13)
        }
    }

    @Test func randomSymmetricMatricesReconstruct() throws {
        var generator = SplitMix(seed: 11)
        for n in [1, 2, 3, 8, 16] {
            var a = [Double](repeating: 0, count: n * n)
            for i in 0..<n { for j in i..<n { a[i * n + j] = generator.nextSigned(); a[j * n + i] = a[i * n + j] } }
            let e = try SymmetricEigen.decompose(a, dimension: n)
            #expect(e.values == e.values.sorted())
            for (x, y) in zip(Self.reconstruct(e), a) { #expect(abs(x - y) < 1e-12) }
            #expect(e.sweeps < 20)
        }
    }

    @Test func malformedInputsAreNamed() {
        let asymmetric = #expect(throws: HLRError.self) { try SymmetricEigen.decompose([1, 2, 3, 4], dimension: 2) }
        #expect(asymmetric?.message.contains("not symmetric") == true)
        let nan = #expect(throws: HLRError.self) { try SymmetricEigen.decompose([1, .nan, .nan, 1], dimension: 2) }
        #expect(nan?.kind == .nonFinite)
        let size = #expect(throws: HLRError.self) { try SymmetricEigen.decompose([1, 2, 3], dimension: 2) }
        #expect(size?.message.contains("3 entries") == true)
        #expect(throws: HLRError.self) { try SymmetricEigen.decompose([], dimension: 0) }
    }
}
