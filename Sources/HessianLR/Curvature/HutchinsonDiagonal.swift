/// Options of `HutchinsonDiagonal.estimate`.
public struct DiagonalOptions: Sendable, Equatable {
    /// Rademacher probes (default 100; ≥ 1), one HVP each.
    public var samples = 100
    /// Probe seed (default 0): sample s uses probe s of stream `.diagonal`.
    public var seed: UInt64 = 0
    /// Parameter blocks (nil: none): adds the per-block means of the diagonal (AdaHessian's spatial
    /// averaging; broadcast them over each block to get the block-averaged diagonal).
    public var blocks: GroupLayout?

    /// Symmetry check on consecutive probes (`ProbeSymmetry`): off by default (+∞), as it costs
    /// two more vectors and four dots per probe (no HVP).
    public var symmetryTolerance = Double.infinity
    /// Products per call of a backend that batches them (default 1; see
    /// `HutchinsonOptions.hvpBlock`): 2·hvpBlock work vectors, the same bits for any value.
    public var hvpBlock = 1

    public init() {}
}

/// What every diagonal estimator reports (`DiagonalEstimate`, `XDiagEstimate`): the estimate,
/// its block means and their errors, the trace from the same products, the work and the symmetry
/// measured.
public protocol DiagonalResult<Vector> {
    associatedtype Vector
    var diagonal: Vector { get }
    var blockMeans: [Double] { get }
    var blockStandardErrors: [Double] { get }
    var traceEstimate: Double { get }
    var samples: Int { get }
    var hvpCount: Int { get }
    var maxAsymmetry: Double { get }
}

/// The outcome of `HutchinsonDiagonal.estimate`.
public struct DiagonalEstimate<Vector>: DiagonalResult {
    /// d̂ = (1/m) Σ_s z_s ⊙ H z_s, in the backend; owned by the caller (release it through the
    /// backend).
    public var diagonal: Vector
    /// Per block b: (1/|b|) Σ_{i∈b} d̂ᵢ (empty without blocks; 0 for an empty block).
    public var blockMeans: [Double]
    /// Standard errors of the block means over the probes (+∞ with one probe).
    public var blockStandardErrors: [Double]
    /// (1/m) Σ_s z_sᵀ H z_s = Σᵢ d̂ᵢ: the Hutchinson trace from the same probes, for free.
    public var traceEstimate: Double
    public var samples: Int
    public var hvpCount: Int
    /// The largest relative asymmetry measured (0 unless `DiagonalOptions.symmetryTolerance` is
    /// finite).
    public var maxAsymmetry = 0.0
}

/// Hutchinson's diagonal estimator (Bekas, Kokiopoulou, Saad 2007; AdaHessian, Sophia-H):
///
///     diag(H) ≈ (1/m) Σ_s z_s ⊙ (H z_s),   z_s true Rademacher (±1 with probability ½ each),
///
/// unbiased because E[zᵢ z_j] = δᵢⱼ, with per-element variance Σ_{j≠i} H_ij²/m; exact for diagonal
/// H from a single probe (zᵢ² = 1). Each probe also yields zᵀHz (checked finite, so a NaN in an
/// HVP output is reported) and, with blocks, Σ_{i∈b} zᵢ(Hz)ᵢ for the block means.
public enum HutchinsonDiagonal {
    public static func estimate<B: OperatorBackend>(
        of backend: B, options: DiagonalOptions = DiagonalOptions()
    ) throws(HLRError) -> DiagonalEstimate<B.Vector> {
        let n = try backend.checkedDimension(estimator: "diagonal")
        guard options.samples >= 1 else {
            throw .invalid("diagonal: samples must be ≥ 1, got \(options.samples)")
        }
        try TraceBlocks.check(options.blocks, dimension: n, estimator: "diagonal")
        let session = BackendSession(backend, estimator: "diagonal", hvpBlock: options.hvpBlock)
        defer { session.close() }
        let sum = try session.result()
        var moments = RunningMoments(series: 1 + (options.blocks?.groupCount ?? 0))
        var symmetry = try ProbeSymmetry(session, tolerance: options.symmetryTolerance)
        try session.probeProducts(
            count: options.samples, seed: options.seed, stream: .diagonal, distribution: .rademacher
        ) { (sample, z, hz) throws(HLRError) in
            try symmetry.record(session, z: z, hz: hz, sample: sample)
            moments.add(try TraceBlocks.quadratic(session, z, hz, blocks: options.blocks, "zᵀHz (probe \(sample))"))
            try backend.multiplyAccumulate(1, z, hz, into: sum)
            return true
        }
        try backend.scale(1 / Double(options.samples), sum)
        var means: [Double] = []
        var errors: [Double] = []
        if let blocks = options.blocks {
            let standardErrors = moments.standardErrors
            for block in 0..<blocks.groupCount {
                let size = Double(blocks.range(of: block).count)
                means.append(size > 0 ? moments.mean[block + 1] / size : 0)
                errors.append(size > 0 ? standardErrors[block + 1] / size : 0)
            }
        }
        session.commit()
        return DiagonalEstimate(
            diagonal: sum, blockMeans: means, blockStandardErrors: errors, traceEstimate: moments.mean[0],
            samples: options.samples, hvpCount: session.hvpCount, maxAsymmetry: symmetry.maxAsymmetry)
    }
}

extension DiagonalEstimate: Sendable where Vector: Sendable {}
