import RealModule

/// Options of `DensityGrid.init(smoothing:options:)`.
public struct DensityGridOptions: Sendable, Equatable {
    /// Grid points (default 1000; 2 ≤ points ≤ 10⁷), uniformly spaced.
    public var points = 1000
    /// Gaussian width σ in eigenvalue units (nil, default: 1% of the node spread
    /// max θ − min θ, or 1% of max(|θ|, 1) when all nodes coincide).
    public var sigma: Double?
    /// Grid ends (nil, default: min θ − 5σ and max θ + 5σ, so that the smoothed mass outside the
    /// grid is below 3·10⁻⁷).
    public var lower: Double?
    public var upper: Double?

    public init() {}
}

/// A spectral density on a grid, from quadrature rules (`SpectralQuadrature`):
///
///     φ(t) = (1/n_v) Σ_r Σᵢ w_{r,i} · exp(−(t − θ_{r,i})² / 2σ²) / (σ√(2π)),
///
/// which integrates to 1 over ℝ because each run's weights sum to 1. Normalisation: the values are
/// then divided by their trapezoidal integral over the grid, so that
/// Σ_g ½(φ_g + φ_{g+1})·(t_{g+1} − t_g) = 1 exactly up to rounding (the correction is tiny with
/// the default 5σ margins; it matters only when the caller cuts the range).
public struct DensityGrid: Sendable, Equatable {
    /// t_g, ascending, uniformly spaced.
    public var grid: [Double]
    /// φ(t_g), in 1/eigenvalue units.
    public var density: [Double]
    /// The σ used.
    public var sigma: Double

    public init(
        smoothing quadrature: SpectralQuadrature, options: DensityGridOptions = DensityGridOptions()
    ) throws(HLRError) {
        try self.init(nodes: quadrature.nodes, weights: quadrature.weights, options: options)
    }

    /// From per-run nodes and weights (equal shapes, at least one node).
    public init(
        nodes: [[Double]], weights: [[Double]], options: DensityGridOptions = DensityGridOptions()
    ) throws(HLRError) {
        guard nodes.count == weights.count, !nodes.isEmpty,
            zip(nodes, weights).allSatisfy({ $0.count == $1.count && !$0.isEmpty })
        else { throw .invalid("density: nodes and weights must have the same non-empty shape per run") }
        let all = nodes.joined()
        guard all.allSatisfy(\.isFinite), weights.joined().allSatisfy(\.isFinite) else {
            throw HLRError(.nonFinite, "density: a node or weight is not finite")
        }
        guard options.points >= 2, options.points <= 10_000_000 else {
            throw .invalid("density: points must be in 2...10000000, got \(options.points)")
        }
        let low = all.min() ?? 0, high = all.max() ?? 0
        let spread = high - low
        let sigma = options.sigma ?? (spread > 0 ? 0.01 * spread : 0.01 * Swift.max(high.magnitude, low.magnitude, 1))
        guard sigma > 0, sigma.isFinite else { throw .invalid("density: sigma must be finite and > 0, got \(sigma)") }
        let lower = options.lower ?? low - 5 * sigma
        let upper = options.upper ?? high + 5 * sigma
        guard lower.isFinite, upper.isFinite, upper > lower else {
            throw .invalid("density: the grid needs lower < upper, got [\(lower), \(upper)]")
        }
        let step = (upper - lower) / Double(options.points - 1)
        let grid = (0..<options.points).map { $0 == options.points - 1 ? upper : lower + Double($0) * step }
        let norm = 1 / (sigma * (2 * Double.pi).squareRoot() * Double(nodes.count))
        var density = Self.gaussianSum(
            nodes: Array(nodes.joined()), weights: Array(weights.joined()), at: grid, sigma: sigma, scale: norm)
        var integral = 0.0
        for g in 0..<(grid.count - 1) { integral += 0.5 * (density[g] + density[g + 1]) * (grid[g + 1] - grid[g]) }
        guard integral > 0, integral.isFinite else {
            throw .invalid("density: the grid [\(lower), \(upper)] holds no mass (integral \(integral))")
        }
        density = density.map { $0 / integral }
        self.grid = grid
        self.density = density
        self.sigma = sigma
    }

    /// scale · Σᵢ wᵢ·exp(−(t − θᵢ)²/2σ²) at every t of `points`, summed in the order of the nodes
    /// (the smoothing of `init`, where scale = 1/(σ√(2π)·runs); with the measure's weights
    /// wᵢ/runs and scale = 1/(σ√(2π)) it is the density φ(t) without renormalisation,
    /// `hlr_density_smooth`). Terms whose exp is exactly 0 in Double (x²/2 > 745.2, below the
    /// smallest subnormal) are skipped, which changes no bit. Work: points × nodes terms.
    public static func gaussianSum(
        nodes: [Double], weights: [Double], at points: [Double], sigma: Double, scale: Double
    ) -> [Double] {
        points.map { t in
            var sum = 0.0
            for (theta, w) in zip(nodes, weights) {
                let x = (t - theta) / sigma
                let exponent = 0.5 * x * x
                if exponent > 746 { continue }
                sum += w * Double.exp(-exponent)
            }
            return sum * scale
        }
    }

    /// The density φ(t) = Σᵢ wᵢ·N(t; θᵢ, σ²) of a measure (nodes θᵢ, weights wᵢ) at `points`,
    /// without renormalisation: checks the inputs (equal, non-zero counts; everything finite;
    /// σ > 0; at most `EstimatorConfig.maxSmoothingPairs` terms) and the result (finite).
    public static func density(
        nodes: [Double], weights: [Double], at points: [Double], sigma: Double
    ) throws(HLRError) -> [Double] {
        guard !nodes.isEmpty, nodes.count == weights.count else {
            throw .invalid("density: \(nodes.count) nodes and \(weights.count) weights; both must be the same, ≥ 1")
        }
        guard !points.isEmpty else { throw .invalid("density: no points to evaluate at") }
        guard sigma > 0, sigma.isFinite else { throw .invalid("density: sigma must be finite and > 0, got \(sigma)") }
        for (index, value) in nodes.enumerated() where !value.isFinite {
            throw HLRError(.nonFinite, "density: nodes[\(index)] = \(value)")
        }
        for (index, value) in weights.enumerated() where !value.isFinite {
            throw HLRError(.nonFinite, "density: weights[\(index)] = \(value)")
        }
        for (index, value) in points.enumerated() where !value.isFinite {
            throw HLRError(.nonFinite, "density: points[\(index)] = \(value)")
        }
        let (pairs, overflow) = nodes.count.multipliedReportingOverflow(by: points.count)
        guard !overflow, pairs <= EstimatorConfig.maxSmoothingPairs else {
            throw .invalid(
                "density: \(nodes.count) nodes × \(points.count) points is more than "
                    + "\(EstimatorConfig.maxSmoothingPairs) terms")
        }
        let values = gaussianSum(
            nodes: nodes, weights: weights, at: points, sigma: sigma, scale: 1 / (sigma * (2 * Double.pi).squareRoot()))
        for (index, value) in values.enumerated() where !value.isFinite {
            throw HLRError(.nonFinite, "density: the value at points[\(index)] overflows (\(value))")
        }
        return values
    }
}
