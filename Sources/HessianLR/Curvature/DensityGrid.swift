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
        var density = grid.map { t in
            var sum = 0.0
            for (runNodes, runWeights) in zip(nodes, weights) {
                for (theta, w) in zip(runNodes, runWeights) {
                    let x = (t - theta) / sigma
                    // exp(−x²/2) is exactly 0 in Double once x²/2 > 745.2 (below the smallest
                    // subnormal), so skipping those terms changes no bit and saves the exp.
                    let exponent = 0.5 * x * x
                    if exponent > 746 { continue }
                    sum += w * Double.exp(-exponent)
                }
            }
            return sum * norm
        }
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
}
