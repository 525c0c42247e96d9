/// Eigendecomposition A = V·diag(λ)·Vᵀ of a small dense symmetric matrix by the cyclic Jacobi
/// method (Golub & Van Loan, Matrix Computations, §8.5): sweeps over all pairs p < q apply the
/// rotation that zeroes a_pq, until the off-diagonal Frobenius norm is at most
/// 10⁻¹⁵·‖A‖_F (Jacobi converges quadratically; a handful of sweeps for the sizes used here).
/// Used by Hi-DLR's full-A model (K ≤ 16) to project A onto the positive-definite cone.
///
/// Deterministic: fixed sweep order, no randomness, plain IEEE arithmetic.
public enum SymmetricEigen {
    /// The result of `decompose`.
    public struct Decomposition: Sendable, Equatable {
        public let dimension: Int
        /// λ, ascending.
        public let values: [Double]
        /// V, n×n row-major: column j (entries vectors[i·n + j]) is the unit eigenvector of
        /// values[j]; V is orthogonal.
        public let vectors: [Double]
        /// Jacobi sweeps performed.
        public let sweeps: Int

        /// V·diag(f(λ))·Vᵀ·x: applies a spectral function (e.g. 1/λ for A⁻¹x).
        public func apply(_ x: [Double], spectral f: (Double) -> Double) -> [Double] {
            let n = dimension
            var coordinates = [Double](repeating: 0, count: n)
            for j in 0..<n {
                var sum = 0.0
                for i in 0..<n { sum += vectors[i * n + j] * x[i] }
                coordinates[j] = f(values[j]) * sum
            }
            var result = [Double](repeating: 0, count: n)
            for i in 0..<n {
                var sum = 0.0
                for j in 0..<n { sum += vectors[i * n + j] * coordinates[j] }
                result[i] = sum
            }
            return result
        }
    }

    /// Largest dimension accepted (a sweep costs O(n³)).
    public static let maxDimension = 512
    /// Sweeps after which the iteration stops even if not converged (never reached in practice).
    public static let maxSweeps = 64

    /// Decomposes the symmetric matrix `matrix` (n×n, row-major).
    ///
    /// - Throws: `invalidArgument` for a wrong size or an asymmetric matrix (|a_ij − a_ji| >
    ///   10⁻¹²·max|a|, naming the entry); `nonFinite` for NaN or ±Inf entries. The strictly
    ///   upper triangle is used.
    public static func decompose(_ matrix: [Double], dimension n: Int) throws(HLRError) -> Decomposition {
        guard n >= 1 && n <= maxDimension else {
            throw .invalid("dimension must be in [1, \(maxDimension)], got \(n)")
        }
        guard matrix.count == n * n else {
            throw .invalid("matrix has \(matrix.count) entries, expected \(n)×\(n)")
        }
        var largest = 0.0
        for (index, value) in matrix.enumerated() {
            guard value.isFinite else {
                throw HLRError(.nonFinite, "matrix[\(index / n)][\(index % n)] is not finite: \(value)")
            }
            largest = max(largest, abs(value))
        }
        for i in 0..<n {
            for j in (i + 1)..<n where abs(matrix[i * n + j] - matrix[j * n + i]) > 1e-12 * largest {
                throw .invalid(
                    "matrix is not symmetric: [\(i)][\(j)] = \(matrix[i * n + j]), [\(j)][\(i)] = "
                        + "\(matrix[j * n + i])")
            }
        }
        var a = matrix
        for i in 0..<n {
            for j in (i + 1)..<n { a[j * n + i] = a[i * n + j] }
        }
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        // Norms are taken of A/max|a| so that squares neither overflow nor underflow.
        let unit = largest > 0 ? largest : 1
        var frobenius = 0.0
        for value in a { frobenius += (value / unit) * (value / unit) }
        frobenius = frobenius.squareRoot()
        var sweeps = 0
        while sweeps < maxSweeps {
            var off = 0.0
            for p in 0..<n {
                for q in (p + 1)..<n { off += (a[p * n + q] / unit) * (a[p * n + q] / unit) }
            }
            if (2 * off).squareRoot() <= 1e-15 * frobenius { break }
            sweeps += 1
            for p in 0..<n {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    if apq == 0 { continue }
                    // Rotation J(p, q, θ) with JᵀAJ having a zero at (p, q).
                    let tau = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t: Double
                    if abs(tau) > 1e150 {
                        t = 1 / (2 * tau)  // √(1 + τ²) would overflow; t ≈ 1/(2τ)
                    } else {
                        let root = (1 + tau * tau).squareRoot()
                        t = tau >= 0 ? 1 / (tau + root) : -1 / (-tau + root)
                    }
                    let c = 1 / (1 + t * t).squareRoot()
                    let s = t * c
                    for k in 0..<n {  // A ← A·J (columns p and q)
                        let akp = a[k * n + p]
                        let akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {  // A ← Jᵀ·A (rows p and q)
                        let apk = a[p * n + k]
                        let aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    a[p * n + q] = 0
                    a[q * n + p] = 0
                    for k in 0..<n {  // V ← V·J
                        let vkp = v[k * n + p]
                        let vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        // Ascending order; equal values keep their index order.
        let order = (0..<n).sorted { lhs, rhs in
            let l = a[lhs * n + lhs]
            let r = a[rhs * n + rhs]
            return l < r || (l == r && lhs < rhs)
        }
        var values = [Double](repeating: 0, count: n)
        var vectors = [Double](repeating: 0, count: n * n)
        for (column, source) in order.enumerated() {
            values[column] = a[source * n + source]
            for i in 0..<n { vectors[i * n + column] = v[i * n + source] }
        }
        return Decomposition(dimension: n, values: values, vectors: vectors, sweeps: sweeps)
    }
}
