/// The quadratic L(ξ) ≈ c − Σ_k b_k ξ_k + ½ ξᵀAξ fitted at the last update of GeN or Hi-DLR, in
/// each group's step units ξ_k (`InfoKey.fitIntercept`, `.fitSlope`, `.fitCurvature`, `.fitR2`):
/// c in loss units, b_k in loss per step, A in loss per step², R² of the fit. NaN before the
/// first fit and after a rank-deficient one.
struct FitLog: Sendable, Equatable {
    /// How the curvature is stored.
    enum Shape: Sendable, Equatable {
        /// a_k, one value per group (GeN).
        case perGroup
        /// A, K×K row-major (Hi-DLR).
        case matrix
    }

    let shape: Shape
    private(set) var intercept = Double.nan
    private(set) var slope: [Double]
    private(set) var curvature: [Double]
    private(set) var r2 = Double.nan

    /// No fit yet for `groups` groups.
    init(groups: Int, shape: Shape) {
        self.shape = shape
        slope = Array(repeating: .nan, count: groups)
        curvature = Array(repeating: .nan, count: Self.curvatureCount(groups: groups, shape: shape))
    }

    private static func curvatureCount(groups: Int, shape: Shape) -> Int {
        shape == .matrix ? groups * groups : groups
    }

    /// Records a fit: c, b (K values) and the curvature in this log's shape, R².
    mutating func record(intercept: Double, slope: [Double], curvature: [Double], r2: Double) {
        self.intercept = intercept
        self.slope = slope
        self.curvature = curvature
        self.r2 = r2
    }

    /// c, b_k, A_kk or R² for those four keys; nil for any other.
    func info(_ key: InfoKey, group: Int) -> Double? {
        switch key {
        case .fitIntercept: return intercept
        case .fitSlope: return slope[group]
        case .fitCurvature: return shape == .matrix ? curvature[group * slope.count + group] : curvature[group]
        case .fitR2: return r2
        default: return nil
        }
    }

    /// Payload fields: fit_intercept, fit_slope (K doubles), fit_curvature (K or K² doubles),
    /// fit_r2.
    func encode(into writer: inout SnapshotWriter) {
        writer.write(intercept)
        writer.write(slope)
        writer.write(curvature)
        writer.write(r2)
    }

    /// Reads what `encode` wrote for `groups` groups.
    static func decode(from reader: inout SnapshotReader, groups: Int, shape: Shape) throws(HLRError) -> FitLog {
        var log = FitLog(groups: groups, shape: shape)
        log.intercept = try reader.readDouble("fit_intercept")
        log.slope = try reader.readDoubles("fit_slope", count: groups)
        log.curvature = try reader.readDoubles(
            "fit_curvature", count: curvatureCount(groups: groups, shape: shape))
        log.r2 = try reader.readDouble("fit_r2")
        return log
    }
}
