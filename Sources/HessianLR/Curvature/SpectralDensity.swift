/// Options of `SpectralDensity.quadrature`.
public struct SpectralDensityOptions: Sendable, Equatable {
    /// n_v, independent Lanczos runs (default 1, PyHessian's `n_v`).
    public var runs = 1
    /// Lanczos steps per run (default 100, PyHessian's `iter`; capped at n). Each step is one HVP
    /// and keeps one vector (memory steps + 1 vectors).
    public var steps = 100
    /// Probe distribution (default Rademacher, normalised to a unit vector).
    public var distribution = ProbeDistribution.rademacher
    /// Probe seed (default 0): run r starts from probe r of stream `.spectralDensity`.
    public var seed: UInt64 = 0
    /// See `LanczosOptions.symmetryTolerance` (default 1e-3).
    public var symmetryTolerance = 1e-3
    /// Runs stepped together, their products made in one `applyOperator(block:into:)` call
    /// (default 1, one run after another), where the backend batches products (`appliesBlocks`);
    /// holds min(hvpBlock, runs)·(min(steps, n) + 1) vectors instead of min(steps, n) + 1, and
    /// its messages name the group ("SLQ runs 0…3") rather than one run. Every run gets the same
    /// bits as alone, given the same products.
    public var hvpBlock = 1

    public init() {}
}

/// The quadrature rules of `SpectralDensity.quadrature`: run r gives nodes θ_{r,i} (the Ritz
/// values, ascending) and weights w_{r,i} = s_{0,i}² (squared first components of the eigenvectors
/// of T_r), Σᵢ w_{r,i} = 1, so that vᵣᵀ f(H) vᵣ ≈ Σᵢ w_{r,i} f(θ_{r,i}) for the unit probe vᵣ and
/// the spectral density is φ(t) ≈ (1/n_v) Σ_r Σᵢ w_{r,i} δ(t − θ_{r,i}).
public struct SpectralQuadrature: Sendable, Equatable {
    public var nodes: [[Double]]
    public var weights: [[Double]]
    /// n·(1/n_v) Σ_r Σᵢ w_{r,i} θ_{r,i} = n·mean_r vᵣᵀHvᵣ: the trace these rules imply.
    public var traceEstimate: Double
    /// Steps taken per run (fewer than asked when the Krylov space became invariant: the rule is
    /// then exact for that probe).
    public var steps: [Int]
    public var hvpCount: Int
    /// The largest relative asymmetry measured (see `LanczosOptions.symmetryTolerance`).
    public var maxAsymmetry: Double
}

/// Stochastic Lanczos quadrature (Golub–Meurant; Ubaru, Chen, Saad 2017; PyHessian `density`):
/// for each run a unit probe v, m Lanczos steps with full reorthogonalisation (`LanczosProcess`)
/// give T = QᵀHQ; its eigenpairs (θᵢ, sᵢ) are the m-point Gauss quadrature rule of the spectral
/// measure μ_v(t) = Σ_j (u_jᵀv)² δ(t − λ_j). No restart: a breakdown ends the run with an exact
/// rule. Nodes lie in [λ_min, λ_max] (Cauchy interlacing). With `hvpBlock` > 1 the runs go in
/// groups that step together, one block of products per step.
public enum SpectralDensity {
    public static func quadrature<B: OperatorBackend>(
        of backend: B, options: SpectralDensityOptions = SpectralDensityOptions()
    ) throws(HLRError) -> SpectralQuadrature {
        let n = try backend.checkedDimension(estimator: "SLQ")
        guard options.runs >= 1 else { throw .invalid("SLQ: runs must be ≥ 1, got \(options.runs)") }
        guard options.steps >= 1 else { throw .invalid("SLQ: steps must be ≥ 1, got \(options.steps)") }
        try SymmetryCheck.validate(options.symmetryTolerance, estimator: "SLQ")
        let steps = Swift.min(options.steps, n)
        var result = SpectralQuadrature(
            nodes: [], weights: [], traceEstimate: 0, steps: [], hvpCount: 0, maxAsymmetry: 0)
        var quadratic = 0.0
        var first = 0
        while first < options.runs {
            let width = Swift.min(BackendSession.blockSize(of: backend, hvpBlock: options.hvpBlock), options.runs - first)
            let runs = first..<(first + width)
            let session = BackendSession(
                backend, estimator: width == 1 ? "SLQ run \(first)" : "SLQ runs \(first)…\(runs.upperBound - 1)",
                hvpBlock: options.hvpBlock)
            defer { session.close() }
            var processes: [LanczosProcess<B>] = []
            for run in runs {
                var process = LanczosProcess(session: session, symmetryTolerance: options.symmetryTolerance)
                let start = try session.scratch()
                try session.probe(start, seed: options.seed, stream: .spectralDensity, index: run, distribution: options.distribution)
                guard try process.open(with: start) else { throw .invalid("SLQ: probe \(run) is zero") }
                processes.append(process)
            }
            // The runs step in lockstep: one block of products per step, each run's arithmetic
            // on its own vectors, so every run gets the bits it would get alone.
            var active = Array(processes.indices)
            while !active.isEmpty {
                var products: [B.Vector] = []
                for _ in active { products.append(try session.scratch()) }
                try session.apply(block: active.map { processes[$0].basis[processes[$0].dimension - 1] }, into: products)
                var next: [Int] = []
                for (slot, index) in active.enumerated() {
                    let brokeDown = try processes[index].finishStep(product: products[slot])
                    if brokeDown || processes[index].dimension == steps { continue }
                    processes[index].advance()
                    next.append(index)
                }
                active = next
            }
            for process in processes {
                let (d, e) = process.block(0..<process.dimension)
                let eigen = try TridiagonalEigen(diagonal: d, offDiagonal: e, rows: [0])
                let weights = (0..<eigen.order).map { eigen.component(row: 0, vector: $0) * eigen.component(row: 0, vector: $0) }
                result.nodes.append(eigen.values)
                result.weights.append(weights)
                result.steps.append(process.dimension)
                result.maxAsymmetry = Swift.max(result.maxAsymmetry, process.maxAsymmetry)
                quadratic += d[0]  // v₀ᵀHv₀ = α₀ = Σᵢ wᵢθᵢ
            }
            result.hvpCount += session.hvpCount
            first = runs.upperBound
        }
        result.traceEstimate = Double(n) * quadratic / Double(options.runs)
        return result
    }
}
