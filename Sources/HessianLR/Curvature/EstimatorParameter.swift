/// Numeric keys of estimator parameters. Raw values are stable (`HLR_EST_PARAM_*` in the C
/// header) and never reused; a key means the same quantity in every kind that has it. Which kinds
/// have which key, with ranges and defaults, is `EstimatorKind.parameterSpecs`.
///
/// Every value is a Double; counts and choices are integral. The probe seed is not a parameter (a
/// Double would lose its bits above 2⁵³): it is `EstimatorConfig.seed`, a UInt64.
public enum EstimatorParameter: Int, CatalogEnum {
    /// k, eigenpairs wanted (Lanczos, power iteration; 1 ≤ k ≤ n at run time).
    case count = 1
    /// Lanczos: which end of the spectrum, an `EigenTarget` raw value (`HLR_WHICH_*`).
    case which = 2
    /// Lanczos: relative Ritz-residual tolerance; power iteration: relative-change tolerance.
    case tolerance = 3
    /// Lanczos: largest Krylov dimension m (≥ count; capped at n).
    case maxDimension = 4
    /// Power iteration: HVPs per eigenpair at most.
    case maxIterations = 5
    /// Probe distribution, a `ProbeDistribution` raw value (`HLR_PROBE_*`).
    case distribution = 6
    /// Lanczos, power iteration: 1 to return the eigenvectors, 0 not to.
    case computeVectors = 7
    /// Lanczos, SLQ: largest tolerated relative asymmetry (+∞ disables the check).
    case symmetryTolerance = 8
    /// Hutchinson: probes (at most, when adaptive); diagonal: probes.
    case samples = 9
    /// Hutchinson, Hutch++: 0 for a fixed budget, > 0 to stop once the standard error is at most
    /// this fraction of |estimate|.
    case relativeTolerance = 10
    /// Hutchinson, Hutch++ (residual probes): samples before the adaptive rule may stop.
    case minSamples = 11
    /// Hutch++: HVP budget m.
    case matvecs = 12
    /// Hutch++: sketch columns s; 0 means automatic (⌊m/3⌋).
    case sketchSize = 13
    /// SLQ: independent Lanczos runs n_v.
    case runs = 14
    /// SLQ: Lanczos steps per run (capped at n).
    case steps = 15
    /// SLQ: density grid points.
    case gridPoints = 16
    /// SLQ: Gaussian smoothing width σ; 0 means automatic (1% of the node spread).
    case sigma = 17
    /// SLQ: lower grid end; −∞ means automatic (min node − 5σ).
    case gridLower = 18
    /// SLQ: upper grid end; +∞ means automatic (max node + 5σ).
    case gridUpper = 19
    /// Host runs: threads for the vector operations (results do not depend on it).
    case threads = 20
    /// Lanczos: 0 (off) or a requested relative eigenvalue accuracy ε: also stop once every
    /// wanted Ritz value's error estimate min(r, r²/gap) is ≤ ε·|θ| (`Lanczos`).
    case eigenvalueTolerance = 21
    /// Hutchinson, Hutch++, diagonal, XTrace, XDiag: products per call of a backend that batches them
    /// (`OperatorBackend.appliesBlocks`, the ops table's `hvp_block`); 1 = one at a time.
    case hvpBlock = 22

    /// Parses a C key, naming the bad value on failure (`unknownKey`).
    public static func from(rawValue: Int) throws(HLRError) -> EstimatorParameter {
        guard let parameter = EstimatorParameter(rawValue: rawValue) else {
            throw HLRError(.unknownKey, "unknown estimator parameter \(rawValue)")
        }
        return parameter
    }
}
