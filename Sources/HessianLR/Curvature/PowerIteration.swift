/// Options of `PowerIteration.eigenpairs` (PyHessian `hessian.eigenvalues` defaults).
public struct PowerIterationOptions: Sendable, Equatable {
    /// k, eigenpairs wanted (default 1; 1 ≤ k ≤ n), found one after another by deflation.
    public var count = 1
    /// Relative-change tolerance (default 1e-3): pair p stops at iteration t ≥ 1 when
    /// |λ_t − λ_{t−1}| / (|λ_{t−1}| + 10⁻⁶) < tolerance (PyHessian's rule).
    public var tolerance = 1e-3
    /// HVPs per eigenpair at most (default 100).
    public var maxIterations = 100
    /// Probe seed (default 0): pair p starts from probe p of stream `.powerIterationStart`.
    public var seed: UInt64 = 0
    /// Start-vector distribution (default Gaussian, as PyHessian's `torch.randn`).
    public var distribution = ProbeDistribution.gaussian
    /// Whether to return the eigenvectors (default false).
    public var computeVectors = false
    /// Largest tolerated relative asymmetry of consecutive iterates,
    /// |v_tᵀ(H v_{t+1}) − (H v_t)ᵀv_{t+1}| / max(‖Hv_t‖, ‖Hv_{t+1}‖) (default 1e-3, as Lanczos;
    /// `.infinity` disables it). No extra HVP: two more vectors, two copies and two dots per
    /// iteration. The iterates align as the iteration converges, so the check sees asymmetry in
    /// the first iterations mostly.
    public var symmetryTolerance = 1e-3

    public init() {}
}

/// The outcome of `PowerIteration.eigenpairs`.
public struct PowerIterationResult<Vector> {
    /// λ₁, …, λ_k in the order found (each the largest in magnitude on the deflated space).
    public var eigenvalues: [Double]
    /// ‖H v − λ v‖ of each pair's last iterate v, from ‖Hv‖² − λ² (no extra HVP).
    public var residuals: [Double]
    /// The largest relative asymmetry measured (see `PowerIterationOptions.symmetryTolerance`).
    public var maxAsymmetry = 0.0
    /// Unit eigenvector estimates (empty unless `computeVectors`); owned by the caller.
    public var eigenvectors: [Vector]
    /// HVPs spent on each pair.
    public var iterations: [Int]
    /// Whether each pair met the relative-change tolerance before `maxIterations`.
    public var converged: [Bool]
    public var hvpCount: Int
}

/// Power iteration with deflation, the method of PyHessian (`hessian.eigenvalues`) and
/// hessian-eigenthings, kept for comparison with `Lanczos`, which reaches far higher accuracy per
/// HVP. For pair p: v ← probe p, v ← v/‖v‖; then repeat
///     v ← v − Σ_{found u} (uᵀv) u,  v ← v/‖v‖   (deflation by projection, as PyHessian)
///     w = H v (one HVP),  λ = vᵀw,  r = √max(‖w‖² − λ², 0),  v ← w/‖w‖
/// until the relative change of λ is below `tolerance` or `maxIterations` HVPs. Converges to the
/// largest-magnitude eigenvalue of the deflated operator at rate |λ₂/λ₁| per HVP. If w = 0 (v in
/// the null space) the pair stops with λ = 0 and v kept.
public enum PowerIteration {
    /// Throws `invalidArgument` for n = 0, k ∉ 1...n or bad options; `nonFinite`/backend errors as
    /// `Lanczos` does.
    public static func eigenpairs<B: OperatorBackend>(
        of backend: B, options: PowerIterationOptions = PowerIterationOptions()
    ) throws(HLRError) -> PowerIterationResult<B.Vector> {
        let n = try backend.checkedDimension(estimator: "power iteration")
        guard options.count >= 1, options.count <= n else {
            throw .invalid("power iteration: count (k) must be in 1...\(n) (the dimension), got \(options.count)")
        }
        guard options.tolerance >= 0, options.tolerance.isFinite else {
            throw .invalid("power iteration: tolerance must be finite and ≥ 0, got \(options.tolerance)")
        }
        guard options.maxIterations >= 1 else {
            throw .invalid("power iteration: maxIterations must be ≥ 1, got \(options.maxIterations)")
        }
        try SymmetryCheck.validate(options.symmetryTolerance, estimator: "power iteration")
        let session = BackendSession(backend, estimator: "power iteration")
        defer { session.close() }
        var found: [B.Vector] = []
        var result = PowerIterationResult<B.Vector>(
            eigenvalues: [], residuals: [], eigenvectors: [], iterations: [], converged: [], hvpCount: 0)
        let w = try session.scratch()
        // The previous iterate and its product, for the free symmetry check.
        let checking = options.symmetryTolerance.isFinite
        let previousV = checking ? try session.scratch() : nil
        let previousW = checking ? try session.scratch() : nil
        var symmetry = SymmetryCheck(tolerance: options.symmetryTolerance)
        for pair in 0..<options.count {
            let v = options.computeVectors ? try session.result() : try session.scratch()
            try session.probe(
                v, seed: options.seed, stream: .powerIterationStart, index: pair,
                distribution: options.distribution)
            var previous: Double?
            var lambda = 0.0, residual = 0.0
            var iterations = 0
            var converged = false
            var previousNorm = 0.0
            while iterations < options.maxIterations {
                for (index, u) in found.enumerated() {
                    let c = try session.dot(u, v, "u\(index)ᵀv (deflation, pair \(pair))")
                    try backend.axpy(-c, u, v)
                }
                let norm = try session.norm(v, "v (pair \(pair))")
                guard norm > 0 else { break }
                try backend.scale(1 / norm, v)
                try session.apply(v, into: w)
                iterations += 1
                lambda = try session.dot(v, w, "vᵀHv (pair \(pair), iteration \(iterations))")
                let hvNorm = try session.norm(w, "Hv (pair \(pair), iteration \(iterations))")
                residual = Swift.max(hvNorm * hvNorm - lambda * lambda, 0).squareRoot()
                if let previousV, let previousW {
                    if iterations > 1 {
                        try symmetry.check(
                            session, x: "v\(iterations - 1)", y: "v\(iterations)",
                            xHy: try session.dot(previousV, w, "v\(iterations - 1)ᵀHv\(iterations) (pair \(pair))"),
                            hxY: try session.dot(previousW, v, "(Hv\(iterations - 1))ᵀv\(iterations) (pair \(pair))"),
                            scale: Swift.max(previousNorm, hvNorm))
                    }
                    try backend.copy(v, to: previousV)
                    try backend.copy(w, to: previousW)
                    previousNorm = hvNorm
                }
                if hvNorm == 0 {
                    converged = true
                    break
                }
                try backend.copy(w, to: v)
                try backend.scale(1 / hvNorm, v)
                if let last = previous, (lambda - last).magnitude / (last.magnitude + 1e-6) < options.tolerance {
                    converged = true
                    break
                }
                previous = lambda
            }
            found.append(v)
            result.eigenvalues.append(lambda)
            result.residuals.append(residual)
            result.iterations.append(iterations)
            result.converged.append(converged)
            if options.computeVectors { result.eigenvectors.append(v) }
        }
        result.hvpCount = session.hvpCount
        result.maxAsymmetry = symmetry.maxAsymmetry
        session.commit()
        return result
    }
}

extension PowerIterationResult: Sendable where Vector: Sendable {}
