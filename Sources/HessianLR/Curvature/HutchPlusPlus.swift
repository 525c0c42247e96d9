/// Options of `HutchPlusPlus.trace`.
public struct HutchPlusPlusOptions: Sendable, Equatable {
    /// HVP budget m (default 102). Fixed mode spends exactly m; adaptive mode at most m.
    public var matvecs = 102
    /// Sketch columns s (nil, default: ⌊m/3⌋, the paper's split; capped at n). The sketch costs 2s
    /// HVPs (A·S, then A·Q) and keeps s vectors: memory s + 3 vectors.
    public var sketchSize: Int?
    /// 0 (default): fixed budget, the remaining m − 2s HVPs all go to residual probes. > 0:
    /// adaptive, residual probes stop after ≥ `minResidualSamples` once
    /// standardError ≤ relativeTolerance·|estimate|.
    public var relativeTolerance = 0.0
    /// Residual probes before the adaptive rule may stop (default 10; ≥ 2).
    public var minResidualSamples = 10
    /// Distribution of S and G (default Rademacher, as the paper's sign matrices).
    public var distribution = ProbeDistribution.rademacher
    /// Probe seed (default 0): sketch column c is probe c of stream `.hutchPlusPlusSketch`,
    /// residual probe i is probe i of stream `.hutchPlusPlusResidual`.
    public var seed: UInt64 = 0
    /// Parameter blocks for per-block traces (nil: none).
    public var blocks: GroupLayout?
    /// Largest tolerated relative asymmetry of consecutive sketch columns,
    /// |q_cᵀ(Aq_{c+1}) − (Aq_c)ᵀq_{c+1}| / max(‖Aq_c‖, ‖Aq_{c+1}‖) (default 1e-3, as Lanczos;
    /// `.infinity` disables it). No extra HVP: one more vector and three dots per column.
    public var symmetryTolerance = 1e-3

    public init() {}
}

/// Hutch++ (Meyer, Musco, Musco, Woodruff, SOSA 2021): with budget m split into s = m/3 sketch
/// columns and m − 2s residual probes,
///
///     Q = orth(A·S),   tr(A) ≈ tr(QᵀAQ) + (1/|G|) Σ_{g∈G} gᵀ(I−QQᵀ)A(I−QQᵀ)g,
///
/// i.e. the exact trace on the dominant subspace plus Hutchinson on the deflated remainder (the
/// paper's (3/m)·tr(Gᵀ(I−QQᵀ)A(I−QQᵀ)G) with |G| = m/3). Unbiased for any Q; relative error
/// O(1/m) for PSD A instead of Hutchinson's O(1/√m). Q is built in the backend by classical
/// Gram–Schmidt applied twice; a column whose norm falls below 10⁻¹⁰ of ‖A sᵢ‖ (A of lower rank
/// than s) is dropped and its HVP budget moves to residual probes. When Q spans the whole space
/// the result is exact and no residual probe is drawn.
///
/// Per block b: tr(P_b A) = Σ_c q_cᵀP_b A q_c + E[pᵀP_b A p] with p = (I−QQᵀ)g (the cross terms
/// cancel because P_b is a diagonal projector and (I−QQᵀ)² = I−QQᵀ).
///
/// The standard error is that of the residual mean, conditional on Q.
public enum HutchPlusPlus {
    public static func trace<B: OperatorBackend>(
        of backend: B, options: HutchPlusPlusOptions = HutchPlusPlusOptions()
    ) throws(HLRError) -> TraceEstimate {
        let n = backend.dimension
        let m = options.matvecs
        guard n >= 1 else { throw .invalid("Hutch++: operator dimension must be ≥ 1, got \(n)") }
        guard m >= 1 else { throw .invalid("Hutch++: matvecs must be ≥ 1, got \(m)") }
        guard options.relativeTolerance >= 0, options.relativeTolerance.isFinite else {
            throw .invalid("Hutch++: relativeTolerance must be finite and ≥ 0, got \(options.relativeTolerance)")
        }
        let adaptive = options.relativeTolerance > 0
        guard !adaptive || options.minResidualSamples >= 2 else {
            throw .invalid("Hutch++: minResidualSamples must be ≥ 2, got \(options.minResidualSamples)")
        }
        let requested = options.sketchSize ?? m / 3
        guard requested >= 0 else { throw .invalid("Hutch++: sketchSize must be ≥ 0, got \(requested)") }
        let residualMinimum = adaptive ? options.minResidualSamples : 1
        // Compared without forming 2·sketchSize + minimum, which could overflow.
        guard requested <= m / 2, m - 2 * requested >= residualMinimum else {
            let needed = requested <= Int.max / 4 && residualMinimum <= Int.max / 4
                ? "\(2 * requested + residualMinimum)" : "more"
            throw .invalid(
                "Hutch++: matvecs (\(m)) must be ≥ 2·sketchSize + \(adaptive ? "minResidualSamples" : "1") = \(needed)")
        }
        try TraceBlocks.check(options.blocks, dimension: n, estimator: "Hutch++")
        try SymmetryCheck.validate(options.symmetryTolerance, estimator: "Hutch++")
        let session = BackendSession(backend, estimator: "Hutch++")
        defer { session.close() }
        let series = 1 + (options.blocks?.groupCount ?? 0)

        // Sketch: Q = orth(A S).
        var basis: [B.Vector] = []
        let probe = try session.scratch()
        for column in 0..<Swift.min(requested, n) {
            try session.probe(
                probe, seed: options.seed, stream: .hutchPlusPlusSketch, index: column,
                distribution: options.distribution)
            let y = try session.scratch()
            try session.apply(probe, into: y)
            let before = try session.norm(y, "A s\(column)")
            _ = try session.project(y, against: basis, "orth(AS) column \(column), pass 1")
            _ = try session.project(y, against: basis, "orth(AS) column \(column), pass 2")
            let after = try session.norm(y, "orthogonalised A s\(column)")
            guard after > 1e-10 * before, after > 0 else { continue }
            try backend.scale(1 / after, y)
            basis.append(y)
        }

        // Exact part: tr(QᵀAQ), per block Σ_c q_cᵀ P_b A q_c; the free symmetry check on
        // consecutive columns (their HVPs are made anyway).
        var lowRank = [Double](repeating: 0, count: series)
        var product = try session.scratch()
        let checking = options.symmetryTolerance.isFinite
        var previous = checking ? try session.scratch() : nil
        var previousNorm = 0.0
        var symmetry = SymmetryCheck(tolerance: options.symmetryTolerance)
        for (column, q) in basis.enumerated() {
            try session.apply(q, into: product)
            let values = try TraceBlocks.quadratic(session, q, product, blocks: options.blocks, "q\(column)ᵀAq\(column)")
            for index in lowRank.indices { lowRank[index] += values[index] }
            guard checking, let last = previous else { continue }
            let norm = try session.norm(product, "Aq\(column)")
            if column > 0 {
                try symmetry.check(
                    session, x: "q\(column - 1)", y: "q\(column)",
                    xHy: try session.dot(basis[column - 1], product, "q\(column - 1)ᵀAq\(column)"),
                    hxY: try session.dot(last, q, "(Aq\(column - 1))ᵀq\(column)"),
                    scale: Swift.max(previousNorm, norm))
            }
            previous = product  // keep A q_c; the next column's product goes to the other vector
            product = last
            previousNorm = norm
        }

        // Residual part: Hutchinson on (I−QQᵀ)A(I−QQᵀ).
        var moments = RunningMoments(series: series)
        var converged = !adaptive
        if basis.count < n {
            var sample = 0
            while session.hvpCount < m {
                try session.probe(
                    probe, seed: options.seed, stream: .hutchPlusPlusResidual, index: sample,
                    distribution: options.distribution)
                _ = try session.project(probe, against: basis, "residual probe \(sample) projection")
                try session.apply(probe, into: product)
                moments.add(try TraceBlocks.quadratic(
                    session, probe, product, blocks: options.blocks, "pᵀAp (residual probe \(sample))"))
                sample += 1
                if adaptive && moments.count >= options.minResidualSamples {
                    let total = lowRank[0] + moments.mean[0]
                    if moments.standardErrors[0] <= options.relativeTolerance * total.magnitude {
                        converged = true
                        break
                    }
                }
            }
        } else {
            converged = true
        }
        let errors = moments.count == 0 ? [Double](repeating: 0, count: series) : moments.standardErrors
        let estimates = zip(lowRank, moments.mean).map { $0 + $1 }
        return TraceEstimate(
            estimate: estimates[0], standardError: errors[0],
            blockEstimates: Array(estimates.dropFirst()), blockStandardErrors: Array(errors.dropFirst()),
            samples: moments.count, sketchRank: basis.count, hvpCount: session.hvpCount,
            converged: converged, maxAsymmetry: symmetry.maxAsymmetry)
    }
}
