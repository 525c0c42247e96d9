/// The trainer's side of one optimizer step, as the step driver (`Tuner.runStep`) sees it: a
/// few operations over the trainer's own tensors (host buffers, GPU tensors behind C callbacks,
/// torch parameters), of which only scalars reach the library. This is to tuners what
/// `OperatorBackend` is to the curvature estimators.
///
/// With K parameter groups, g the gradient at the current weights w and d the direction the
/// optimizer will step along (w ← w − η_k·d_k on group k: d = g for plain SGD, the optimizer's
/// update u otherwise), d_k = d on group k and 0 elsewhere:
///
/// - `slopes()`      → [g_kᵀd_k]           (K values, float64 accumulation)
/// - `curvatures()`  → [d_kᵀ H d_k]         (K values, one Hessian-vector product per group)
/// - `setTrial(ξ)`   → weights ← w − Σ_k ξ_k·d_k, computed from w (not from the previous trial)
/// - `loss()`        → L at the weights as they are now (w, or the trial weights)
/// - `restore()`     → weights ← w bit for bit
/// - `allReduce(v)`  → v ← Σ over the trainer's processes of v (elementwise), when distributed
///
/// Contract: the driver calls `restore()` once after the trial losses of every `.losses`
/// observation and on every exit path after a `setTrial` (also when an operation threw), so the
/// trainer's weights are w again when `runStep` returns or throws. `slopes` and `curvatures`
/// are called only while the weights are w. Every operation may throw (`callbackFailed` for a
/// failing callback); the step then fails and the tuner is unchanged. Returned scalars are
/// checked by the driver (count, finiteness), never trusted.
///
/// Distributed training: each process calls `runStep` with its own backend; the values an
/// observation needs are computed locally, then averaged over the processes through `allReduce`
/// (the driver appends 1 to the array, so the sum of that element is the process count) before
/// the tuner sees them, so every process feeds the same observation and gets the same rates. For
/// data parallelism (replicated weights, an all-reduced gradient) local slopes are the same on
/// every process, and local losses and curvatures are those of the process's own batch: their
/// mean is the global batch's (for equal local batch sizes).
public protocol StepBackend {
    /// K, the number of parameter groups (must equal the tuner's).
    var groupCount: Int { get }

    /// True when `allReduce` must be called (the trainer runs several processes).
    var isDistributed: Bool { get }

    /// g_kᵀd_k per group, float64.
    mutating func slopes() throws(HLRError) -> [Double]

    /// d_kᵀHd_k per group.
    mutating func curvatures() throws(HLRError) -> [Double]

    /// Moves the weights to w − Σ_k steps[k]·d_k (K finite steps).
    mutating func setTrial(_ steps: [Double]) throws(HLRError)

    /// The loss at the weights as they are (w, or the last trial).
    mutating func loss() throws(HLRError) -> Double

    /// Puts w back, bit for bit.
    mutating func restore() throws(HLRError)

    /// Sums `values` elementwise over the processes, in place (same count, same order, same
    /// result on every process). Called only when `isDistributed`.
    mutating func allReduce(_ values: inout [Double]) throws(HLRError)
}

extension StepBackend {
    public var isDistributed: Bool { false }

    public mutating func allReduce(_ values: inout [Double]) throws(HLRError) {}
}
