import RealModule

/// Eigenvalues and (selected rows of) eigenvectors of a real symmetric tridiagonal matrix
///
///     T = tridiag(e, d, e),   T[i][i] = d[i],   T[i][i+1] = T[i+1][i] = e[i],
///
/// by the implicit QL algorithm with Wilkinson-type shifts (the classical EISPACK `tql2` iteration:
/// deflate where |e[i]| ≤ ε·(|d[i]| + |d[i+1]|), ε = 2⁻⁵², chase a plane-rotation bulge upwards).
/// T = Z·diag(λ)·Zᵀ with Z orthogonal; eigenvalues are returned ascending.
///
/// Only the rows of Z named in `rows` are accumulated, each costing O(m) per sweep: Lanczos needs
/// the last row (Ritz residuals |β·Z[m−1][i]|), stochastic Lanczos quadrature the first (weights
/// Z[0][i]²), Ritz vectors all rows. The matrix is scaled by its largest entry before iterating,
/// so entries near the overflow threshold are safe. Never traps: non-finite entries throw
/// `nonFinite`, inconsistent lengths or rows throw `invalidArgument`, and more than 50 QL sweeps
/// for one eigenvalue (not seen for finite input) throws `invalidArgument` naming the index.
public struct TridiagonalEigen: Sendable, Equatable {
    /// λ₀ ≤ λ₁ ≤ … ≤ λ_{m−1}. Ties keep the order in which QL deflated them.
    public let values: [Double]
    /// The rows of Z that were accumulated (indices into 0..<m).
    public let rows: [Int]
    /// Row-major rows.count × m: `components[r·m + i]` = Z[rows[r]][i], the rows[r]-th entry of the
    /// unit eigenvector of `values[i]`. The sign of each eigenvector is unspecified but
    /// deterministic.
    public let components: [Double]

    /// The order m of T.
    public var order: Int { values.count }

    /// Z[rows[r]][i], the entry at row `rows[r]` of eigenvector i.
    public func component(row r: Int, vector i: Int) -> Double { components[r * values.count + i] }

    /// The eigenvector of `values[i]` (requires that every row was accumulated, `rows == nil`).
    public func vector(_ i: Int) -> [Double] {
        rows.map { components[$0 * values.count + i] }
    }

    /// Decomposes T given its diagonal `diagonal` (length m ≥ 0) and off-diagonal `offDiagonal`
    /// (length max(m − 1, 0)). `rows`: the rows of Z to accumulate, nil = all m rows (in order).
    public init(diagonal: [Double], offDiagonal: [Double], rows: [Int]? = nil) throws(HLRError) {
        let m = diagonal.count
        guard offDiagonal.count == max(m - 1, 0) else {
            throw .invalid(
                "tridiagonal off-diagonal must have \(max(m - 1, 0)) entries for order \(m), got "
                    + "\(offDiagonal.count)")
        }
        let kept = rows ?? Array(0..<m)
        for (position, row) in kept.enumerated() where row < 0 || row >= m {
            throw .invalid("tridiagonal eigenvector row \(row) (rows[\(position)]) is outside 0..<\(m)")
        }
        var largest = 0.0
        for (index, value) in diagonal.enumerated() {
            guard value.isFinite else {
                throw HLRError(.nonFinite, "tridiagonal diagonal[\(index)] is not finite (\(value))")
            }
            largest = Swift.max(largest, value.magnitude)
        }
        for (index, value) in offDiagonal.enumerated() {
            guard value.isFinite else {
                throw HLRError(.nonFinite, "tridiagonal offDiagonal[\(index)] is not finite (\(value))")
            }
            largest = Swift.max(largest, value.magnitude)
        }
        let scale = largest > 0 ? largest : 1
        var d = diagonal.map { $0 / scale }
        var e = offDiagonal.map { $0 / scale } + (m > 0 ? [0] : [])
        // z[r*m + c]: row kept[r] of the accumulated rotation product, starting from I.
        var z = [Double](repeating: 0, count: kept.count * m)
        for (r, row) in kept.enumerated() { z[r * m + row] = 1 }
        try Self.implicitQL(&d, &e, &z, rowCount: kept.count)
        // Ascending order, ties by position (deterministic).
        let order = (0..<m).sorted { d[$0] < d[$1] || (d[$0] == d[$1] && $0 < $1) }
        values = order.map { d[$0] * scale }
        self.rows = kept
        var sorted = [Double](repeating: 0, count: z.count)
        for r in 0..<kept.count {
            for (target, source) in order.enumerated() { sorted[r * m + target] = z[r * m + source] }
        }
        components = sorted
    }

    /// The QL sweeps on the scaled d (diagonal) and e (e[i] couples i and i+1, e[m−1] = 0).
    private static func implicitQL(
        _ d: inout [Double], _ e: inout [Double], _ z: inout [Double], rowCount: Int
    ) throws(HLRError) {
        let m = d.count
        let epsilon = Double.ulpOfOne
        for l in 0..<m {
            var sweeps = 0
            while true {
                // Find the first negligible off-diagonal at or after l.
                var end = l
                while end < m - 1 {
                    let size = d[end].magnitude + d[end + 1].magnitude
                    if e[end].magnitude <= epsilon * size { break }
                    end += 1
                }
                if end == l { break }
                sweeps += 1
                guard sweeps <= 50 else {
                    throw .invalid("tridiagonal QL did not converge for eigenvalue \(l) of \(m) in 50 sweeps")
                }
                // Shift from the trailing 2×2 of the leading block: the eigenvalue of
                // [[d_l, e_l], [e_l, d_{l+1}]] closer to d_l.
                var g = (d[l + 1] - d[l]) / (2 * e[l])
                var radius = Double.hypot(g, 1)
                g = d[end] - d[l] + e[l] / (g + (g >= 0 ? radius : -radius))
                var sine = 1.0, cosine = 1.0, p = 0.0
                var i = end - 1
                var underflow = false
                while i >= l {
                    let f = sine * e[i]
                    let b = cosine * e[i]
                    radius = Double.hypot(f, g)
                    e[i + 1] = radius
                    if radius == 0 {
                        // The rotation underflowed: deflate here and restart the sweep.
                        d[i + 1] -= p
                        e[end] = 0
                        underflow = true
                        break
                    }
                    sine = f / radius
                    cosine = g / radius
                    g = d[i + 1] - p
                    radius = (d[i] - g) * sine + 2 * cosine * b
                    p = sine * radius
                    d[i + 1] = g + p
                    g = cosine * radius - b
                    for r in 0..<rowCount {
                        let base = r * m
                        let right = z[base + i + 1]
                        let left = z[base + i]
                        z[base + i + 1] = sine * left + cosine * right
                        z[base + i] = cosine * left - sine * right
                    }
                    i -= 1
                }
                if underflow { continue }
                d[l] -= p
                e[l] = g
                e[end] = 0
            }
        }
    }
}
