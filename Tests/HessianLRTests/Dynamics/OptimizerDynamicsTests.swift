import Testing
@testable import HessianLR

/// `OptimizerDynamics` against the optimizers themselves: torch's SGD update (momentum,
/// dampening, Nesterov) and Adam's moving average with a frozen preconditioner, simulated on a
/// one-dimensional quadratic f = ½λw² for thousands of steps. Just below the edge the iterates
/// decay, just above they grow; a constant gradient is stepped by η·G.
@Suite struct OptimizerDynamicsTests {
    /// |w| after `steps` steps of the optimizer on f = ½λw² from w = 1 (torch's first step sets
    /// b_1 = g_1, without dampening).
    static func simulate(_ kind: OptimizerDynamics.Kind, u: Double, steps: Int = 4000) -> Double {
        let lambda = 1.0, eta = u
        var w = 1.0, b = 0.0, first = true
        for _ in 0..<steps {
            let g = lambda * w
            switch kind {
            case .sgd(let beta, let tau, let nesterov):
                b = first ? g : beta * b + (1 - tau) * g
                w -= eta * (nesterov ? g + beta * b : b)
            case .adam(let beta1):
                b = beta1 * b + (1 - beta1) * g  // m; P = 1 (the preconditioned problem)
                w -= eta * b
            }
            first = false
            if !w.isFinite || abs(w) > 1e100 { return .infinity }
        }
        return abs(w)
    }

    static let kinds: [OptimizerDynamics.Kind] = [
        .sgd(momentum: 0, dampening: 0, nesterov: false),
        .sgd(momentum: 0.9, dampening: 0, nesterov: false),
        .sgd(momentum: 0.5, dampening: 0.3, nesterov: false),
        .sgd(momentum: 0.99, dampening: 0.9, nesterov: false),
        .sgd(momentum: 0.9, dampening: 0, nesterov: true),
        .sgd(momentum: 0.3, dampening: 0, nesterov: true),
        .adam(beta1: 0.9),
        .adam(beta1: 0.5),
    ]

    @Test(arguments: kinds.indices)
    func theEdgeSeparatesDecayFromGrowth(index: Int) throws {
        let dynamics = try OptimizerDynamics(Self.kinds[index])
        let edge = dynamics.edge
        #expect(Self.simulate(dynamics.kind, u: 0.98 * edge, steps: 20000) < 1, "\(dynamics.kind) below the edge \(edge)")
        #expect(Self.simulate(dynamics.kind, u: 1.02 * edge) > 1e6, "\(dynamics.kind) above the edge \(edge)")
    }

    @Test(arguments: kinds.indices)
    func aConstantGradientIsSteppedByTheGain(index: Int) throws {
        let dynamics = try OptimizerDynamics(Self.kinds[index])
        var b = 0.0, first = true, step = 0.0
        let g = 1.0, eta = 1.0
        for _ in 0..<20000 {
            switch dynamics.kind {
            case .sgd(let beta, let tau, let nesterov):
                b = first ? g : beta * b + (1 - tau) * g
                step = eta * (nesterov ? g + beta * b : b)
            case .adam(let beta1):
                b = beta1 * b + (1 - beta1) * g
                step = eta * b
            }
            first = false
        }
        #expect(abs(step - dynamics.steadyGain) <= 1e-9 * dynamics.steadyGain, "\(dynamics.kind)")
    }

    @Test func knownValues() throws {
        #expect(OptimizerDynamics.gradientDescent.edge == 2)
        #expect(OptimizerDynamics.gradientDescent.steadyGain == 1)
        let heavyBall = try OptimizerDynamics(.sgd(momentum: 0.9, dampening: 0, nesterov: false))
        #expect(abs(heavyBall.edge - 3.8) < 1e-12 && abs(heavyBall.steadyGain - 10) < 1e-12)
        let nesterov = try OptimizerDynamics(.sgd(momentum: 0.9, dampening: 0, nesterov: true))
        #expect(abs(nesterov.edge - 3.8 / 2.8) < 1e-12)
        let adam = try OptimizerDynamics(.adam(beta1: 0.9))
        #expect(abs(adam.edge - 38) < 1e-12 && adam.steadyGain == 1)
        #expect(abs((heavyBall.greedyRate(curvature: 2) ?? 0) - 0.05) < 1e-15)
        #expect(heavyBall.greedyRate(curvature: 0) == nil && heavyBall.greedyRate(curvature: -.infinity) == nil)
        #expect(abs(heavyBall.maxStableRate(lambdaMax: 3.8) - 1) < 1e-12)
        #expect(heavyBall.maxStableRate(lambdaMax: 0) == .infinity)
        #expect(abs(heavyBall.edgeRatio(learningRate: 0.5, lambdaMax: 3.8) - 0.5) < 1e-12)
    }

    @Test func badCoefficientsAreRefused() {
        let bad: [OptimizerDynamics.Kind] = [
            .sgd(momentum: 1, dampening: 0, nesterov: false), .sgd(momentum: -0.1, dampening: 0, nesterov: false),
            .sgd(momentum: .nan, dampening: 0, nesterov: false), .sgd(momentum: 0.9, dampening: 1.5, nesterov: false),
            .sgd(momentum: 0, dampening: 0, nesterov: true), .sgd(momentum: 0.9, dampening: 0.1, nesterov: true),
            .sgd(momentum: 0.9, dampening: 1, nesterov: false), .adam(beta1: 1), .adam(beta1: .nan),
        ]
        for kind in bad {
            #expect(throws: HLRError.self) { try OptimizerDynamics(kind) }
        }
    }

    /// κ = c/G: the current gradient's coefficient in the step over the steady gain.
    @Test func freshFractionIsTheCurrentGradientsShareOfASteadyStep() throws {
        let cases: [(OptimizerDynamics.Kind, Double)] = [
            (.sgd(momentum: 0, dampening: 0, nesterov: false), 1),
            (.sgd(momentum: 0, dampening: 1, nesterov: false), 1),  // no buffer: torch ignores dampening
            (.sgd(momentum: 0.9, dampening: 0, nesterov: false), 0.1),
            (.sgd(momentum: 0.9, dampening: 0.5, nesterov: false), 0.1),
            (.sgd(momentum: 0.9, dampening: 0, nesterov: true), 1 - 0.81),
            (.adam(beta1: 0.9), 0.1),
        ]
        for (kind, expected) in cases {
            let dynamics = try OptimizerDynamics(kind)
            #expect(abs(dynamics.freshFraction - expected) < 1e-12, "\(kind)")
        }
        #expect(try OptimizerDynamics(.sgd(momentum: 0, dampening: 1, nesterov: false)).steadyGain == 1)
    }

    /// Along a constant gradient (the steady state) the step is G·g and its fresh part κ·G·g = c·g.
    @Test(arguments: kinds)
    func theFreshPartOfASteadyStepIsTheCurrentGradientsTerm(kind: OptimizerDynamics.Kind) throws {
        let dynamics = try OptimizerDynamics(kind)
        var b = 0.0, first = true, step = 0.0, previousBuffer = 0.0
        for _ in 0..<20000 {
            previousBuffer = b
            switch kind {
            case .sgd(let beta, let tau, let nesterov):
                b = first ? 1 : beta * b + (1 - tau)
                step = nesterov ? 1 + beta * b : b
            case .adam(let beta1):
                b = beta1 * b + (1 - beta1)
                step = b
            }
            first = false
        }
        // The part committed before g_t: the step with g_t = 0 from the same buffer.
        var committed: Double
        switch kind {
        case .sgd(let beta, _, let nesterov): committed = nesterov ? beta * beta * previousBuffer : beta * previousBuffer
        case .adam(let beta1): committed = beta1 * previousBuffer
        }
        #expect(abs(step - dynamics.steadyGain) < 1e-9 * dynamics.steadyGain)
        #expect(abs((step - committed) / step - dynamics.freshFraction) < 1e-9)
    }
}
