/// A curvature estimator as a value: its kind, its parameters (`EstimatorParameter`, each checked
/// against its kind's `EstimatorParameterSpec`), the probe seed and, for the kinds with per-block
/// results, block offsets. `run(on:)` (EstimatorDispatch.swift) runs it on any `OperatorBackend`
/// and returns a uniform `EstimatorRun`; the typed options it passes on are in
/// EstimatorOptions.swift.
///
/// Every setter validates first and changes nothing when it throws. Constraints that involve
/// several parameters or the operator's dimension (count ≤ max_dimension, count ≤ n, the Hutch++
/// budget, grid_lower < grid_upper, block offsets ending at n) are checked by
/// `validate(dimension:)`, which `run(on:)` calls before the first backend operation, so the
/// order in which parameters are set never matters.
public struct EstimatorConfig: Sendable, Equatable {
    public let kind: EstimatorKind
    /// Every parameter of the kind, set or default.
    public private(set) var values: [EstimatorParameter: Double]
    /// The probe seed (default 0). Every probe is a pure function of (seed, stream, index), see
    /// `CounterRNG`.
    public var seed: UInt64 = 0
    /// Block offsets (nil: none), for the kinds with `acceptsBlocks`. Their end must equal the
    /// operator's dimension at run time.
    public private(set) var blocks: GroupLayout?

    /// A configuration of `kind` with every parameter at its default.
    public init(_ kind: EstimatorKind) {
        self.kind = kind
        var values: [EstimatorParameter: Double] = [:]
        for spec in kind.parameterSpecs { values[spec.parameter] = spec.defaultValue }
        self.values = values
    }

    /// The value of `parameter` (`unknownKey` if the kind does not have it).
    public func parameter(_ parameter: EstimatorParameter) throws(HLRError) -> Double {
        let spec = try kind.spec(for: parameter)
        return values[parameter] ?? spec.defaultValue
    }

    /// Sets one parameter after checking it against its spec (`unknownKey`, `invalidArgument`).
    public mutating func set(_ parameter: EstimatorParameter, _ value: Double) throws(HLRError) {
        let spec = try kind.spec(for: parameter)
        try spec.validate(value, kind: kind)
        values[parameter] = value
    }

    /// Sets (or, with nil, clears) the block offsets: at least 2 entries, starting at 0, never
    /// decreasing; block b is [offsets[b], offsets[b+1]). Only for kinds with `acceptsBlocks`
    /// (clearing is always allowed).
    public mutating func setBlocks(_ offsets: [Int]?) throws(HLRError) {
        guard let offsets else {
            blocks = nil
            return
        }
        guard kind.acceptsBlocks else {
            throw .invalid(
                "\(kind.name) has no per-block results; blocks apply to hutchinson, hutch_plus_plus, diagonal and xdiag")
        }
        guard let last = offsets.last else {
            throw .invalid("block offsets need at least 2 entries (0 and n), got 0")
        }
        blocks = try GroupLayout(offsets: offsets, elementCount: last, name: "offsets")
    }

    /// Integral parameter as Int (validated values are exact and ≤ 2³¹).
    func integer(_ parameter: EstimatorParameter) -> Int {
        Int(values[parameter] ?? 0)
    }

    func double(_ parameter: EstimatorParameter) -> Double {
        values[parameter] ?? 0
    }

    /// Host runs: threads for the vector operations.
    public var threads: Int { Swift.max(1, integer(.threads)) }

    /// Whether a run returns eigenvectors.
    public var computesVectors: Bool {
        (kind == .lanczos || kind == .powerIteration) && integer(.computeVectors) == 1
    }

    /// How many vectors a successful run returns (k eigenvectors, 1 diagonal, else 0).
    public var resultVectorCount: Int {
        if kind == .diagonal || kind == .xdiag { return 1 }
        return computesVectors ? integer(.count) : 0
    }

    /// Checks everything that involves several parameters or the dimension n, naming the values.
    /// Throws `invalidArgument`; never touches a backend.
    public func validate(dimension n: Int) throws(HLRError) {
        guard n >= 1 else { throw .invalid("\(kind.name): operator dimension must be ≥ 1, got \(n)") }
        if let blocks, blocks.elementCount != n {
            throw .invalid(
                "\(kind.name): block offsets end at \(blocks.elementCount), the dimension is \(n)")
        }
        switch kind {
        case .lanczos, .powerIteration:
            let k = integer(.count)
            guard k <= n else {
                throw .invalid("\(kind.name): count (k) must be in 1...\(n) (the dimension), got \(k)")
            }
            if kind == .lanczos {
                let m = integer(.maxDimension)
                guard m >= k else {
                    throw .invalid("lanczos: max_dimension (\(m)) must be ≥ count (\(k))")
                }
            }
        case .hutchPlusPlus:
            let m = integer(.matvecs)
            let sketch = integer(.sketchSize) == 0 ? m / 3 : integer(.sketchSize)
            let adaptive = double(.relativeTolerance) > 0
            let minimum = adaptive ? integer(.minSamples) : 1
            guard sketch <= m / 2, m - 2 * sketch >= minimum else {
                throw .invalid(
                    "hutch_plus_plus: matvecs (\(m)) must be ≥ 2·sketch_size + "
                        + "\(adaptive ? "min_samples" : "1") = \(2 * sketch + minimum) (sketch_size \(sketch))")
            }
        case .spectralDensity:
            let lower = double(.gridLower), upper = double(.gridUpper)
            if lower.isFinite && upper.isFinite && !(lower < upper) {
                throw .invalid("spectral_density: grid_lower (\(lower)) must be < grid_upper (\(upper))")
            }
        case .hutchinson, .diagonal, .xtrace, .xdiag:
            break
        }
        let work = workBound(dimension: n)
        guard work.hvps <= Self.maxRunHVPs else {
            throw .invalid(
                "\(kind.name): this run could make \(work.hvps) HVPs (\(work.hvpFormula)), "
                    + "more than the \(Self.maxRunHVPs) one run may make")
        }
        guard work.smoothingPairs <= Self.maxSmoothingPairs else {
            throw .invalid(
                "spectral_density: smoothing runs × min(steps, n) × grid_points = \(work.smoothingPairs) "
                    + "Gaussian terms is more than \(Self.maxSmoothingPairs); lower runs or grid_points")
        }
    }

    /// Most HVPs one run may make: 2³¹ (`EstimatorParameterSpec.maxCount`).
    public static var maxRunHVPs: Int { EstimatorParameterSpec.maxCount }
    /// Most node × grid-point Gaussian terms one spectral-density smoothing may evaluate: 2³⁴
    /// (about a minute of one core), so grid_points and runs cannot multiply into hours of
    /// dense work on a small operator.
    public static var maxSmoothingPairs: Int { 1 << 34 }

    /// The worst case of one run on an operator of dimension n, as a function of the parameters.
    /// Dense work is in multiply-adds of host scalars (vector kernels of length n, or the small
    /// dense algebra); m = min(max_dimension, n), s = the sketch or test-vector count capped at
    /// n, k = count, I = max_iterations, r = runs, p = grid_points:
    ///
    /// | kind             | HVPs (at most)       | dense work (order of)                 | vectors held |
    /// |------------------|----------------------|---------------------------------------|--------------|
    /// | lanczos          | m                    | m²·n (full reorthogonalisation) + m³  | m + 2        |
    /// | power_iteration  | k·I                  | k²·I·n (deflation)                    | k + 2        |
    /// | hutchinson       | samples              | samples·n                             | 2            |
    /// | hutch_plus_plus  | matvecs              | matvecs·s·n + s³                      | 2s + 2       |
    /// | xtrace           | matvecs              | s·min(s, n)·n + min(s, n)³, s = ⌊matvecs/2⌋ | 3s + 1 |
    /// | diagonal         | samples              | samples·n                             | 3            |
    /// | xdiag            | matvecs              | s·min(s, n)·n + min(s, n)³, s = ⌊matvecs/2⌋ | 2s + 5 |
    /// | spectral_density | r·min(steps, n)      | r·m²·n + r·m·p (smoothing), m = min(steps, n) | m + 2 |
    ///
    /// With hvp_block = b > 1 on a backend that batches products, the probing estimators hold up
    /// to 2b more work vectors and the spectral density min(b, r)·(m + 1) (min(b, r) runs at a
    /// time).
    ///
    /// `validate(dimension:)` refuses a run whose HVP bound exceeds `maxRunHVPs` or whose
    /// smoothing exceeds `maxSmoothingPairs`; every count whose dense work would grow past n (Krylov
    /// dimension, sketch, SLQ steps, the rows of XTrace's R) is capped at n by the estimator.
    public struct WorkBound: Sendable, Equatable {
        /// Most HVPs the run makes.
        public var hvps: Int
        /// The formula of `hvps` in words (for messages).
        public var hvpFormula: String
        /// Node × grid-point terms of the density smoothing (0 for other kinds).
        public var smoothingPairs: Int
    }

    /// `WorkBound` of this configuration on an operator of dimension n (saturating: products
    /// that overflow are reported as `Int.max`).
    public func workBound(dimension n: Int) -> WorkBound {
        func times(_ a: Int, _ b: Int) -> Int {
            let (product, overflow) = a.multipliedReportingOverflow(by: b)
            return overflow ? .max : product
        }
        let n = Swift.max(n, 1)
        switch kind {
        case .lanczos:
            return WorkBound(hvps: Swift.min(integer(.maxDimension), n), hvpFormula: "min(max_dimension, n)", smoothingPairs: 0)
        case .powerIteration:
            return WorkBound(
                hvps: times(integer(.count), integer(.maxIterations)), hvpFormula: "count × max_iterations",
                smoothingPairs: 0)
        case .hutchinson, .diagonal:
            return WorkBound(hvps: integer(.samples), hvpFormula: "samples", smoothingPairs: 0)
        case .hutchPlusPlus:
            return WorkBound(hvps: integer(.matvecs), hvpFormula: "matvecs", smoothingPairs: 0)
        case .xtrace, .xdiag:
            return WorkBound(hvps: integer(.matvecs), hvpFormula: "matvecs", smoothingPairs: 0)
        case .spectralDensity:
            let nodes = times(integer(.runs), Swift.min(integer(.steps), n))
            return WorkBound(
                hvps: nodes, hvpFormula: "runs × min(steps, n)", smoothingPairs: times(nodes, integer(.gridPoints)))
        }
    }
}
