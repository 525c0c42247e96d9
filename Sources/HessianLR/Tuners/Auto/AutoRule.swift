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
/// the lowest (far too low) they move by 4⁶/G and it repeats; otherwise the rates move by ρ*/G
/// and tracking starts at the next step. A bracket that no row resolves repeats at the next step
/// (flag zeroGradient): if the losses differ from L(w) but all within the tracking fit's
/// resolution 10⁻⁶·|L(w)|, the probe steps move the model below what the loss resolves (a start
/// like 10⁻¹²): the rates move up as for "far too low", 4⁶/G; if every row equals L(w) exactly, the
/// probes did not move the model at all — a zero update (a batch without gradient, the first step
/// after one), or one below the weights' precision — and carry no information: the rates move up
/// one row, ×4, cautiously, as tracking doubles before its first informative fit; at L(w) = 0 (a
/// batch at loss 0) they hold. (Counting an unresolved bracket as "every step increases the loss"
/// cut the rate by 4⁻⁷ at each step: an absorbing state at lr_min, where every later probe was
/// unresolved too.) G is the optimizer's steady-state gain
/// (`OptimizerDynamics.steadyGain`: (1 − τ)/(1 − β) for heavy ball, 1 for Adam): at the first
/// step momentum buffers are empty (u = g), and in steady state the step along a persistent
/// gradient is G times longer, so the greedy scale along u shrinks by G. A diverged row (+∞,
/// see below) is simply not the lowest. This replaces a ×1.2-per-update ramp: any start within
/// 4⁶ of the good rate lands there at once, any other within a few steps.
///
/// **2. Tracking.** Rows ρ ∈ {−1, 0, +1}, the zero row being the loss the trainer already has:
/// with h = η₀ (group 0's rate),
///
///     a = (L₊ + L₋ − 2L₀)/h²,   b = (L₋ − L₊)/(2h) + κ·h·a        (per unit of η₀)
///
/// a is the secant curvature along the step at the scale of the step itself (it includes what a
/// local Hessian misses) and b the descent slope at the row ρ = −κ of the quadratic through the
/// three losses. As in CDAT (seed 002), b̂ ← β·b̂ + (1 − β)·max(b, 0), â ← β·â + (1 − β)·|a|,
/// and η₀ ← σ·b̂/â: the minimiser, measured from ρ = −κ, of the averaged quadratic model (σ = 1,
/// greedy). A ratio of averages, not an average of ratios, so noisy single fits (a ≈ 0, b < 0)
/// neither explode nor collapse the rate; b̂ = 0 (no descent seen yet) halves it, â = 0 doubles
/// it. The model is trusted at most one bracket ratio beyond the probed span: a fit raises the
/// rate by at most 4 (flag boundedHigh). Fits whose losses all lie within 10⁻⁶·|L₀| of L₀ (about
/// 8 float32 ulps) carry no information and leave the averages as they are (flag zeroGradient).
/// Before any informative fit since the bracket or the last reset, they mean the probe step is
/// below the loss's resolution: the rate doubles. After one, they mean the loss has reached its
/// resolution or a floor (0 when a batch is interpolated): the rate holds. (Doubling there grew
/// the rate without bound while a tiny MLP sat at loss 0 on its one batch — 6·10⁸ by step 554 —
/// until its weights overflowed.)
///
/// Which direction, and κ (option probe_previous). The trainer should probe along the optimizer's
/// PREVIOUS update u_{t−1} (at w_t, on the step's batch; probe_previous = 1). Its slope gₜᵀu_{t−1}
/// is an unbiased estimate of the full-batch slope, since u_{t−1} does not depend on the batch's
/// noise; along the current update the slope gₜᵀuₜ contains the batch's own noise energy (its
/// expectation includes the noise variance of gₜ, through uₜ's dependence on gₜ) and overestimates
/// the rate by a factor that grows as the signal-to-noise ratio falls, i.e. late in training
/// (gₜᵀu_{t−1} < 0 is also the hypergradient sign that the last step overshot: Baydin et al.,
/// "Online learning rate adaptation with hypergradient descent", ICLR 2018). Along u_{t−1} the row
/// ρ = −1 is the previous iterate, w_t + η₀·u_{t−1} = w_{t−1}, and the step that the rate decides
/// started there: the rule takes the slope at ρ = −κ, κ = `OptimizerDynamics.freshFraction`, the
/// part of a steady step that the current gradient contributes (1 for SGD without momentum, 1 − β
/// for heavy ball, 1 − β² for Nesterov, 1 − β₁ for Adam; the rest was committed by the momentum
/// buffer). For gradient descent on f = ½λx² this is the exact line search from w_{t−1}: η = 1/λ
/// whatever the last rate was; the slope at ρ = 0 would give 1/λ − η, whose fixed point is the
/// half-greedy 1/(2λ) (tested in AutoRuleTests). With probe_previous = 0 (the probes run along the
/// current update, as host mode does with the direction it is given) κ = 0: the minimiser from w_t.
/// The torch driver probes along u_{t−1} and sets probe_previous accordingly at every observation
/// (along uₜ at the first step, when there is no previous update).
///
/// **3. Cost.** The period between observations adapts: it starts at 1, doubles (up to
/// update_period, 16) while the rate changes by less than 10% per observation — once the averages
/// span their memory, ⌈−1/ln β⌉ = 10 fits after the bracket or a reset — and halves when it
/// changes more: 2 forward passes per observation, ≈ 2/16 of a forward pass per step once the
/// rate settles, plus the bracket's 12 once.
///
/// **4. Divergence and spikes.** A probe loss that is not finite (a forward pass that overflowed at
/// the probe) is +∞ (`Tuner.acceptsDivergedTrials`: the step driver passes +∞ instead of calling
/// `observeFailure`). During tracking, L₊ or L₋ = +∞ means the rate itself is far beyond the
/// stable range: it is cut by fit_failure_decay (1/16) at once, the averages are forgotten and
/// the period returns to 1, instead of a ×0.95 per update. (`observeFailure` is the same with
/// every trial at +∞.) Along the previous update, a last step that more than doubled the batch
/// loss, q = L₀/L₋ > 2 (q = 1 + (L₀ − L₋)/|L₋| for losses of any sign), is a spike: on a quadratic
/// whose loss grows q-fold per step η·λ = 1 + √q, so the rate is cut by 1/(1 + √q) (to the greedy
/// rate; at most fit_failure_decay), the averages are forgotten and the period returns to 1
/// (flag lossSpike).
///
/// **5. The edge a spike reveals.** The same quadratic puts the edge of stability (η·λ = 2) at
/// η_edge = 2η/(1 + √q): twice the rate the spike cut leads to. The rule keeps the lowest such
/// η_edge as a ceiling for group 0's rate (the other groups keep their ratios) for the rest of
/// the run: no later fit raises the rate above it (flag boundedHigh). As the cut, the edge is
/// floored at what the largest cut accounts for: a growth beyond (1/δ − 1)² (δ = fit_failure_decay;
/// up to q = +∞, a rise from a previous loss of exactly 0) gives 2δη, never 0 (a ceiling of 0 would
/// freeze the rate; the quadratic model's √q overstates η·λ for such jumps). Sharpness does not fall
/// back below a rate that trained at the edge: it rises during training until it meets the edge
/// 2/η and then hovers there (progressive sharpening and the edge of stability, Cohen et al.,
/// ICLR 2021; Damian et al., "Self-stabilization", ICLR 2023), so a rate once found unstable is
/// not stable later, while the averages, forgotten at the spike and rebuilt from small slopes
/// late in training, would otherwise climb back to it (×4 per fit) and spike again.
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
        /// The ceiling of group 0's rate after this observation (+∞: none; see section 5).
        public var ceiling: Double = .infinity
    }

    /// The bracket's decision from the losses at `ratios(.bracket)` (+∞ = diverged; row 0 finite):
    /// the best row's ratio / G, or a move of the whole bracket (down 4⁻⁷ when no row descends,
    /// up 4⁶/G when the largest does or when no row is resolved, up 4 when no row moved the loss at
    /// all; section 1).
    public static func bracket(losses: [Double], gain: Double) -> Decision {
        let ratios = ratios(.bracket)
        let current = losses[0]
        var best = 0
        for j in 1..<losses.count where losses[j] < losses[best] { best = j }
        var decision = Decision(factor: 1, phase: .bracket, slopeAverage: 0, curvatureAverage: 0)
        if losses.allSatisfy({ $0 == current }) {
            decision.factor = current == 0 ? 1 : bracketBase
            decision.flags = [.zeroGradient]
        } else if losses.allSatisfy({ abs($0 - current) <= resolution * abs(current) }) {
            decision.factor = pow(bracketBase, Double(bracketHalfWidth)) / gain
            decision.flags = [.zeroGradient]
        } else if best == 0 || !(losses[best] < current) {
            decision.factor = pow(bracketBase, -Double(bracketHalfWidth + 1))
            decision.flags = [.boundedLow, .notDescent]
        } else if best == ratios.count - 1 {
            decision.factor = pow(bracketBase, Double(bracketHalfWidth)) / gain
            decision.flags = [.boundedHigh]
        } else {
            decision.factor = ratios[best] / gain
            decision.phase = .track
        }
        return decision
    }

    /// The tracking decision from the losses at ρ = −1, 0, +1 (`ratios(.track)`), the current
    /// rate h of group 0, the averages so far and the ceiling of group 0's rate (+∞: none).
    public static func track(
        losses: [Double], rate h: Double, slopeAverage: Double, curvatureAverage: Double,
        ceiling: Double = .infinity, informed: Bool = false, options: AutoOptions
    ) -> Decision {
        let (minus, current, plus) = (losses[0], losses[1], losses[2])
        var decision = Decision(
            factor: 1, phase: .track, slopeAverage: slopeAverage, curvatureAverage: curvatureAverage,
            ceiling: ceiling)
        guard minus.isFinite, plus.isFinite else {
            decision.factor = options.fitFailureDecay
            decision.slopeAverage = 0
            decision.curvatureAverage = 0
            decision.flags = [.observationFailed, .fitRejected]
            return decision
        }
        if options.probePrevious, spikeGrowth(previous: minus, current: current) > spikeThreshold {
            let growth = spikeGrowth(previous: minus, current: current)
            decision.factor = max(1 / (1 + growth.squareRoot()), options.fitFailureDecay)
            decision.ceiling = min(ceiling, edge(rate: h, growth: growth, decay: options.fitFailureDecay))
            decision.slopeAverage = 0
            decision.curvatureAverage = 0
            decision.flags = [.lossSpike, .fitRejected]
            return decision
        }
        guard max(abs(plus - current), abs(minus - current)) > resolution * abs(current) else {
            decision.factor = informed ? 1 : 2
            decision.flags = [.zeroGradient, .fitRejected]
            return belowCeiling(decision, rate: h)
        }
        let a = (plus + minus - 2 * current) / (h * h)
        let b = (minus - plus) / (2 * h) + (options.probePrevious ? options.dynamics.freshFraction : 0) * h * a
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
        if decision.factor > bracketBase {  // trust region: at most one bracket ratio per fit
            decision.factor = bracketBase
            decision.flags.insert(.boundedHigh)
        }
        return belowCeiling(decision, rate: h)
    }

    /// `decision` with a rise of the rate h stopped at its ceiling (never back above a spike's
    /// edge, section 5; flag boundedHigh); decreases pass.
    static func belowCeiling(_ decision: Decision, rate h: Double) -> Decision {
        guard decision.factor > 1, h * decision.factor > decision.ceiling else { return decision }
        var capped = decision
        capped.factor = max(1, decision.ceiling / h)
        capped.flags.insert(.boundedHigh)
        return capped
    }

    /// The edge of stability 2η/(1 + √q) that a step at rate η growing the loss q-fold reveals
    /// (on f = ½λx², |1 − ηλ|² = q per step: ηλ = 1 + √q; the edge is ηλ = 2) — twice the rate
    /// the spike's cut leads to. The cut is at most the fit failure decay δ, which accounts for a
    /// growth up to (1/δ − 1)²; a larger one (up to q = +∞, a rise from a loss of exactly 0)
    /// gives the edge of that largest growth, 2δη, never 0.
    public static func edge(rate: Double, growth: Double, decay: Double) -> Double {
        2 * rate * max(1 / (1 + growth.squareRoot()), decay)
    }

    /// The loss growth q = L(w_t)/L(w_{t−1}) of the last step on this batch, as
    /// 1 + (L₀ − L₋)/|L₋| so that it is defined for losses of any sign (+∞ when L₋ = 0 < L₀).
    /// The row ρ = −1 is the previous iterate: w_t + η·u_{t−1} = w_{t−1}.
    public static func spikeGrowth(previous: Double, current: Double) -> Double {
        let rise = current - previous
        if rise <= 0 { return 1 }
        return previous == 0 ? .infinity : 1 + rise / abs(previous)
    }

    /// A step that more than doubled the batch loss is a spike (`spikeGrowth` > 2).
    public static let spikeThreshold = 2.0

    /// Fits needed before the averages span their memory: one time constant, the first n with
    /// βⁿ ≤ 1/e, n = ⌈−1/ln β⌉ (10 at β = 0.9, 1 at β = 0). Until then the period does not grow.
    public static func warmFits(smoothing beta: Double) -> UInt64 {
        let span = (-1 / log(beta)).rounded(.up)
        return span < 1e18 ? UInt64(max(span, 1)) : UInt64(1e18)
    }

    /// The period after an observation that changed the rates by `factor`: ×2 (up to `maximum`)
    /// while |log factor| < `holdTolerance` and the averages are `warm` (the tuner also passes
    /// warm for a flat fit that held the rate: at a loss floor the period would otherwise stay 1
    /// and every step would probe), kept while holding but not warm, halved (down to 1)
    /// otherwise; 1 after a bracket and after a reset of the averages (a spike or a diverged
    /// probe).
    public static func nextPeriod(
        _ period: UInt64, factor: Double, phase: Phase, maximum: UInt64, warm: Bool = true, reset: Bool = false
    ) -> UInt64 {
        if phase == .bracket || reset { return 1 }
        if abs(log(factor)) < holdTolerance {
            return warm ? min(period.multipliedReportingOverflow(by: 2).partialValue, maximum) : min(period, maximum)
        }
        return max(1, period / 2)
    }
}
