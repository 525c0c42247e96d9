/// The CDAT update of one group (seed 002): a pure function of the previous EMAs, the two
/// observed scalars and the options. One place for the math; the tuner only sequences it.
///
/// Convention: the trainer steps w ← w − η·u (u = the optimizer's update, or g). With
/// s = gᵀu and c = uᵀHu along the group's u:
///
///     n = max(s, 0)                    (the paper's max(−∇fᵀu, 0) for its w + η·u convention)
///     d = |c| + ε
///     n̂ ← β·n̂ + (1 − β)·n,  d̂ ← β·d̂ + (1 − β)·d          (separate EMAs, both start at 0)
///     η = clamp(σ·n̂/d̂, lr_min, lr_max)
///
/// **Bias handling.** Both EMAs start at 0 with the same β, so after t observations each carries
/// the same factor (1 − βᵗ) of weight; the Adam-style corrections n̂/(1 − βᵗ) and d̂/(1 − βᵗ)
/// are equal and cancel in the ratio. The rule therefore needs no correction and σ·n̂/d̂ *is*
/// the bias-corrected ratio; the first observation gives σ·n/d (up to rounding).
///
/// Units: s in [L·u/w], c in [L·u²/w²], so n̂/d̂ is in [w/u]: a learning rate. σ = 1 is the
/// minimiser of the local quadratic along −u ("quadratically greedy"); σ = 2 puts η·(uᵀHu/uᵀu)
/// at 2, the edge of stability along u.
///
/// Degenerate cases (flags): s = 0 (`zeroGradient`) or s < 0 (`notDescent`) give n = 0, so
/// with β = 0 the candidate is 0 and the clamp raises it to lr_min (no step along a non-descent
/// direction, as in the paper); c < 0 (`negativeCurvature`) uses |c|; a tiny d gives a huge
/// candidate that the clamp lowers to lr_max (`clampedMax`); 0/0 (n̂ = 0 with d̂ underflowed
/// to 0) is a candidate of 0. Inputs must be finite (the tuner refuses others); the tuner also
/// refuses an observation whose d or EMAs overflow.
public enum CDATRule {
    public struct Decision: Sendable, Equatable {
        public let learningRate: Double
        /// σ·n̂/d̂ before the clamp.
        public let candidate: Double
        public let numerator: Double
        public let denominator: Double
        public let flags: DecisionFlags
    }

    public static func decide(
        numerator previousN: Double, denominator previousD: Double, slope: Double,
        curvature: Double, options: CDATOptions
    ) -> Decision {
        var flags: DecisionFlags = []
        if slope == 0 { flags.insert(.zeroGradient) }
        if slope < 0 { flags.insert(.notDescent) }
        if curvature < 0 { flags.insert(.negativeCurvature) }
        let n = max(slope, 0)
        let d = abs(curvature) + options.epsilon
        let beta = options.smoothing
        let nHat = beta * previousN + (1 - beta) * n
        let dHat = beta * previousD + (1 - beta) * d
        let candidate = nHat == 0 ? 0 : options.sigma * nHat / dHat
        let rate = RateSafeguards.clamp(candidate, lrMin: options.lrMin, lrMax: options.lrMax, flags: &flags)
        return Decision(learningRate: rate, candidate: candidate, numerator: nHat, denominator: dHat, flags: flags)
    }
}
