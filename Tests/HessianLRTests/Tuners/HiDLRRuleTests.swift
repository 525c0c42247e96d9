import Testing
@testable import HessianLR

/// Hi-DLR's pure rule: random probes, per-group recovery (diagonal and full A), projection,
/// skipped groups, rejected fits.
@Suite struct HiDLRRuleTests {
    static func neutral(groups: Int, model: QuadraticModel.Kind = .diagonal) -> HiDLROptions {
        var options = neutralSafeguards(HiDLROptions(groups: groups), bounds: \.probeFit.lrBoundLow, \.probeFit.lrBoundHigh)
        options.model = model
        return options
    }

    /// Losses of L(ξ) = c − bᵀξ + ½ξᵀAξ (A K×K row-major) at the given probe steps.
    static func quadratic(c: Double, b: [Double], a: [Double], probes: [[Double]]) -> [Double] {
        let k = b.count
        return probes.map { xi in
            var value = c
            for p in 0..<k {
                value -= b[p] * xi[p]
                for q in 0..<k { value += 0.5 * a[p * k + q] * xi[p] * xi[q] }
            }
            return value
        }
    }

    /// Losses of a weight-space problem along per-group directions d_k (ξ steps per group).
    static func losses(_ problem: TunerQuadratic, w: [Double], d: [Double], offsets: [Int], probes: [[Double]]) -> [Double] {
        probes.map { xi in
            var trial = w
            for k in 0..<(offsets.count - 1) {
                for i in offsets[k]..<offsets[k + 1] { trial[i] = w[i] - xi[k] * d[i] }
            }
            return problem.loss(trial)
        }
    }

    @Test func probesAreCounterRNGUniformsScaledByEachRate() {
        let unit = HiDLRRule.unitProbes(groups: 3, count: 5, seed: 7, round: 2)
        #expect(unit[0] == [0, 0, 0])
        let rng = CounterRNG(seed: 7, stream: RandomStream.perturbation.rawValue, index: 2)
        for j in 1..<5 {
            for k in 0..<3 {
                #expect(unit[j][k] == 2 * rng.uniform(UInt64((j - 1) * 3 + k)) - 1)
                #expect(unit[j][k] >= -1 && unit[j][k] < 1)
            }
        }
        #expect(HiDLRRule.unitProbes(groups: 3, count: 5, seed: 7, round: 3) != unit)
        #expect(HiDLRRule.unitProbes(groups: 3, count: 5, seed: 8, round: 2) != unit)
        var options = HiDLROptions(groups: 3)
        options.probeFit.probeCount = 5
        options.seed = 7
        options.probeFit.probeScale = 0.5
        let rates = [0.1, 0.01, 1.0]
        let steps = HiDLRRule.probes(rates: rates, options: options, round: 2)
        for j in 0..<5 { for k in 0..<3 { #expect(steps[j][k] == (0.5 * rates[k]) * unit[j][k]) } }
    }

    @Test func recoversPerGroupOptimaOnASeparableQuadratic() throws {
        let b: [Double] = [3, 0.5, 2]
        let a: [Double] = [12, 0, 0, 0, 10, 0, 0, 0, 1]
        let rates = [0.2, 0.01, 1.5]
        let options = Self.neutral(groups: 3)
        let probes = HiDLRRule.probes(rates: rates, options: options, round: 0)
        #expect(probes.count == 12)  // max(4K, 2K + 1 + K)
        let losses = Self.quadratic(c: 7, b: b, a: a, probes: probes)
        let decision = try HiDLRRule.decide(current: rates, losses: losses, options: options, round: 0)
        for k in 0..<3 {
            #expect(TunerCheck.close(decision.learningRates[k], b[k] / a[k * 3 + k], 1e-9), "group \(k)")
            #expect(TunerCheck.close(decision.slopes[k], b[k], 1e-9))
            #expect(TunerCheck.close(decision.curvature[k * 3 + k], a[k * 3 + k], 1e-9))
            #expect(decision.flags[k].isEmpty)
        }
        #expect(decision.model.r2 > 1 - 1e-12)
    }

    @Test func weightSpaceGroupsGetTheirOwnQuadraticOptimum() throws {
        // H = diag(λ) is block diagonal for any grouping: group k's optimum along −g_k is
        // g_kᵀg_k / g_kᵀHg_k, independent of the other groups.
        let problem = TunerQuadratic.diagonal([1, 2, 10, 20, 30, 0.5], offset: 3)
        let offsets = [0, 2, 5, 6]
        let w: [Double] = [1, -1, 0.3, 0.2, -0.1, 2]
        let g = problem.gradient(w)
        let rates = [0.3, 0.04, 1.0]
        var options = Self.neutral(groups: 3)
        options.seed = 5
        let probes = HiDLRRule.probes(rates: rates, options: options, round: 4)
        let losses = Self.losses(problem, w: w, d: g, offsets: offsets, probes: probes)
        let decision = try HiDLRRule.decide(current: rates, losses: losses, options: options, round: 4)
        for k in 0..<3 {
            let gk = Array(g[offsets[k]..<offsets[k + 1]])
            let hgk = Array(problem.hvp(g)[offsets[k]..<offsets[k + 1]])
            let exact = TunerCheck.dot(gk, gk) / TunerCheck.dot(gk, hgk)
            #expect(TunerCheck.close(decision.learningRates[k], exact, 1e-8), "group \(k)")
        }
    }

    @Test func fullModelSolvesTheCoupledSystem() throws {
        // A coupled H: L(w − Σξ_k g_k) = L(w) − Σ ξ_k g_kᵀg_k + ½ Σ ξ_k ξ_l g_kᵀHg_l, so the
        // optimum is η = A⁻¹b with A_kl = g_kᵀHg_l, b_k = g_kᵀg_k.
        let h: [Double] = [4, 1, 0.5, 1, 3, 1, 0.5, 1, 2]
        let problem = TunerQuadratic(n: 3, hessian: h, minimum: [0, 0, 0], offset: 1)
        let offsets = [0, 1, 3]
        let w: [Double] = [1, 0.5, -1]
        let g = problem.gradient(w)
        let g0: [Double] = [g[0], 0, 0]
        let g1: [Double] = [0, g[1], g[2]]
        let b = [TunerCheck.dot(g0, g0), TunerCheck.dot(g1, g1)]
        let a00 = TunerCheck.dot(g0, problem.hvp(g0))
        let a01 = TunerCheck.dot(g0, problem.hvp(g1))
        let a11 = TunerCheck.dot(g1, problem.hvp(g1))
        let det = a00 * a11 - a01 * a01
        let exact = [(a11 * b[0] - a01 * b[1]) / det, (a00 * b[1] - a01 * b[0]) / det]
        let rates = [0.2, 0.2]
        let options = Self.neutral(groups: 2, model: .full)
        let probes = HiDLRRule.probes(rates: rates, options: options, round: 0)
        #expect(probes.count == 8)  // max(4K, K(K+1)/2 + K + 1 + K)
        let losses = Self.losses(problem, w: w, d: g, offsets: offsets, probes: probes)
        let full = try HiDLRRule.decide(current: rates, losses: losses, options: options, round: 0)
        #expect(TunerCheck.close(full.learningRates[0], exact[0], 1e-8))
        #expect(TunerCheck.close(full.learningRates[1], exact[1], 1e-8))
        #expect(TunerCheck.close(full.curvature[1], a01, 1e-8))
        #expect(full.flags == [[], []])
        // The diagonal model ignores the coupling: worse fit, different (per-group) rates.
        var diagonalOptions = Self.neutral(groups: 2)
        diagonalOptions.probeFit.r2Threshold = 0
        let diagonal = try HiDLRRule.decide(current: rates, losses: losses, options: diagonalOptions, round: 0)
        #expect(diagonal.model.r2 < full.model.r2)
        #expect(!TunerCheck.close(diagonal.learningRates[0], exact[0], 1e-3))
    }

    @Test func indefiniteFullModelIsProjected() throws {
        // A = [[1, 2], [2, 1]] has eigenvalues 3 and −1; b = (1, 1) lies along the positive
        // eigenvector, so η = b/3 after raising −1 to the floor.
        let rates = [1.0, 1.0]
        var options = Self.neutral(groups: 2, model: .full)
        options.probeFit.r2Threshold = 0.5
        let probes = HiDLRRule.probes(rates: rates, options: options, round: 0)
        let losses = Self.quadratic(c: 0, b: [1, 1], a: [1, 2, 2, 1], probes: probes)
        let decision = try HiDLRRule.decide(current: rates, losses: losses, options: options, round: 0)
        #expect(decision.flags == [.projected, .projected])
        #expect(TunerCheck.close(decision.learningRates[0], 1.0 / 3, 1e-9))
        #expect(TunerCheck.close(decision.learningRates[1], 1.0 / 3, 1e-9))
        // No positive curvature at all: rejected, rates kept.
        let concave = Self.quadratic(c: 0, b: [1, 1], a: [-1, 0, 0, -2], probes: probes)
        let rejected = try HiDLRRule.decide(current: rates, losses: concave, options: options, round: 0)
        #expect(rejected.flags == [[.fitRejected, .negativeCurvature], [.fitRejected, .negativeCurvature]])
        #expect(rejected.learningRates == rates)
    }

    @Test func diagonalModelSkipsGroupsWithoutAPositiveQuadratic() throws {
        let rates = [0.1, 0.2, 0.3]
        let options = Self.neutral(groups: 3)
        let probes = HiDLRRule.probes(rates: rates, options: options, round: 1)
        let a: [Double] = [-5, 0, 0, 0, 4, 0, 0, 0, 2]
        let losses = Self.quadratic(c: 1, b: [1, 2, -1], a: a, probes: probes)
        let decision = try HiDLRRule.decide(current: rates, losses: losses, options: options, round: 1)
        #expect(decision.learningRates[0] == 0.1)  // a₀ < 0: kept
        #expect(decision.flags[0] == .negativeCurvature)
        #expect(TunerCheck.close(decision.learningRates[1], 0.5, 1e-9))
        #expect(decision.learningRates[2] == 0.3)  // b₂ < 0: kept
        #expect(decision.flags[2] == .notDescent)
        #expect(decision.candidates[0].isNaN && decision.candidates[2].isNaN)
    }

    @Test func poorFitsKeepEveryGroup() throws {
        let rates = [0.1, 0.2]
        let options = HiDLROptions(groups: 2)  // r2_threshold 0.99, decay 0.5
        let probes = HiDLRRule.probes(rates: rates, options: options, round: 0)
        var losses = Self.quadratic(c: 1, b: [1, 1], a: [10, 0, 0, 5], probes: probes)
        for j in losses.indices { losses[j] += j % 2 == 0 ? 0.05 : -0.05 }
        let decision = try HiDLRRule.decide(current: rates, losses: losses, options: options, round: 0)
        #expect(decision.model.r2 < 0.99)
        #expect(decision.learningRates == [0.1, 0.2])
        #expect(decision.flags == [[.fitRejected, .poorFit], [.fitRejected, .poorFit]])
        #expect(decision.influence?.allSatisfy { !$0.isNaN } == true)  // a full-rank fit still ranks groups
    }

    @Test func defaultSafeguardsAreGeNs() throws {
        let rates = [0.2]
        let options = HiDLROptions(groups: 1)
        let probes = HiDLRRule.probes(rates: rates, options: options, round: 0)
        let losses = Self.quadratic(c: 1, b: [10], a: [1], probes: probes)
        let decision = try HiDLRRule.decide(current: rates, losses: losses, options: options, round: 0)
        #expect(decision.flags == [.boundedHigh])
        #expect(decision.learningRates[0] == 0.9 * 0.2 + (1 - 0.9) * (2.0 * 0.2))
    }
}
