/// The linear dynamics of the base optimizers on a quadratic, which decide what a curvature rule
/// may hand out (issue 14: "the optimizer's dynamics decide the stable rate, not gᵀHg alone").
///
/// On f(w) = ½λw² (one eigen-direction of H; for Adam, of the preconditioned P⁻¹H with the
/// preconditioner P = diag(√v̂ + ε) frozen), with learning rate η and u = η·λ:
///
/// **SGD, torch's form** (momentum β, dampening τ, optional Nesterov):
///
///     b_t = β b_{t−1} + (1 − τ) g_t,   d_t = g_t + β b_t (Nesterov) or b_t,   w_{t+1} = w_t − η d_t.
///
/// - Heavy ball. Eliminating b: w_{t+1} = (1 + β − (1 − τ)u) w_t − β w_{t−1}, characteristic
///   z² − (1 + β − (1 − τ)u) z + β. Jury's conditions give stability iff 0 < (1 − τ)u < 2(1 + β)
///   (and β < 1): the edge is u* = 2(1 + β)/(1 − τ), not 2.
/// - Nesterov. On (w_t, b_{t−1}) the transition has trace 1 + β − u(1 + β(1 − τ)) and determinant
///   β(1 − u); Jury: 1 − tr + det = u(1 − βτ) > 0 and 1 + tr + det = 2(1 + β) − u(1 + 2β − βτ) > 0,
///   so u* = 2(1 + β)/(1 + 2β − βτ) (2(1+β)/(1+2β) without dampening, the known Nesterov edge).
/// - Steady directions (a constant gradient g, the low-curvature directions that dominate late
///   training) are amplified by the DC gain G: b → (1 − τ)g/(1 − β), so the step is η·G·g with
///   G = (1 − τ)/(1 − β) (heavy ball) or (1 − βτ)/(1 − β) (Nesterov). A one-step quadratic model
///   along g (gᵀg/gᵀHg) therefore misjudges the effective rate by the factor G (10 at β = 0.9).
///
/// **Adam / AdamW** (β₁, bias-corrected m̂): with P frozen the update direction m̂/P follows an
/// exponential moving average, i.e. heavy ball with β = β₁ and dampening τ = β₁ on the
/// preconditioned curvature λ(P⁻¹H): the edge is η·λ_max(P⁻¹H) < (2 + 2β₁)/(1 − β₁) (Cohen et al.,
/// "Adaptive gradient methods at the edge of stability", 2022), and the DC gain is 1 (m̂ → g).
/// An SGD-scale rate gᵀg/gᵀHg is meaningless for Adam; the quadratic-optimal scalar for Adam is
/// along its update u: gᵀu/uᵀHu (HessianLR's direction = update).
///
/// Decoupled weight decay (AdamW) adds η·wd to the curvature of every direction of the update;
/// L2 weight decay in SGD adds wd to λ. Both are the caller's to add to λ when they matter.
public struct OptimizerDynamics: Sendable, Equatable {
    /// The base optimizer, in the terms of its torch implementation.
    public enum Kind: Sendable, Equatable {
        /// torch.optim.SGD(momentum:, dampening:, nesterov:); momentum 0 is plain gradient descent.
        case sgd(momentum: Double, dampening: Double, nesterov: Bool)
        /// torch.optim.Adam / AdamW (β₁; β₂ and ε only shape the preconditioner P).
        case adam(beta1: Double)
    }

    public let kind: Kind

    /// Validates the coefficients: momentum, β₁ ∈ [0, 1); dampening ∈ [0, 1]; Nesterov needs
    /// momentum > 0 and dampening 0 (as torch requires).
    public init(_ kind: Kind) throws(HLRError) {
        switch kind {
        case .sgd(let momentum, let dampening, let nesterov):
            guard momentum >= 0, momentum < 1 else { throw .invalid("momentum must be in [0, 1), got \(momentum)") }
            guard dampening >= 0, dampening <= 1 else { throw .invalid("dampening must be in [0, 1], got \(dampening)") }
            if nesterov && (momentum == 0 || dampening != 0) {
                throw .invalid("Nesterov momentum requires a momentum > 0 and zero dampening (as torch)")
            }
            if !nesterov && dampening == 1 && momentum > 0 {
                throw .invalid("dampening 1 with momentum \(momentum) never moves the weights")
            }
        case .adam(let beta1):
            guard beta1 >= 0, beta1 < 1 else { throw .invalid("beta1 must be in [0, 1), got \(beta1)") }
        }
        self.kind = kind
    }

    private init(valid kind: Kind) { self.kind = kind }

    /// Plain gradient descent (momentum 0).
    public static let gradientDescent = OptimizerDynamics(valid: .sgd(momentum: 0, dampening: 0, nesterov: false))

    /// u* = η·λ at the edge of stability: the update is linearly stable along an eigen-direction
    /// iff 0 < η·λ < edge (λ of H for SGD, of P⁻¹H for Adam). Gradient descent: 2.
    public var edge: Double {
        switch kind {
        case .sgd(let beta, let tau, let nesterov):
            return nesterov ? 2 * (1 + beta) / (1 + 2 * beta - beta * tau) : 2 * (1 + beta) / (1 - tau)
        case .adam(let beta1):
            return (2 + 2 * beta1) / (1 - beta1)
        }
    }

    /// The steady-state gain G: the step along a constant gradient g is η·G·g (Adam: along P⁻¹g).
    /// Without momentum torch ignores the dampening (no buffer): G = 1.
    public var steadyGain: Double {
        switch kind {
        case .sgd(let beta, _, _) where beta == 0:
            return 1
        case .sgd(let beta, let tau, let nesterov):
            return nesterov ? (1 - beta * tau) / (1 - beta) : (1 - tau) / (1 - beta)
        case .adam:
            return 1
        }
    }

    /// The fresh fraction κ = c/G of a steady step: c is the coefficient of the current gradient
    /// g_t in the step d_t, G the steady gain, so along a persistent gradient the part κ·d_t of the
    /// step is decided by this step's gradient and the rest, (1 − κ)·d_t, was committed by the
    /// momentum buffer before g_t was seen. Plain gradient descent κ = 1 (memoryless); heavy ball
    /// c = 1 − τ, κ = 1 − β; Nesterov (τ = 0) c = 1 + β, κ = (1 + β)(1 − β) = 1 − β²; Adam's EMA
    /// c = 1 − β₁, G = 1, κ = 1 − β₁ (after the bias correction has faded).
    public var freshFraction: Double {
        switch kind {
        case .sgd(let beta, _, _) where beta == 0:
            return 1
        case .sgd(let beta, let tau, let nesterov):
            return nesterov ? (1 + beta * (1 - tau)) / steadyGain : 1 - beta
        case .adam(let beta1):
            return 1 - beta1
        }
    }

    /// The learning rate whose steady step η·G minimises the quadratic along the direction with
    /// curvature-per-unit-step `curvature` = dᵀHd/dᵀd (d the direction the optimizer's step follows;
    /// for SGD the gradient, for Adam its preconditioned update): η = 1/(G·curvature), the
    /// momentum-aware counterpart of gᵀg/gᵀHg. nil when curvature ≤ 0 or not finite.
    public func greedyRate(curvature: Double) -> Double? {
        guard curvature > 0, curvature.isFinite else { return nil }
        let rate = 1 / (steadyGain * curvature)
        return rate.isFinite ? rate : nil
    }

    /// The largest stable learning rate for a top eigenvalue λ_max (of H, or of P⁻¹H for Adam):
    /// edge/λ_max; +∞ when λ_max ≤ 0.
    public func maxStableRate(lambdaMax: Double) -> Double {
        lambdaMax > 0 ? edge / lambdaMax : .infinity
    }

    /// η·λ_max / edge: < 1 stable, 1 at the edge of stability of this optimizer.
    public func edgeRatio(learningRate: Double, lambdaMax: Double) -> Double {
        learningRate * lambdaMax / edge
    }
}
