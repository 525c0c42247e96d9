/// The HessianLR update of one group's learning rate: a pure function of the current rate, the
/// two observed scalars and the options. One place for the math; the tuner only sequences it.
///
/// Units: with weights w in [w], loss in [L] and the direction d in [d], the slope s = gᵀd is in
/// [L·d/w], the curvature c = dᵀHd in [L·d²/w²], so s/c is in [w/d]: the learning rate that makes
/// η·d a change of the weights. The order of operations is:
///
/// 1. **Candidate.** s = 0 → keep lr (`zeroGradient`); s < 0 → keep lr (`notDescent`: −d does
///    not descend). c ≤ 0 → candidate = negative_curvature_decay·lr (`negativeCurvature`).
///    Otherwise candidate = s / c, the exact minimiser of the quadratic model along −d
///    (+∞ when c underflows; the bound below catches it).
/// 2. **Relative bound.** candidate ← clamp(candidate, low·lr, high·lr).
/// 3. **EMA.** lr' = β·lr + (1 − β)·candidate.
/// 4. **Absolute clamp.** lr' ← clamp(lr', lr_min, lr_max).
///
/// Steps 2–4 are `RateSafeguards.update`, the sequence GeN and Hi-DLR share.
///
/// A kept rate still passes the absolute clamp (it may have been set outside it).
public enum HessianLRRule {
    public struct Decision: Sendable, Equatable {
        /// The new learning rate.
        public let learningRate: Double
        /// s / c, or NaN when no quadratic candidate exists (kept, negative curvature).
        public let candidate: Double
        public let flags: DecisionFlags
    }

    /// One update. Inputs must be finite (the tuner checks); the result is finite and within
    /// [lr_min, lr_max].
    public static func decide(
        current: Double, slope: Double, curvature: Double, options: HessianLROptions
    ) -> Decision {
        var flags: DecisionFlags = []
        let candidate: Double
        var raw = Double.nan
        if slope == 0 {
            flags.insert(.zeroGradient)
            return Decision(learningRate: clamp(current, options, &flags), candidate: raw, flags: flags)
        }
        if slope < 0 {
            flags.insert(.notDescent)
            return Decision(learningRate: clamp(current, options, &flags), candidate: raw, flags: flags)
        }
        if curvature <= 0 {
            flags.insert(.negativeCurvature)
            candidate = options.negativeCurvatureDecay * current
        } else {
            raw = slope / curvature
            candidate = raw
        }
        let rate = RateSafeguards.update(
            current: current, candidate: candidate, low: options.lrBoundLow, high: options.lrBoundHigh,
            smoothing: options.smoothing, lrMin: options.lrMin, lrMax: options.lrMax, flags: &flags)
        return Decision(learningRate: rate, candidate: raw, flags: flags)
    }

    /// The absolute clamp [lr_min, lr_max] (the one every rule shares: a rate is finite even
    /// with lr_max = +∞), recording which side applied.
    public static func clamp(
        _ value: Double, _ options: HessianLROptions, _ flags: inout DecisionFlags
    ) -> Double {
        RateSafeguards.clamp(value, lrMin: options.lrMin, lrMax: options.lrMax, flags: &flags)
    }

    /// lr(t) before any curvature update: linear warmup η₀·(t+1)/W for t < W, then η₀; always
    /// within [lr_min, lr_max].
    public static func scheduled(initial: Double, step: UInt64, options: HessianLROptions) -> Double {
        var flags: DecisionFlags = []
        if step < options.warmupSteps {
            let fraction = Double(step + 1) / Double(options.warmupSteps)
            return clamp(initial * fraction, options, &flags)
        }
        return clamp(initial, options, &flags)
    }
}
