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
    /// Products per call of a backend that batches them (default 1; see
    /// `HutchinsonOptions.hvpBlock`): the sketch's AS and AQ and the residual probes in blocks of
    /// this many (about 2·hvpBlock more work vectors), the same bits for any value.
    public var hvpBlock = 1

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
        let n = try backend.checkedDimension(estimator: "Hutch++")
        let m = options.matvecs
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
        let session = BackendSession(backend, estimator: "Hutch++", hvpBlock: options.hvpBlock)
        defer { session.close() }
        let series = 1 + (options.blocks?.groupCount ?? 0)

        // Sketch: Q = orth(A S), the products in blocks of `width` (probes, one block call, then
        // each column orthogonalised in order).
        let width = Swift.min(session.blockSize, m)
        var probes: [B.Vector] = []
        for _ in 0..<width { probes.append(try session.scratch()) }
        var basis: [B.Vector] = []
        let columns = Swift.min(requested, n)
        var start = 0
        while start < columns {
            let chunk = start..<Swift.min(start + width, columns)
            var ys: [B.Vector] = []
            for (slot, column) in chunk.enumerated() {
                try session.probe(
                    probes[slot], seed: options.seed, stream: .hutchPlusPlusSketch, index: column,
                    distribution: options.distribution)
                ys.append(try session.scratch())
            }
            try session.apply(block: Array(probes[0..<chunk.count]), into: ys)
            for (column, y) in zip(chunk, ys) {
                let before = try session.norm(y, "A s\(column)")
                _ = try session.project(y, against: basis, "orth(AS) column \(column), pass 1")
                _ = try session.project(y, against: basis, "orth(AS) column \(column), pass 2")
                let after = try session.norm(y, "orthogonalised A s\(column)")
                guard after > 1e-10 * before, after > 0 else { continue }
                try backend.scale(1 / after, y)
                basis.append(y)
            }
            start = chunk.upperBound
        }

        // Exact part: tr(QᵀAQ), per block Σ_c q_cᵀ P_b A q_c; the free symmetry check on
        // consecutive columns (their HVPs are made anyway). Products in blocks of `width` into
        // `products`, never into the one holding A q_{c−1} (one more vector when checking).
        var lowRank = [Double](repeating: 0, count: series)
        let checking = options.symmetryTolerance.isFinite
        var products: [B.Vector] = []
        for _ in 0..<(width + (checking ? 1 : 0)) { products.append(try session.scratch()) }
        var previous: Int?  // index in `products` of A q_{c−1}
        var previousNorm = 0.0
        var symmetry = SymmetryCheck(tolerance: options.symmetryTolerance)
        start = 0
        while start < basis.count {
            let chunk = start..<Swift.min(start + width, basis.count)
            let slots = Array(products.indices.filter { $0 != previous }.prefix(chunk.count))
            try session.apply(block: Array(basis[chunk]), into: slots.map { products[$0] })
            for (column, slot) in zip(chunk, slots) {
                let q = basis[column], product = products[slot]
                let values = try TraceBlocks.quadratic(
                    session, q, product, blocks: options.blocks, "q\(column)ᵀAq\(column)")
                for index in lowRank.indices { lowRank[index] += values[index] }
                guard checking else { continue }
                let norm = try session.norm(product, "Aq\(column)")
                if let last = previous {
                    try symmetry.check(
                        session, x: "q\(column - 1)", y: "q\(column)",
                        xHy: try session.dot(basis[column - 1], product, "q\(column - 1)ᵀAq\(column)"),
                        hxY: try session.dot(products[last], q, "(Aq\(column - 1))ᵀq\(column)"),
                        scale: Swift.max(previousNorm, norm))
                }
                previous = slot
                previousNorm = norm
            }
            start = chunk.upperBound
        }

        // Residual part: Hutchinson on (I−QQᵀ)A(I−QQᵀ).
        var moments = RunningMoments(series: series)
        var converged = !adaptive
        if basis.count < n {
            var sample = 0
            residual: while session.hvpCount < m {  // blocks of `width` probes, as Hutchinson's
                let size = Swift.min(width, m - session.hvpCount)
                for slot in 0..<size {
                    try session.probe(
                        probes[slot], seed: options.seed, stream: .hutchPlusPlusResidual, index: sample + slot,
                        distribution: options.distribution)
                    _ = try session.project(probes[slot], against: basis, "residual probe \(sample + slot) projection")
                }
                try session.apply(block: Array(probes[0..<size]), into: Array(products[0..<size]))
                for slot in 0..<size {
                    moments.add(try TraceBlocks.quadratic(
                        session, probes[slot], products[slot], blocks: options.blocks,
                        "pᵀAp (residual probe \(sample))"))
                    sample += 1
                    if adaptive && moments.count >= options.minResidualSamples {
                        let total = lowRank[0] + moments.mean[0]
                        if moments.standardErrors[0] <= options.relativeTolerance * total.magnitude {
                            converged = true
                            break residual
                        }
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
