/// What `Tuner.runStep` did in one step: counts for the trainer's bookkeeping and logs.
public struct StepReport: Sendable, Equatable {
    /// Observations fed to the tuner (failed ones included); 0 when the step needed nothing.
    public var rounds = 0
    /// `.losses` observations reported as failed because a trial loss was NaN or ±Inf.
    public var failures = 0
    /// `curvatures()` calls (each one HVP per group).
    public var curvatureCalls = 0
    /// `loss()` calls (forward passes).
    public var lossCalls = 0

    public init() {}
}
