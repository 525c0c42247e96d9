/// Options of `Hutchinson.trace`.
public struct HutchinsonOptions: Sendable, Equatable {
    /// Probes at most (default 100, PyHessian's maxIter); also the exact count when
    /// `relativeTolerance` is 0.
    public var maxSamples = 100
    /// 0 (default): fixed budget of `maxSamples` probes. > 0: adaptive, stop after sample m ≥
    /// `minSamples` once standardError ≤ relativeTolerance·|estimate|.
    public var relativeTolerance = 0.0
    /// Samples before the adaptive rule may stop (default 10; 2 ≤ minSamples ≤ maxSamples when
    /// adaptive, checked when the run starts).
    public var minSamples = 10
    /// Probe distribution (default Rademacher, the minimum-variance choice: Var = 2Σ_{i≠j} H_ij²
    /// per probe, against 2‖H‖²_F for Gaussian).
    public var distribution = ProbeDistribution.rademacher
    /// Probe seed (default 0): sample s uses probe s of stream `.hutchinson`.
    public var seed: UInt64 = 0
    /// Parameter blocks for per-block traces (nil: none). Each probe serves all blocks.
    public var blocks: GroupLayout?
    /// Symmetry check on consecutive probes (`ProbeSymmetry`): off by default (+∞), as it costs
    /// two more vectors and four dots per probe (no HVP).
    public var symmetryTolerance = Double.infinity
    /// Products per call of a backend that batches them (`OperatorBackend.appliesBlocks`; default
    /// 1): probes are drawn in blocks of this many, at 2·hvpBlock work vectors. The estimate is
    /// the same bits for any value, given the same products (an adaptive run may make up to
    /// hvpBlock − 1 products past its stopping sample, counted in `hvpCount`).
    public var hvpBlock = 1

    public init() {}
}

/// Hutchinson's trace estimator: tr(H) ≈ (1/m) Σ_s z_sᵀ H z_s with E[zzᵀ] = I, one HVP per probe.
/// With blocks, tr(P_b H P_b) ≈ (1/m) Σ_s Σ_{i∈b} z_{s,i} (H z_s)_i from the same probes (HAWQ-V2
/// layer sensitivities). Standard error from the sample variance. Error O(‖H‖_F/√m): for a PSD
/// operator with decaying spectrum prefer `HutchPlusPlus`.
public enum Hutchinson {
    public static func trace<B: OperatorBackend>(
        of backend: B, options: HutchinsonOptions = HutchinsonOptions()
    ) throws(HLRError) -> TraceEstimate {
        let n = try backend.checkedDimension(estimator: "Hutchinson")
        guard options.maxSamples >= 1 else {
            throw .invalid("Hutchinson: maxSamples must be ≥ 1, got \(options.maxSamples)")
        }
        guard options.relativeTolerance >= 0, options.relativeTolerance.isFinite else {
            throw .invalid("Hutchinson: relativeTolerance must be finite and ≥ 0, got \(options.relativeTolerance)")
        }
        let adaptive = options.relativeTolerance > 0
        guard !adaptive || options.minSamples >= 2 else {
            throw .invalid("Hutchinson: minSamples must be ≥ 2, got \(options.minSamples)")
        }
        guard !adaptive || options.minSamples <= options.maxSamples else {  // it could never stop early
            throw .invalid(
                "Hutchinson: minSamples (C, Python: min_samples) = \(options.minSamples) must be ≤ maxSamples "
                    + "(samples) = \(options.maxSamples) when relativeTolerance > 0")
        }
        try TraceBlocks.check(options.blocks, dimension: n, estimator: "Hutchinson")
        let session = BackendSession(backend, estimator: "Hutchinson", hvpBlock: options.hvpBlock)
        defer { session.close() }
        var moments = RunningMoments(series: 1 + (options.blocks?.groupCount ?? 0))
        var converged = !adaptive
        var symmetry = try ProbeSymmetry(session, tolerance: options.symmetryTolerance)
        try session.probeProducts(
            count: options.maxSamples, seed: options.seed, stream: .hutchinson, distribution: options.distribution
        ) { (sample, z, hz) throws(HLRError) in
            try symmetry.record(session, z: z, hz: hz, sample: sample)
            moments.add(try TraceBlocks.quadratic(session, z, hz, blocks: options.blocks, "zᵀHz (probe \(sample))"))
            if adaptive && moments.count >= options.minSamples
                && moments.standardErrors[0] <= options.relativeTolerance * moments.mean[0].magnitude
            {
                converged = true
                return false
            }
            return true
        }
        let errors = moments.standardErrors
        return TraceEstimate(
            estimate: moments.mean[0], standardError: errors[0],
            blockEstimates: Array(moments.mean.dropFirst()), blockStandardErrors: Array(errors.dropFirst()),
            samples: moments.count, sketchRank: 0, hvpCount: session.hvpCount, converged: converged,
            maxAsymmetry: symmetry.maxAsymmetry)
    }
}

/// Block helpers shared by the trace and diagonal estimators.
enum TraceBlocks {
    static func check(_ blocks: GroupLayout?, dimension n: Int, estimator: String) throws(HLRError) {
        if let blocks, blocks.elementCount != n {
            throw .invalid("\(estimator): block offsets end at \(blocks.elementCount), the dimension is \(n)")
        }
    }

    /// [xᵀy] without blocks; [Σ_b, per-block xᵀy...] with blocks (the total is the sum of the
    /// block values, so blocks and total always agree).
    static func quadratic<B>(
        _ session: BackendSession<B>, _ x: B.Vector, _ y: B.Vector, blocks: GroupLayout?,
        _ what: @autoclosure () -> String
    ) throws(HLRError) -> [Double] {
        guard let blocks else { return [try session.dot(x, y, what())] }
        let values = try session.blockDots(x, y, blocks: blocks, what())
        return [values.reduce(0, +)] + values
    }
}
