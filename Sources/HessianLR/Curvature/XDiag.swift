/// Options of `XDiag.estimate`.
public struct XDiagOptions: Sendable, Equatable {
    /// HVP budget m (default 102): s = ⌊m/2⌋ test vectors, 2s HVPs (exact, and none drawn past it, once they span the space). Memory: 2s + 4 vectors
    /// (5 more with blocks).
    public var matvecs = 102
    /// Distribution of the test vectors (default Rademacher, as the paper and curvlinops: the
    /// residual term ω ⊙ Bω then has per-element variance Σ_{j≠i} B_ij², against
    /// Σ_j B_ij² + B_ii² for Gaussian). The same small-n caveat as `XTraceOptions.distribution`.
    public var distribution = ProbeDistribution.rademacher
    /// Probe seed (default 0): test vector i is probe i of stream `.xdiag`; the rank-deficient
    /// fallback's residual probes are probes s, s+1, … of the same stream.
    public var seed: UInt64 = 0
    /// Parameter blocks (nil: none): adds the per-block means of the estimate and their standard
    /// errors (`XDiagBlockErrors`: 3.5s² more block dot products of length n, O(s³) scalar work
    /// per block, no HVP).
    public var blocks: GroupLayout?
    /// Largest tolerated relative asymmetry of QᵀHQ (default 1e-3, as Lanczos; `.infinity`
    /// disables the check). Free: XDiag forms QᵀHQ anyway.
    public var symmetryTolerance = 1e-3
    /// Products per call of a backend that batches them (default 1; see
    /// `HutchinsonOptions.hvpBlock`): the sketch's AΩ and AQ in blocks of this many (no extra
    /// work vectors: one test vector per product of a block), and the rank-deficient fallback's
    /// residual probes too (3·(hvpBlock − 1) more work vectors there); the same bits for any
    /// value.
    public var hvpBlock = 1

    public init() {}
}

/// The outcome of `XDiag.estimate`.
public struct XDiagEstimate<Vector>: DiagonalResult {
    /// The estimate d̂ of diag(H), in the backend; owned by the caller (release it through the
    /// backend).
    public var diagonal: Vector
    /// Per block b: (1/|b|) Σ_{i∈b} d̂ᵢ (empty without blocks; 0 for an empty block).
    public var blockMeans: [Double]
    /// Per block b: the standard error of `blockMeans[b]` (empty without blocks; 0 for an empty
    /// block). Full rank: the jackknife over leaving one test vector out (`XDiagBlockErrors`; +∞
    /// for s = 1). Rank-deficient fallback: that of the mean of the residual probes' block sums,
    /// conditional on the sketch (0 when no probe is left: the estimate is exact).
    public var blockStandardErrors: [Double]
    /// (1/s) Σ_i t_i, the XTrace estimate of tr(H) from the same test vectors (= Σᵢ d̂ᵢ up to
    /// rounding; accumulated in float64 from s×s algebra, so not rounded through the vector
    /// type).
    public var traceEstimate: Double
    /// Test vectors s (full rank), or the residual probes of the rank-deficient fallback.
    public var samples: Int
    /// Rank k of the sketch basis Q (s when AΩ has full rank).
    public var sketchRank: Int
    /// Largest relative asymmetry of QᵀHQ measured (see `XDiagOptions.symmetryTolerance`).
    public var maxAsymmetry: Double
    public var hvpCount: Int
}

/// XDiag (Epperly, Tropp, Webber, SIMAX 2024, §2.4): the exchangeable diagonal estimator. Every
/// test vector serves both the low-rank sketch and the residual estimate. With test vectors
/// Ω = [ω_1 … ω_s], AΩ = QR, P_i = Q_(i)Q_(i)ᵀ the projector onto the range of AΩ without
/// column i and Bᵢ = (I − P_i)A(I − P_i),
///
///     d̂ = (1/s) Σ_i [ diag(A − B_i) + ω_i ⊙ (B_i ω_i) ],
///
/// each term being Diag++ with sketch Ω without ω_i and residual probe ω_i: unbiased, because
/// P_i does not depend on ω_i and E[ω ⊙ Bω] = diag(B). diag(A − B_i) = diag(P_iA + AP_i −
/// P_iAP_i) is exact given P_i.
///
/// This is the symmetric form of the paper's estimator: the paper (and curvlinops' `xdiag`)
/// keep diag(P_i A) and estimate diag((I − P_i)A) from ω_i, whose error is governed by
/// ‖(I − P_i)A‖_F; deflating on both sides leaves ‖(I − P_i)A(I − P_i)‖_F, smaller for the
/// symmetric operators this library takes (at 20 and 60 HVPs on 200×200 matrices with decaying,
/// flat and indefinite spectra the median relative L2 error was 0.58–0.71 of the one-sided form's,
/// never larger), at no extra HVP: A(I − P_i)ω_i = Aω_i − Z M_i Qᵀω_i with Z = AQ. Its trace is
/// XTrace's estimate from the same test vectors.
///
/// Evaluation: Q by classical Gram–Schmidt twice (R accumulates both passes), Z = AQ (s more
/// HVPs), H = QᵀZ, and, with x_i the i-th column of R⁻ᵀ, ŝ_i = x_i/‖x_i‖,
/// M_i = I − ŝ_iŝ_iᵀ (Q_(i)Q_(i)ᵀ = Q M_i Qᵀ), c_i = Qᵀω_i, b_i = M_i c_i:
///
///     (1/s) Σ_i diag(A − B_i) = Σ_a q_a ⊙ Σ_b (2 M̄_ab z_b − N_ab q_b),
///         M̄ = (1/s) Σ_i M_i,  N = (1/s) Σ_i M_i H M_i,
///     B_i ω_i = Q a_i − Z b_i,  a_i = ŝ_i/‖x_i‖ + M_i H b_i,
///
/// (using Aω_i = Q R_{:,i} and ŝ_iᵀR_{:,i} = 1/‖x_i‖), and t_i = tr(H) − ŝ_iᵀHŝ_i + c_iᵀa_i −
/// (Zᵀω_i)ᵀb_i for the trace. The test vectors are regenerated from their stream instead of kept.
/// Work: about 4s² axpys and 3s² dot products of length n, plus O(s³) scalar algebra.
///
/// Symmetry: QᵀHQ must be symmetric; its largest relative deviation is checked against
/// `symmetryTolerance` (free), failing with `invalidArgument` as Lanczos does.
///
/// Budget m ≥ 2n: test vectors are drawn until Q spans the space (n of them when independent, as
/// Gaussian ones are), then no more: the diagonal is exact at n + (vectors drawn) HVPs.
///
/// Rank deficiency (AΩ of numerical rank k < s, i.e. rank(A) < s), or k = n: the run falls back
/// to Diag++ on the basis Q: the exact diag(PA + AP − PAP), P = QQᵀ (k HVPs), plus
/// (1/p) Σ g ⊙ (I − P)A(I − P)g over the p = s − k remaining probes (probes s, s+1, … of stream
/// `.xdiag`); exact when Q spans range(A); no probe when k = n.
public enum XDiag {
    public static func estimate<B: OperatorBackend>(
        of backend: B, options: XDiagOptions = XDiagOptions()
    ) throws(HLRError) -> XDiagEstimate<B.Vector> {
        let n = try backend.checkedDimension(estimator: "XDiag")
        guard options.matvecs >= 2 else {
            throw .invalid("XDiag: matvecs must be ≥ 2 (two per test vector), got \(options.matvecs)")
        }
        try SymmetryCheck.validate(options.symmetryTolerance, estimator: "XDiag")
        try TraceBlocks.check(options.blocks, dimension: n, estimator: "XDiag")
        let s = options.matvecs / 2
        let session = BackendSession(backend, estimator: "XDiag", hvpBlock: options.hvpBlock)
        defer { session.close() }

        // Q R = AΩ (`SketchBasis`); a dependent column's vector is kept as a spare.
        var ws: [B.Vector] = []
        for _ in 0..<Swift.min(session.blockSize, s) { ws.append(try session.scratch()) }
        let w = ws[0]
        var sketch = SketchBasis<B>(columns: s, dimension: n)
        var spares: [B.Vector] = []
        var start = 0
        // Blocks of the session's block size: probes, one block of products, then in order. Once Q
        // spans the space (k = n) the answer below is exact and no more test vectors are drawn.
        while start < s && sketch.basis.count < n {
            let columns = start..<Swift.min(start + ws.count, s)
            var ys: [B.Vector] = []
            for (slot, i) in columns.enumerated() {
                try session.probe(ws[slot], seed: options.seed, stream: .xdiag, index: i, distribution: options.distribution)
                ys.append(spares.isEmpty ? try session.scratch() : spares.removeLast())
            }
            try session.apply(block: Array(ws[0..<columns.count]), into: ys)
            for (i, y) in zip(columns, ys) {
                if !(try sketch.add(y, column: i, session: session)) { spares.append(y) }
            }
            start = columns.upperBound
        }
        let spare = spares.last

        // Z = AQ, H = QᵀZ, and the free symmetry check of H.
        let basis = sketch.basis, r = sketch.r, fullRank = sketch.fullRank
        let k = basis.count
        let (z, h, maxAsymmetry) = try sketch.projection(session, symmetryTolerance: options.symmetryTolerance)

        let diagonal = try session.result()
        let work: B.Vector
        if let reused = spare { work = reused } else { work = try session.scratch() }
        var trace = 0.0
        var samples = 0
        var errors: [Double] = []
        if fullRank && k < n {  // k = n: Q spans the space, the fallback's Diag++ on Q is exact
            let columns = try XTrace.leaveOneOutColumns(r, size: s, estimator: "XDiag")
            (trace, errors) = try exchangeable(
                session, basis: basis, z: z, h: h, r: r, columns: columns, probe: w, work: work,
                into: diagonal, options: options)
            samples = s
        } else {
            (trace, samples, errors) = try fallback(
                session, basis: basis, z: z, h: h, budget: 2 * s, probe: w, work: work,
                into: diagonal, options: options)
        }

        var means: [Double] = []
        if let blocks = options.blocks {
            // A vector of ones: z ⊙ z for a Rademacher z (exact in any precision).
            let ones = try session.scratch()
            try session.probe(w, seed: options.seed, stream: .xdiag, index: 0, distribution: .rademacher)
            try backend.multiplyAccumulate(1, w, w, into: ones)
            let sums = try session.blockDots(diagonal, ones, blocks: blocks, "Σ d̂ᵢ")
            for block in 0..<blocks.groupCount {
                let size = blocks.range(of: block).count
                means.append(size > 0 ? sums[block] / Double(size) : 0)
            }
        }
        guard trace.isFinite else { throw session.nonFinite("the trace of the estimate", trace) }
        session.commit()
        return XDiagEstimate(
            diagonal: diagonal, blockMeans: means, blockStandardErrors: errors, traceEstimate: trace,
            samples: samples, sketchRank: k, maxAsymmetry: maxAsymmetry, hvpCount: session.hvpCount)
    }

    /// work ← Σ_b coefficients[b]·vectors[b] (a linear combination in the backend).
    private static func combine<B: OperatorBackend>(
        _ session: BackendSession<B>, _ terms: [(coefficients: [Double], vectors: [B.Vector])], into work: B.Vector
    ) throws(HLRError) {
        try session.backend.scale(0, work)
        for term in terms {
            for (coefficient, vector) in zip(term.coefficients, term.vectors) where coefficient != 0 {
                try session.backend.axpy(coefficient, vector, work)
            }
        }
    }

    /// Full rank: accumulates d̂ into `diagonal` and returns (1/s) Σ t_i and, with blocks, the
    /// block means' standard errors.
    private static func exchangeable<B: OperatorBackend>(
        _ session: BackendSession<B>, basis: [B.Vector], z: [B.Vector], h: SketchMatrix, r: [Double],
        columns: (directions: [[Double]], norms: [Double]), probe: B.Vector, work: B.Vector,
        into diagonal: B.Vector, options: XDiagOptions
    ) throws(HLRError) -> (trace: Double, blockErrors: [Double]) {
        let s = basis.count
        let inverse = 1 / Double(s)
        let hats = columns.directions
        let traceH = h.trace
        func dot(_ x: [Double], _ y: [Double]) -> Double { zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } }

        // M̄ = I − (1/s) Σ ŝŝᵀ and N = (1/s) Σ M_i H M_i, M_i H M_i = H − ŝ(Hᵀŝ)ᵀ − (Hŝ)ŝᵀ + σŝŝᵀ.
        var mBar = [Double](repeating: 0, count: s * s)
        var nMatrix = [Double](repeating: 0, count: s * s)
        for a in 0..<s { mBar[a * s + a] = 1 }
        for index in 0..<(s * s) { nMatrix[index] = h.values[index] }
        var sigma = [Double](repeating: 0, count: s)
        for i in 0..<s {
            let hat = hats[i]
            let hHat = h.times(hat)
            let hTHat = h.transposeTimes(hat)
            sigma[i] = dot(hat, hHat)
            for a in 0..<s {
                for b in 0..<s {
                    mBar[a * s + b] -= inverse * hat[a] * hat[b]
                    nMatrix[a * s + b] -= inverse * (hat[a] * hTHat[b] + hHat[a] * hat[b] - sigma[i] * hat[a] * hat[b])
                }
            }
        }
        // Low-rank part: Σ_a q_a ⊙ Σ_b (2 M̄_ab z_b − N_ab q_b).
        for a in 0..<s {
            let row = (0..<s).map { 2 * mBar[a * s + $0] }
            let nRow = (0..<s).map { -nMatrix[a * s + $0] }
            try combine(session, [(row, z), (nRow, basis)], into: work)
            try session.backend.multiplyAccumulate(1, basis[a], work, into: diagonal)
        }
        // Residual part: (1/s) Σ_i ω_i ⊙ (Q a_i − Z b_i), and the trace.
        var grams: XDiagBlockGrams?
        if let blocks = options.blocks { grams = try XDiagBlockGrams(session, basis: basis, z: z, blocks: blocks) }
        var cAll = [Double](repeating: 0, count: grams == nil ? 0 : s * s)
        var moments = RunningMoments(series: 1)
        for i in 0..<s {
            let hat = hats[i]
            try session.probe(probe, seed: options.seed, stream: .xdiag, index: i, distribution: options.distribution)
            let c = try session.dots(basis, probe) { "q\($0)ᵀω\(i)" }
            let g = try session.dots(z, probe) { "(Aq\($0))ᵀω\(i)" }
            if let blocks = options.blocks {
                try grams?.addTestVector(session, probe, index: i, basis: basis, z: z, blocks: blocks)
                for a in 0..<s { cAll[a * s + i] = c[a] }
            }
            let along = dot(hat, c)
            let bVector = (0..<s).map { c[$0] - along * hat[$0] }
            let hb = h.times(bVector)
            let hbAlong = dot(hat, hb)
            let aVector = (0..<s).map { hat[$0] / columns.norms[i] + hb[$0] - hbAlong * hat[$0] }
            try combine(session, [(aVector, basis), (bVector.map { -$0 }, z)], into: work)
            try session.backend.multiplyAccumulate(inverse, probe, work, into: diagonal)
            let t = traceH - sigma[i] + dot(c, aVector) - dot(g, bVector)
            guard t.isFinite else { throw session.nonFinite("the leave-one-out trace t\(i)", t) }
            moments.add([t])
        }
        guard let grams, let blocks = options.blocks else { return (moments.mean[0], []) }
        let errors = XDiagBlockErrors.standardErrors(
            grams: grams, h: h.values, c: cAll, columns: columns,
            blockSizes: (0..<blocks.groupCount).map { blocks.range(of: $0).count })
        for (block, error) in errors.enumerated() where error.isNaN {
            throw session.nonFinite("the standard error of block \(block)", error)
        }
        return (moments.mean[0], errors)
    }

    /// Rank-deficient AΩ: Diag++ on Q. Returns (trace, residual probes, block means' standard
    /// errors: those of the probes' block sums, 0 without probes).
    private static func fallback<B: OperatorBackend>(
        _ session: BackendSession<B>, basis: [B.Vector], z: [B.Vector], h: SketchMatrix,
        budget: Int, probe: B.Vector, work: B.Vector, into diagonal: B.Vector, options: XDiagOptions
    ) throws(HLRError) -> (Double, Int, [Double]) {
        let k = basis.count
        // diag(PA + AP − PAP) = Σ_a q_a ⊙ (2 z_a − Σ_b H_ab q_b).
        for a in 0..<k {
            let row = (0..<k).map { -h.values[a * k + $0] }
            try combine(session, [(row, basis)], into: work)
            try session.backend.axpy(2, z[a], work)
            try session.backend.multiplyAccumulate(1, basis[a], work, into: diagonal)
        }
        let probes = k < session.dimension ? Swift.max(budget - session.hvpCount, 0) : 0
        var moments = RunningMoments(series: 1)
        let blockCount = options.blocks?.groupCount ?? 0
        var blockMoments = RunningMoments(series: blockCount)
        if probes > 0 {
            // Up to blockSize probes at a time: fill and project each, one block of products, then
            // each probe's terms in probe order (the bits of one probe at a time).
            let width = Swift.min(session.blockSize, probes)
            var gs = [probe], projected = [try session.scratch()], products = [work]
            for _ in 1..<width {
                gs.append(try session.scratch())
                projected.append(try session.scratch())
                products.append(try session.scratch())
            }
            var first = 0
            while first < probes {
                let size = Swift.min(width, probes - first)
                for j in 0..<size {
                    let label = budget / 2 + first + j
                    try session.probe(gs[j], seed: options.seed, stream: .xdiag, index: label, distribution: options.distribution)
                    try session.backend.copy(gs[j], to: projected[j])
                    _ = try session.project(projected[j], against: basis, "residual probe \(label), pass 1")
                    _ = try session.project(projected[j], against: basis, "residual probe \(label), pass 2")
                }
                try session.apply(block: Array(projected[0..<size]), into: Array(products[0..<size]))
                for j in 0..<size {
                    let label = budget / 2 + first + j
                    _ = try session.project(products[j], against: basis, "A·residual probe \(label), pass 1")
                    _ = try session.project(products[j], against: basis, "A·residual probe \(label), pass 2")
                    moments.add([try session.dot(gs[j], products[j], "gᵀ(I−P)A(I−P)g (residual probe \(label))")])
                    if let blocks = options.blocks {
                        blockMoments.add(try session.blockDots(gs[j], products[j], blocks: blocks, "gᵀE_b(I−P)A(I−P)g"))
                    }
                    try session.backend.multiplyAccumulate(1 / Double(probes), gs[j], products[j], into: diagonal)
                }
                first += size
            }
        }
        var errors: [Double] = []
        if let blocks = options.blocks {
            let spread = blockMoments.count == 0 ? [Double](repeating: 0, count: blockCount) : blockMoments.standardErrors
            for block in 0..<blockCount {
                let size = blocks.range(of: block).count
                errors.append(size > 0 ? spread[block] / Double(size) : 0)
            }
        }
        return (h.trace + (moments.count == 0 ? 0 : moments.mean[0]), moments.count, errors)
    }
}

extension XDiagEstimate: Sendable where Vector: Sendable {}
