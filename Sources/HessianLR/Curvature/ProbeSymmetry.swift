/// The optional symmetry check of the probe-only estimators (Hutchinson, the Hutchinson
/// diagonal), which have no pair of vectors for free: consecutive probes z, z' with their HVPs
/// must satisfy zᵀ(Hz') = (Hz)ᵀz' for a symmetric H. Relative deviation
///
///     |zᵀ(Hz') − (Hz)ᵀz'| / max(‖Hz‖·‖z'‖, ‖Hz'‖·‖z‖),
///
/// above `tolerance` fails the run with `invalidArgument` (the message of `SymmetryCheck`, as
/// Lanczos). Cost when enabled: no HVP; two more vectors, two copies and four dots per probe.
/// Off (`tolerance` = +∞, the default of those kinds) it allocates and computes nothing.
struct ProbeSymmetry<B: OperatorBackend> {
    private var check: SymmetryCheck
    private let previousZ: B.Vector?
    private let previousHz: B.Vector?
    private var previousNorms = (z: 0.0, hz: 0.0)
    private var count = 0

    var maxAsymmetry: Double { check.maxAsymmetry }

    init(_ session: BackendSession<B>, tolerance: Double) throws(HLRError) {
        try SymmetryCheck.validate(tolerance, estimator: session.estimator)
        check = SymmetryCheck(tolerance: tolerance)
        previousZ = tolerance.isFinite ? try session.scratch() : nil
        previousHz = tolerance.isFinite ? try session.scratch() : nil
    }

    /// Checks the pair (previous probe, this probe) and keeps this one for the next call.
    mutating func record(_ session: BackendSession<B>, z: B.Vector, hz: B.Vector, sample: Int) throws(HLRError) {
        guard let previousZ, let previousHz else { return }
        let zNorm = try session.norm(z, "z\(sample)")
        let hzNorm = try session.norm(hz, "Hz\(sample)")
        if count > 0 {
            try check.check(
                session, x: "z\(sample - 1)", y: "z\(sample)",
                xHy: try session.dot(previousZ, hz, "z\(sample - 1)ᵀHz\(sample)"),
                hxY: try session.dot(previousHz, z, "(Hz\(sample - 1))ᵀz\(sample)"),
                scale: Swift.max(previousNorms.hz * zNorm, hzNorm * previousNorms.z))
        }
        try session.backend.copy(z, to: previousZ)
        try session.backend.copy(hz, to: previousHz)
        previousNorms = (zNorm, hzNorm)
        count += 1
    }
}
