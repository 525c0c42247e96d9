import Testing
@testable import HessianLR

/// XTrace against dense matrices with known traces (the matrices of `TraceTests`), against a
/// direct evaluation of its defining leave-one-out formula, and against Hutch++ at equal budget.
@Suite struct XTraceTests {
    static func close(_ a: Double, _ b: Double, _ tolerance: Double) -> Bool {
        abs(a - b) <= tolerance * max(abs(a), abs(b))
    }

    static func xtrace(_ a: DenseOperator, _ configure: (inout XTraceOptions) -> Void = { _ in }) throws -> TraceEstimate {
        try XTrace.trace(of: try a.space(), options: configured(XTraceOptions(), configure))
    }

    /// t_i evaluated from its definition with dense matrices: Q_(i) = orth(AΩ without column i),
    /// t_i = tr(Q_(i)ᵀAQ_(i)) + ω_iᵀ(I − Q_(i)Q_(i)ᵀ)A(I − Q_(i)Q_(i)ᵀ)ω_i.
    static func leaveOneOut(_ a: DenseOperator, omega: [[Double]]) -> [Double] {
        let n = a.n
        let y = omega.map { a.apply($0) }
        var t: [Double] = []
        for i in omega.indices {
            var q: [[Double]] = []
            for (j, column) in y.enumerated() where j != i {
                var v = column
                for _ in 0..<2 {
                    for b in q {
                        let c = zip(b, v).reduce(0) { $0 + $1.0 * $1.1 }
                        for x in 0..<n { v[x] -= c * b[x] }
                    }
                }
                let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                q.append(v.map { $0 / norm })
            }
            func project(_ v: [Double]) -> [Double] {
                var p = v
                for b in q {
                    let c = zip(b, v).reduce(0) { $0 + $1.0 * $1.1 }
                    for x in 0..<n { p[x] -= c * b[x] }
                }
                return p
            }
            var value = q.reduce(0) { total, b in total + zip(b, a.apply(b)).reduce(0) { $0 + $1.0 * $1.1 } }
            let p = project(omega[i])
            value += zip(p, a.apply(p)).reduce(0) { $0 + $1.0 * $1.1 }
            t.append(value)
        }
        return t
    }

    /// The estimate and its jackknife standard error from the definitions: θ_(j) = the XTrace
    /// estimate of the test vectors without ω_j, se² = ((s−1)/s) Σ_j (θ_(j) − θ̄)².
    static func direct(_ a: DenseOperator, matvecs: Int, seed: UInt64) throws -> (mean: Double, se: Double) {
        let s = matvecs / 2
        let omega = (0..<s).map { i in
            let rng = CounterRNG(seed: seed, stream: RandomStream.xtrace.rawValue, index: UInt64(i))
            return (0..<a.n).map { rng.rademacher(UInt64($0)) }
        }
        let t = leaveOneOut(a, omega: omega)
        let mean = t.reduce(0, +) / Double(s)
        let left = (0..<s).map { j in
            leaveOneOut(a, omega: omega.enumerated().filter { $0.offset != j }.map(\.element)).reduce(0, +) / Double(s - 1)
        }
        let centre = left.reduce(0, +) / Double(s)
        let variance = Double(s - 1) / Double(s) * left.reduce(0) { $0 + ($1 - centre) * ($1 - centre) }
        return (mean, variance.squareRoot())
    }

    @Test(arguments: [(TraceTests.decaying, UInt64(0)), (TraceTests.indefinite, UInt64(3))])
    func matchesItsDefinitionEvaluatedDensely(a: DenseOperator, seed: UInt64) throws {
        let result = try Self.xtrace(a) { $0.matvecs = 20; $0.seed = seed }
        let reference = try Self.direct(a, matvecs: 20, seed: seed)
        #expect(Self.close(result.estimate, reference.mean, 1e-10), "\(result.estimate) vs \(reference.mean)")
        #expect(Self.close(result.standardError, reference.se, 1e-8), "\(result.standardError) vs \(reference.se)")
        #expect(result.hvpCount == 20 && result.samples == 10 && result.sketchRank == 10 && result.converged)
    }

    @Test func unbiasedOnAnIndefiniteMatrix() throws {
        let a = TraceTests.indefinite
        let estimates = try (0..<40).map { seed in try Self.xtrace(a) { $0.matvecs = 12; $0.seed = UInt64(seed) }.estimate }
        let mean = estimates.reduce(0, +) / 40
        let variance = estimates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 39
        #expect(abs(mean - a.trace) <= 4 * (variance / 40).squareRoot(), "mean \(mean) vs \(a.trace)")
    }

    /// Median relative errors over 11 seeds on the PSD decaying spectrum at equal budgets.
    @Test func beatsHutchPlusPlusAtEqualBudget() throws {
        let a = TraceTests.decaying
        for m in [30, 60] {
            var x: [Double] = [], plus: [Double] = []
            for seed in 0..<11 {
                x.append(abs(try Self.xtrace(a) { $0.matvecs = m; $0.seed = UInt64(seed) }.estimate - a.trace) / a.trace)
                plus.append(abs(try TraceTests.hutchPlusPlus(a) { $0.matvecs = m; $0.seed = UInt64(seed) }.estimate - a.trace) / a.trace)
            }
            #expect(TraceTests.median(x) < TraceTests.median(plus), "m = \(m): \(TraceTests.median(x)) vs \(TraceTests.median(plus))")
        }
    }

    @Test func exactWhenTheTestVectorsSpanTheRange() throws {
        // Rank 3 in dimension 40: AΩ has rank 3 < s = 5, Q spans range(A); the fallback's
        // residual probes see (numerically) nothing: exact, and the whole budget is spent.
        let low = DenseOperator(spectrum: [2, -1, 0.5] + Array(repeating: 0, count: 37))
        let result = try Self.xtrace(low) { $0.matvecs = 10 }
        #expect(abs(result.estimate - 1.5) <= 1e-12, "\(result)")
        #expect(result.standardError <= 1e-12 && result.sketchRank == 3 && result.hvpCount == 10)
        #expect(result.samples == 2)
        // A budget above 2n: Q spans the whole space after n Gaussian test vectors, no more are
        // drawn: exact, no residual probe, 2n HVPs spent.
        let small = DenseOperator(spectrum: [1, 2, 3, 4])
        let whole = try Self.xtrace(small) { $0.matvecs = 10; $0.distribution = .gaussian }
        #expect(abs(whole.estimate - 10) <= 1e-12 && whole.sketchRank == 4, "\(whole)")
        #expect(whole.standardError == 0 && whole.samples == 0 && whole.hvpCount == 2 * 4)
        // Exactly 2n with independent test vectors (s = n): exact too (the leave-one-out rule
        // would estimate one direction of the n that Q holds).
        let full = DenseOperator(spectrum: (1...12).map { Double($0) * ($0 % 3 == 0 ? -1 : 1) }, reflections: 12, seed: 7)
        let exact = try Self.xtrace(full) { $0.matvecs = 24; $0.distribution = .gaussian }
        #expect(abs(exact.estimate - full.diagonal.reduce(0, +)) <= 1e-11, "\(exact)")
        #expect(exact.standardError == 0 && exact.samples == 0 && exact.hvpCount == 24 && exact.sketchRank == 12)
        // Sign vectors: 12 of them are dependent for this seed (rank 11); the budget's slack buys
        // the vectors that complete the basis, and none past it.
        let signs = try Self.xtrace(full) { $0.matvecs = 24; $0.distribution = .rademacher }
        #expect(signs.sketchRank == 11 && signs.samples == 1 && signs.standardError == .infinity, "\(signs)")
        let slack = try Self.xtrace(full) { $0.matvecs = 40; $0.distribution = .rademacher }
        #expect(abs(slack.estimate - full.diagonal.reduce(0, +)) <= 1e-11, "\(slack)")
        #expect(slack.samples == 0 && slack.sketchRank == 12 && slack.hvpCount < 40, "\(slack)")
        // Gaussian test vectors in dimension 4 (s = 3 < n): full rank, unbiased.
        var estimates: [Double] = []
        for seed in 0..<200 {
            let run = try Self.xtrace(small) { $0.matvecs = 6; $0.seed = UInt64(seed); $0.distribution = .gaussian }
            #expect(run.hvpCount == 6 && run.sketchRank == 3)
            estimates.append(run.estimate)
        }
        let mean = estimates.reduce(0, +) / 200
        let spread = (estimates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 199 / 200).squareRoot()
        #expect(abs(mean - 10) <= 4 * spread + 1e-12, "mean \(mean), se \(spread)")
    }

    @Test func deterministicAndSeeded() throws {
        let a = TraceTests.indefinite
        let first = try Self.xtrace(a) { $0.seed = 7 }
        #expect(try Self.xtrace(a) { $0.seed = 7 } == first)
        #expect(try Self.xtrace(a) { $0.seed = 8 }.estimate != first.estimate)
        #expect(first.hvpCount == 102)
    }

    @Test func badInputsAndFailuresThrowAndReleaseEverything() throws {
        let a = DenseOperator(spectrum: [1, 2, 3, 4])
        for m in [1, 0, -3, Int.min] {
            let error = #expect(throws: HLRError.self) { try Self.xtrace(a) { $0.matvecs = m } }
            #expect(error?.kind == .invalidArgument && error?.message.contains("matvecs must be ≥ 2") == true)
        }
        // In the sketch AΩ (HVP 3) and in Z = AQ (HVP 60).
        try TrackingBackend.expectFailuresReleaseEverything(TraceTests.indefinite, at: [3, 60]) {
            _ = try XTrace.trace(of: $0)
        }
    }
}
