/// Dense linear least squares, min over β of ‖Xβ − y‖₂, for the small systems of the
/// loss-probe tuners (GeN, Hi-DLR: at most a few hundred unknowns).
///
/// Method: the columns of X are first scaled to unit Euclidean norm (so that the rank test does
/// not depend on the units of each unknown), then Householder QR with column pivoting
/// (Businger–Golub) factors X·S·P = Q·R. The numerical rank is the number of pivots with
/// |R_kk| > tolerance·|R_00|; a rank below the number of columns is reported, never solved
/// through (no minimum-norm guess). Full rank: R·z = (Qᵀy)[0..<p] by back substitution,
/// β = S·P·z, and the residual sum of squares is recomputed from the residuals y − Xβ.
///
/// Every loop runs in a fixed order, so the same inputs give the same bits on every call.
public enum LeastSquares {
    /// The result of `solve`.
    public struct Solution: Sendable, Equatable {
        /// β (one value per column), empty when the design is rank-deficient.
        public let coefficients: [Double]
        /// Numerical rank of the column-scaled design.
        public let rank: Int
        /// Number of unknowns p.
        public let columnCount: Int
        /// Σᵢ (yᵢ − (Xβ)ᵢ)², NaN when the design is rank-deficient.
        public let residualSumOfSquares: Double

        public var isRankDeficient: Bool { rank < columnCount }
    }

    /// Default relative pivot tolerance: a scaled design whose condition number exceeds about
    /// 10¹⁰ is treated as rank-deficient.
    public static let defaultTolerance = 1e-10

    /// Solves min ‖Xβ − y‖₂.
    ///
    /// - Parameters:
    ///   - design: X, `rows`×`columns`, row-major.
    ///   - observations: y, `rows` values.
    ///   - tolerance: relative pivot threshold in [0, 1).
    /// - Throws: `invalidArgument` for inconsistent sizes, fewer rows than columns or a bad
    ///   tolerance; `nonFinite` for NaN or ±Inf in X or y (each naming the entry).
    public static func solve(
        design: [Double], rows m: Int, columns p: Int, observations y: [Double],
        tolerance: Double = defaultTolerance
    ) throws(HLRError) -> Solution {
        guard p >= 1 else { throw .invalid("least squares needs at least 1 column, got \(p)") }
        guard m >= p else {
            throw .invalid("least squares needs at least as many rows as columns: \(m) rows, \(p) columns")
        }
        guard m <= Int.max / p, design.count == m * p else {
            throw .invalid("design has \(design.count) entries, expected \(m)×\(p)")
        }
        guard y.count == m else {
            throw .invalid("observations have \(y.count) values, expected \(m)")
        }
        guard tolerance >= 0 && tolerance < 1 else {
            throw .invalid("tolerance must be in [0, 1), got \(tolerance)")
        }
        for (index, value) in design.enumerated() where !value.isFinite {
            throw HLRError(.nonFinite, "design[\(index / p)][\(index % p)] is not finite: \(value)")
        }
        for (index, value) in y.enumerated() where !value.isFinite {
            throw HLRError(.nonFinite, "observation \(index) is not finite: \(value)")
        }

        // Column-major copy scaled to unit column norms.
        var a = [Double](repeating: 0, count: m * p)
        var scale = [Double](repeating: 1, count: p)
        for j in 0..<p {
            var largest = 0.0
            for i in 0..<m { largest = max(largest, abs(design[i * p + j])) }
            guard largest > 0 else { continue }  // zero column: left at zero, caught by the rank test
            var sum = 0.0
            for i in 0..<m {
                let v = design[i * p + j] / largest
                sum += v * v
            }
            scale[j] = largest * sum.squareRoot()
            for i in 0..<m { a[j * m + i] = design[i * p + j] / scale[j] }
        }
        var qty = y
        var permutation = Array(0..<p)
        var diagonal = [Double](repeating: 0, count: p)
        var rank = 0
        var firstPivot = 0.0
        for k in 0..<p {
            // Pivot: the remaining column of largest norm (recomputed, so rounding never drifts).
            var best = k
            var bestNorm = -1.0
            for j in k..<p {
                var sum = 0.0
                for i in k..<m { sum += a[j * m + i] * a[j * m + i] }
                if sum > bestNorm {
                    bestNorm = sum
                    best = j
                }
            }
            let norm = bestNorm.squareRoot()
            if k == 0 { firstPivot = norm }
            guard norm > 0, norm > tolerance * firstPivot else { break }
            if best != k {
                for i in 0..<m { a.swapAt(best * m + i, k * m + i) }
                permutation.swapAt(best, k)
                scale.swapAt(best, k)
            }
            // Householder vector v = x − α·e₁ with α = −sign(x₀)·‖x‖ (no cancellation).
            let x0 = a[k * m + k]
            let alpha = x0 >= 0 ? -norm : norm
            a[k * m + k] = x0 - alpha
            var vv = 0.0
            for i in k..<m { vv += a[k * m + i] * a[k * m + i] }
            if vv > 0 {
                for j in (k + 1)..<p {
                    var dot = 0.0
                    for i in k..<m { dot += a[k * m + i] * a[j * m + i] }
                    let factor = 2 * dot / vv
                    for i in k..<m { a[j * m + i] -= factor * a[k * m + i] }
                }
                var dot = 0.0
                for i in k..<m { dot += a[k * m + i] * qty[i] }
                let factor = 2 * dot / vv
                for i in k..<m { qty[i] -= factor * a[k * m + i] }
            }
            diagonal[k] = alpha
            rank = k + 1
        }
        guard rank == p else {
            return Solution(coefficients: [], rank: rank, columnCount: p, residualSumOfSquares: .nan)
        }
        // Back substitution R·z = (Qᵀy)[0..<p]; R's off-diagonal entries are a[j·m + k], j > k.
        var z = [Double](repeating: 0, count: p)
        for k in stride(from: p - 1, through: 0, by: -1) {
            var sum = qty[k]
            for j in (k + 1)..<p { sum -= a[j * m + k] * z[j] }
            z[k] = sum / diagonal[k]
        }
        var beta = [Double](repeating: 0, count: p)
        for k in 0..<p { beta[permutation[k]] = z[k] / scale[k] }
        var rss = 0.0
        for i in 0..<m {
            var fitted = 0.0
            for j in 0..<p { fitted += design[i * p + j] * beta[j] }
            let residual = y[i] - fitted
            rss += residual * residual
        }
        return Solution(coefficients: beta, rank: p, columnCount: p, residualSumOfSquares: rss)
    }
}
