import Foundation

/// `auto`, the recommended mode: the learning rate from forward losses along the optimizer's own
/// update, with a wide search at the start and a fast response to divergence. Pure functions;
/// `AutoTuner` sequences them. Only forward losses are needed (no Hessian-vector product, no
/// double-backward graph), so it works with fused attention kernels and under data parallelism
/// (the step driver averages the losses over processes).
///
/// Notation: the trainer steps w ← w − η_k·u_k on group k (u the optimizer's update per unit
/// rate: the gradient for plain SGD, the momentum buffer, Adam's preconditioned step); a probe
/// row ρ evaluates L(w − ρ·Σ_k η_k·u_k), i.e. every group moved by ρ times its own current step
/// (the groups keep their rate ratios, as GeN's Hi-ULR). The rule tunes the common scale.
///
/// **1. Bracket (the first observation).** Rows ρ ∈ {0, 4⁻⁶, 4⁻⁵, …, 4⁶}: 13 forward passes
/// spanning a factor 4¹² ≈ 1.7·10⁷ around the start. ρ* = the row with the lowest loss. If no
/// row is below L(w) (every step, even 4⁻⁶ of the start, increases the loss: the start is far too
/// high) the rates move by 4⁻⁷ and the bracket repeats at the next step; if the largest row is
/// the lowest (far too low) they move by 4⁶ and it repeats; otherwise the rates move by ρ*/G
/// and tracking starts at the next step. G is the optimizer's steady-state gain
/// (`OptimizerDynamics.steadyGain`: (1 − τ)/(1 − β) for heavy ball, 1 for Adam): at the first
/// step momentum buffers are empty (u = g), and in steady state the step along a persistent
/// gradient is G times longer, so the greedy scale along u shrinks by G. A diverged row (+∞,
/// see below) is simply not the lowest. This replaces a ×1.2-per-update ramp: any start within
/// 4⁶ of the good rate lands there at once, any other within a few steps.
///
/// **2. Tracking.** Rows ρ ∈ {−1, 0, +1}, the zero row being the loss the trainer already has:
/// with h = η₀ (group 0's rate),
///
///     b = (L₋ − L₊)/(2h),   a = (L₊ + L₋ − 2L₀)/h²        (slope and curvature per unit of η₀)
///
/// i.e. the central finite differences of the loss along the step, at the scale of the step
/// itself (the secant curvature includes what a local Hessian misses). As in CDAT (seed 002),
/// b̂ ← β·b̂ + (1 − β)·max(b, 0), â ← β·â + (1 − β)·|a|, and η₀ ← σ·b̂/â: the minimiser of the
/// averaged quadratic model (σ = 1, greedy). A ratio of averages, not an average of ratios, so
/// noisy single fits (a ≈ 0, b < 0) neither explode nor collapse the rate; b̂ = 0 (no descent
/// seen yet) halves it, â = 0 doubles it. Fits whose losses all lie within 10⁻⁶·|L₀| of L₀
/// (about 8 float32 ulps: the probe step is below the model's resolution) carry no information:
/// the rate doubles and the averages stay.
///
/// Which direction: the trainer should probe along the optimizer's PREVIOUS update u_{t−1}
/// (at w_t, on the step's batch). Its slope gₜᵀu_{t−1} is an unbiased estimate of the
/// full-batch slope, since u_{t−1} does not depend on the batch's noise; along the current
/// update the slope gₜᵀuₜ contains the batch's own noise energy (its expectation includes the
/// noise variance of gₜ, through uₜ's dependence on gₜ) and overestimates the rate by a factor
/// that grows as the signal-to-noise ratio falls, i.e. late in training. gₜᵀu_{t−1} < 0 is also the hypergradient sign that the last step overshot
/// (Baydin et al., "Online learning rate adaptation with hypergradient descent", ICLR 2018).
/// The torch driver does this; at the first step (no previous update) it probes along uₜ.
///
/// **3. Cost.** The period between observations adapts: it starts at 1, doubles (up to
/// update_period, 16) while the rate changes by less than 10% per observation and halves when it
/// changes more: 2 forward passes per observation, ≈ 2/16 of a forward pass per step once the
/// rate settles, plus the bracket's 12 once.
///
/// **4. Divergence.** A probe loss that is not finite (a forward pass that overflowed at the
/// probe) is +∞ (`Tuner.acceptsDivergedTrials`: the step driver passes +∞ instead of calling
/// `observeFailure`). During tracking, L₊ or L₋ = +∞ means the rate itself is far beyond the
/// stable range: it is cut by fit_failure_decay (1/16) at once, the averages are forgotten and
/// the period returns to 1, instead of a ×0.95 per update. (`observeFailure` is the same with
/// every trial at +∞.)
public enum AutoRule {
    /// Half-width J of the bracket: rows 4^j for j = −J…J.
    public static let bracketHalfWidth = 6
    /// Ratio between bracket rows.
    public static let bracketBase = 4.0
    /// Relative loss change below which a tracking fit carries no information.
    public static let resolution = 1e-6
    /// |log(change)| below which the rate counts as holding (the period doubles).
    public static let holdTolerance = log(1.1)

    public enum Phase: UInt8, Sendable {
        case bracket = 0
        case track = 1
    }

    /// ρ of the rows of `phase`, in row order.
    public static func ratios(_ phase: Phase) -> [Double] {
        switch phase {
        case .bracket:
            return [0] + (-bracketHalfWidth...bracketHalfWidth).map { pow(bracketBase, Double($0)) }
        case .track:
            return [-1, 0, 1]
        }
    }

    /// The probe rows ξ_jk = ρ_j·η_k for the current rates.
    public static func probes(phase: Phase, rates: [Double]) -> [[Double]] {
        ratios(phase).map { ratio in rates.map { ratio * $0 } }
    }

    /// What one observation decided: the factor applied to every rate, the new averages, the
    /// next phase and the fit's numbers for the logs.
    public struct Decision: Sendable, Equatable {
        public var factor: Double
        public var phase: Phase
        public var slopeAverage: Double
        public var curvatureAverage: Double
        /// b and a of this fit (per unit of η₀), NaN for a bracket or a diverged fit.
        public var slope: Double = .nan
        public var curvature: Double = .nan
        public var flags: DecisionFlags = []
    }

    /// The bracket's decision from the losses at `ratios(.bracket)` (+∞ = diverged; row 0 finite).
    public static func bracket(losses: [Double], gain: Double) -> Decision {
        let ratios = ratios(.bracket)
        let current = losses[0]
        var best = 0
        for j in 1..<losses.count where losses[j] < losses[best] { best = j }
        var decision = Decision(factor: 1, phase: .bracket, slopeAverage: 0, curvatureAverage: 0)
        if best == 0 || !(losses[best] < current) {
            decision.factor = pow(bracketBase, -Double(bracketHalfWidth + 1))
            decision.flags = [.boundedLow, .notDescent]
        } else if best == ratios.count - 1 {
            decision.factor = pow(bracketBase, Double(bracketHalfWidth))
            decision.flags = [.boundedHigh]
        } else {
            decision.factor = ratios[best] / gain
            decision.phase = .track
        }
        return decision
    }

    /// The tracking decision from the losses at ρ = −1, 0, +1 (`ratios(.track)`), the current
    /// rate h of group 0 and the averages so far.
    public static func track(
        losses: [Double], rate h: Double, slopeAverage: Double, curvatureAverage: Double, options: AutoOptions
    ) -> Decision {
        let (minus, current, plus) = (losses[0], losses[1], losses[2])
        var decision = Decision(
            factor: 1, phase: .track, slopeAverage: slopeAverage, curvatureAverage: curvatureAverage)
        guard minus.isFinite, plus.isFinite else {
            decision.factor = options.fitFailureDecay
            decision.slopeAverage = 0
            decision.curvatureAverage = 0
            decision.flags = [.observationFailed, .fitRejected]
            return decision
        }
        guard max(abs(plus - current), abs(minus - current)) > resolution * abs(current) else {
            decision.factor = 2
            decision.flags = [.zeroGradient, .fitRejected]
            return decision
        }
        let b = (minus - plus) / (2 * h)
        let a = (plus + minus - 2 * current) / (h * h)
        decision.slope = b
        decision.curvature = a
        let beta = options.smoothing
        decision.slopeAverage = beta * slopeAverage + (1 - beta) * max(b, 0)
        decision.curvatureAverage = beta * curvatureAverage + (1 - beta) * abs(a)
        if b <= 0 { decision.flags.insert(.notDescent) }
        if a <= 0 { decision.flags.insert(.negativeCurvature) }
        if decision.slopeAverage > 0 && decision.curvatureAverage > 0 {
            decision.factor = options.sigma * decision.slopeAverage / decision.curvatureAverage / h
        } else if decision.slopeAverage <= 0 {
            decision.factor = 0.5
        } else {
            decision.factor = 2
        }
        if !decision.factor.isFinite || decision.factor <= 0 {  // averages under/overflowed
            decision.factor = decision.slopeAverage > 0 ? 2 : 0.5
        }
        return decision
    }

    /// The period after an observation that changed the rates by `factor`: ×2 (up to `maximum`)
    /// while |log factor| < `holdTolerance`, halved (down to 1) otherwise; 1 after a bracket.
    public static func nextPeriod(_ period: UInt64, factor: Double, phase: Phase, maximum: UInt64) -> UInt64 {
        if phase == .bracket { return 1 }
        if abs(log(factor)) < holdTolerance { return min(period.multipliedReportingOverflow(by: 2).partialValue, maximum) }
        return max(1, period / 2)
    }
}
