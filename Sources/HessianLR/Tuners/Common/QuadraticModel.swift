/// A quadratic model of the loss over probe coordinates r ∈ ℝᴷ, fitted by least squares to
/// forward losses (GeN with one coordinate, Hi-DLR with one per group):
///
///     L(r) ≈ c − Σ_k β_k r_k + ½ Σ_k Σ_l α_kl r_k r_l          (α symmetric)
///
/// - `diagonal`: α is diagonal, 2K + 1 unknowns (c, β_k, α_kk).
/// - `full`: every α_kl, K(K+1)/2 + K + 1 unknowns; the cross term α_kl r_k r_l (k < l) is one
///   unknown since ½(α_kl + α_lk)·r_k r_l = α_kl·r_k r_l.
///
/// Design row of probe r (unknowns in this order): [1, −r_0, …, −r_{K−1}, ½r_0², …, ½r_{K−1}²,
/// r_0r_1, r_0r_2, …, r_{K−2}r_{K−1}]. The losses are centred on their mean ȳ before the solve
/// (c = ȳ + fitted intercept) to keep large loss values from swamping small differences.
/// R² = 1 − RSS/TSS with TSS = Σ (y_j − ȳ)² (when TSS = 0: 1 if RSS = 0, else 0, the
/// scikit-learn convention GeN's reference uses).
///
/// `resolution` = 10⁻¹²·max_j |L_j| is the size below which a coefficient is rounding noise
/// (|r| ≤ 1, so a term contributes at most |coefficient| to the loss): the rules treat a curvature
/// or slope of at most that magnitude as zero, so an exactly linear or flat loss is decided the
/// same way whatever the sign of its rounding error.
///
/// The coordinates are the tuner's dimensionless probe units (probe step / (scale·lr_k)), so the
/// columns are O(1) whatever the learning rates; the tuner converts to step units.
public struct QuadraticModel: Sendable, Equatable {
    public enum Kind: Int, Sendable, CaseIterable {
        case diagonal = 0
        case full = 1
    }

    public let kind: Kind
    public let dimension: Int
    /// c (loss units). NaN when rank-deficient.
    public let intercept: Double
    /// β (K values). NaN when rank-deficient.
    public let slope: [Double]
    /// α, K×K row-major, symmetric (zero off the diagonal for `diagonal`). NaN when
    /// rank-deficient.
    public let curvature: [Double]
    /// R² of the fit, NaN when rank-deficient.
    public let r2: Double
    /// 10⁻¹²·max_j |L_j|: coefficients up to this magnitude are indistinguishable from 0.
    public let resolution: Double
    /// Numerical rank of the design and number of unknowns.
    public let rank: Int
    public let unknowns: Int

    public var isRankDeficient: Bool { rank < unknowns }

    /// Whether `coefficient` is positive beyond rounding noise (> `resolution`).
    public func isPositive(_ coefficient: Double) -> Bool { coefficient > resolution }

    /// Whether `coefficient` is zero up to rounding noise (|·| ≤ `resolution`).
    public func isZero(_ coefficient: Double) -> Bool { abs(coefficient) <= resolution }

    /// Unknowns of a model of `kind` over `dimension` coordinates.
    public static func unknowns(kind: Kind, dimension k: Int) -> Int {
        switch kind {
        case .diagonal: return 2 * k + 1
        case .full: return 1 + k + k * (k + 1) / 2
        }
    }

    /// Fits the model to `losses[j]` observed at `probes[j]` (each of `dimension` coordinates).
    ///
    /// - Throws: `invalidArgument` when the counts disagree or there are fewer probes than
    ///   unknowns; `nonFinite` for NaN or ±Inf inputs. A rank-deficient design is not an error:
    ///   the result reports it (`isRankDeficient`) with NaN coefficients.
    public static func fit(
        probes: [[Double]], losses: [Double], kind: Kind, dimension k: Int
    ) throws(HLRError) -> QuadraticModel {
        let m = probes.count
        let p = unknowns(kind: kind, dimension: k)
        guard losses.count == m else {
            throw .invalid("\(losses.count) losses for \(m) probes")
        }
        guard m >= p else {
            throw .invalid("a \(kind) quadratic in \(k) coordinates has \(p) unknowns, got only \(m) probes")
        }
        var design: [Double] = []
        design.reserveCapacity(m * p)
        for (j, r) in probes.enumerated() {
            guard r.count == k else {
                throw .invalid("probe \(j) has \(r.count) coordinates, expected \(k)")
            }
            design.append(1)
            for value in r { design.append(-value) }
            for value in r { design.append(0.5 * value * value) }
            if kind == .full {
                for a in 0..<k {
                    for b in (a + 1)..<k { design.append(r[a] * r[b]) }
                }
            }
        }
        var sum = 0.0
        var largest = 0.0
        for y in losses {
            sum += y
            largest = max(largest, abs(y))
        }
        let resolution = 1e-12 * largest
        let mean = sum / Double(m)
        let centred = losses.map { $0 - mean }
        let solution = try LeastSquares.solve(design: design, rows: m, columns: p, observations: centred)
        guard !solution.isRankDeficient else {
            return QuadraticModel(
                kind: kind, dimension: k, intercept: .nan, slope: Array(repeating: .nan, count: k),
                curvature: Array(repeating: .nan, count: k * k), r2: .nan, resolution: resolution,
                rank: solution.rank, unknowns: p)
        }
        let beta = solution.coefficients
        var curvature = [Double](repeating: 0, count: k * k)
        for a in 0..<k { curvature[a * k + a] = beta[1 + k + a] }
        if kind == .full {
            var index = 1 + 2 * k
            for a in 0..<k {
                for b in (a + 1)..<k {
                    curvature[a * k + b] = beta[index]
                    curvature[b * k + a] = beta[index]
                    index += 1
                }
            }
        }
        var tss = 0.0
        for y in centred { tss += y * y }
        let rss = solution.residualSumOfSquares
        let r2 = tss > 0 ? 1 - rss / tss : (rss == 0 ? 1 : 0)
        return QuadraticModel(
            kind: kind, dimension: k, intercept: beta[0] + mean, slope: Array(beta[1...k]),
            curvature: curvature, r2: r2, resolution: resolution, rank: p, unknowns: p)
    }
}
