/// The sketch shared by XTrace and XDiag (Epperly, Tropp, Webber 2024): Q R = AΩ for s test
/// vectors ω_i, built column by column by classical Gram–Schmidt applied twice (R accumulates
/// both passes), then Z = AQ and H = QᵀZ with the free symmetry check of H.
///
/// A column whose orthogonalised norm falls below 10⁻¹⁰ of ‖Aω_i‖ (or once n basis vectors span
/// the space) is dependent: it is not added and the sketch is marked rank-deficient, which sends
/// both estimators to their fallback. R is stored row-major with s columns but only min(s, n)
/// rows (R[a, i] at a·s + i): AΩ has rank ≤ n, so a budget far above 2n on a small operator never
/// allocates s² doubles.
struct SketchBasis<B: OperatorBackend> {
    let columns: Int
    let dimension: Int
    private(set) var basis: [B.Vector] = []
    private(set) var r: [Double]
    private(set) var fullRank = true

    init(columns s: Int, dimension n: Int) {
        columns = s
        dimension = n
        r = [Double](repeating: 0, count: Swift.min(s, n) * s)
    }

    var rank: Int { basis.count }

    /// Orthogonalises y = Aω_i (column i) against the basis. Independent: y is normalised and
    /// appended (it now belongs to the basis) and column i of R recorded; returns true.
    /// Dependent: nothing is recorded, the sketch becomes rank-deficient and y stays the
    /// caller's (a spare vector); returns false.
    mutating func add(_ y: B.Vector, column i: Int, session: BackendSession<B>) throws(HLRError) -> Bool {
        let before = try session.norm(y, "Aω\(i)")
        let first = try session.project(y, against: basis, "orth(AΩ) column \(i), pass 1")
        let second = try session.project(y, against: basis, "orth(AΩ) column \(i), pass 2")
        let after = try session.norm(y, "orthogonalised Aω\(i)")
        // n orthonormal vectors span the space: a further column is in their span whatever
        // rounding leaves of it (and R has only min(s, n) rows).
        guard basis.count < dimension, after > 1e-10 * before, after > 0 else {
            fullRank = false
            return false
        }
        for a in basis.indices { r[a * columns + i] = first[a] + second[a] }
        r[basis.count * columns + i] = after
        try session.backend.scale(1 / after, y)
        basis.append(y)
        return true
    }

    /// Z = AQ (k HVPs, in blocks: `BackendSession.apply(block:into:)`) and H = QᵀZ (k×k,
    /// row-major), and the check that H is symmetric within `symmetryTolerance` relative to
    /// max_b ‖Aq_b‖ (`SymmetryCheck`; measured, k dots and no HVP, also when the tolerance is +∞
    /// and nothing can fail). Returns Z, H and the largest relative asymmetry measured.
    func projection(
        _ session: BackendSession<B>, symmetryTolerance: Double
    ) throws(HLRError) -> (z: [B.Vector], h: SketchMatrix, maxAsymmetry: Double) {
        var symmetry = SymmetryCheck(tolerance: symmetryTolerance)
        let k = basis.count
        var z: [B.Vector] = []
        var h = [Double](repeating: 0, count: k * k)
        var scale = 0.0
        for _ in 0..<k { z.append(try session.scratch()) }
        try session.apply(block: basis, into: z)  // in blocks of the session's block size
        for (b, product) in z.enumerated() {
            scale = Swift.max(scale, try session.norm(product, "Aq\(b)"))
        }
        for b in 0..<k {  // column b: one multiDot against Aq_b
            let column = try session.dots(basis, z[b]) { "q\($0)ᵀAq\(b)" }
            for a in 0..<k { h[a * k + b] = column[a] }
        }
        try symmetry.checkProjection(session, h, size: k, scale: scale)
        return (z, SketchMatrix(h, size: k), symmetry.maxAsymmetry)
    }
}

/// A k×k row-major matrix of the sketch's small algebra (H = QᵀAQ), with the products XTrace and
/// XDiag take of it, each summed in index order (deterministic bits).
struct SketchMatrix {
    /// Row-major, `size`² elements: H_ab at a·size + b.
    let values: [Double]
    let size: Int

    init(_ values: [Double], size: Int) {
        self.values = values
        self.size = size
    }

    /// tr(H) = Σ_a H_aa.
    var trace: Double {
        var sum = 0.0
        for a in 0..<size { sum += values[a * size + a] }
        return sum
    }

    /// H·v.
    func times(_ v: [Double]) -> [Double] {
        (0..<size).map { a in (0..<size).reduce(0.0) { $0 + values[a * size + $1] * v[$1] } }
    }

    /// Hᵀ·v.
    func transposeTimes(_ v: [Double]) -> [Double] {
        (0..<size).map { a in (0..<size).reduce(0.0) { $0 + values[$1 * size + a] * v[$1] } }
    }
}
