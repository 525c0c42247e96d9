import RealModule
import Testing
@testable import HessianLR

@Suite struct HyperbolicScheduleTests {
    typealias S = ScheduleTestSupport

    /// The paper's curve in its hyperbola form h(x) = √((U − x)² − (U − N)²)/U.
    static func h(_ x: Double, _ n: Double, _ u: Double) -> Double {
        ((u - x) * (u - x) - (u - n) * (u - n)).squareRoot() / u
    }

    static func hyperbolic(_ t: UInt64, _ e0: Double, _ inf: Double, _ n: UInt64, _ u: Double) -> Double {
        let x = Double(min(t, n))
        return e0 + (e0 - inf) * (h(x, Double(n), u) - h(0, Double(n), u))
    }

    static func expHyperbolic(_ t: UInt64, _ e0: Double, _ inf: Double, _ n: UInt64, _ u: Double) -> Double {
        let x = Double(min(t, n))
        return e0 * Double.exp((h(x, Double(n), u) - h(0, Double(n), u)) * Double.log(e0 / inf))
    }

    static func make(_ kind: ScheduleKind, _ e0: Double, _ inf: Double, _ n: UInt64, _ u: Double) throws -> Schedule {
        try Schedule(kind, [.baseLR: e0, .infimumLR: inf, .maxIter: Double(n), .upperBound: u])
    }

    @Test func matchPaperFormulas() throws {
        for (e0, inf, n, u) in [(1e-2, 1e-6, 100, 250), (1e-3, 1e-5, 250, 250), (5e-3, 1e-4, 37, 40.5)] as [(Double, Double, UInt64, Double)] {
            let hyp = try Self.make(.hyperbolic, e0, inf, n, u)
            let exp = try Self.make(.expHyperbolic, e0, inf, n, u)
            S.expectMatches(hyp, 0...(n + 10), tolerance: 1e-12) { Self.hyperbolic($0, e0, inf, n, u) }
            S.expectMatches(exp, 0...(n + 10), tolerance: 1e-12) { Self.expHyperbolic($0, e0, inf, n, u) }
            #expect(hyp.value(at: 0) == e0)
            #expect(exp.value(at: 0) == e0)
            for step in S.extremeSteps where step > n {
                #expect(hyp.value(at: step) == hyp.value(at: n))  // held at max_iter
                #expect(exp.value(at: step) == exp.value(at: n))
            }
        }
    }

    @Test func reachesTheInfimumOnlyWhenMaxIterEqualsUpperBound() throws {
        let full = try Self.make(.hyperbolic, 1e-2, 1e-4, 200, 200)
        #expect(S.close(full.value(at: 200), 1e-4, 1e-12))
        let fullExp = try Self.make(.expHyperbolic, 1e-2, 1e-4, 200, 200)
        #expect(S.close(fullExp.value(at: 200), 1e-4, 1e-12))
        let short = try Self.make(.hyperbolic, 1e-2, 1e-4, 100, 200)
        #expect(short.value(at: 100) > 1e-4)
    }

    /// Epoch insensitivity: for fixed U and x, the drop η₀ − η_N(x) shrinks as N grows and is
    /// at least (η₀ − η_inf)·x/U, with equality (a straight line) at N = U.
    @Test func longerRunsNeverDecayFasterEarly() throws {
        let (e0, inf, u) = (1e-2, 1e-6, 250.0)
        let lengths: [UInt64] = [50, 100, 150, 200, 250]
        for kind in [ScheduleKind.hyperbolic, .expHyperbolic] {
            let runs = try lengths.map { try Self.make(kind, e0, inf, $0, u) }
            for x: UInt64 in 0...50 {
                let values = runs.map { $0.value(at: x) }
                for (shorter, longer) in zip(values, values.dropFirst()) {
                    #expect(shorter <= longer * (1 + 1e-15), "\(kind.name) x \(x)")
                }
            }
        }
        let line = try Self.make(.hyperbolic, e0, inf, 250, u)
        for x: UInt64 in 0...250 {
            #expect(S.close(line.value(at: x), e0 - (e0 - inf) * Double(x) / u, 1e-12), "x \(x)")
        }
        let expLine = try Self.make(.expHyperbolic, e0, inf, 250, u)
        for x: UInt64 in 0...250 {
            #expect(S.close(expLine.value(at: x), e0 * Double.pow(e0 / inf, -Double(x) / u), 1e-12), "x \(x)")
        }
    }

    @Test func validation() throws {
        var schedule = try Schedule(.hyperbolic)
        let bound = S.error { () throws(HLRError) in try schedule.set(.maxIter, 300) }
        #expect(bound?.message.contains("upper_bound (250.0) must be >= max_iter (300.0)") == true)
        let infimum = S.error { () throws(HLRError) in try schedule.set(.infimumLR, 1e-3) }
        #expect(infimum?.message.contains("infimum_lr (0.001) must be < base_lr (0.001)") == true)
        var exp = try Schedule(.expHyperbolic)
        let zero = S.error { () throws(HLRError) in try exp.set(.infimumLR, 0) }
        #expect(zero?.kind == .invalidArgument)
        #expect(zero?.message.contains("infimum_lr must be > 0") == true)
        try schedule.set(.infimumLR, 0)  // fine for the additive form
        #expect(schedule.value(at: 100).isFinite)
        #expect(throws: HLRError.self) { try exp.set([.baseLR: 1e300, .infimumLR: 1e-300]) }
        #expect(throws: HLRError.self) { try schedule.set(.baseLR, 1e301) }
    }

    /// The reference's warmup variant: η_inf + (η₀ − η_inf)·x/W, then the curve with
    /// N = max_iter − W counted from W, as a warmup wrapper.
    @Test func referenceWarmupIsTheWrapper() throws {
        let (e0, inf, maxIter, warmup, u) = (1e-2, 1e-6, UInt64(200), UInt64(20), 250.0)
        for kind in [ScheduleKind.hyperbolic, .expHyperbolic] {
            let curve = try Self.make(kind, e0, inf, maxIter - warmup, u)
            let schedule = try Schedule.warmup(curve, steps: warmup, startValue: inf)
            for step: UInt64 in 0...(maxIter + 5) {
                let want: Double
                if step <= warmup {
                    want = inf + (e0 - inf) * Double(step) / Double(warmup)
                } else if kind == .hyperbolic {
                    want = Self.hyperbolic(step - warmup, e0, inf, maxIter - warmup, u)
                } else {
                    want = Self.expHyperbolic(step - warmup, e0, inf, maxIter - warmup, u)
                }
                #expect(S.close(schedule.value(at: step), want, 1e-12), "\(kind.name) step \(step)")
            }
        }
    }

    /// Step 0 of the warmup variant is η_inf (the formula; the reference runs it at η₀ only
    /// because it never writes the lr before its first step()), step 1 the first ramp step.
    @Test func warmupStepZeroIsTheInfimum() throws {
        let (e0, inf, warmup) = (0.1, 1e-4, UInt64(10))
        for kind in [ScheduleKind.hyperbolic, .expHyperbolic] {
            let curve = try Self.make(kind, e0, inf, 90, 250)
            let schedule = try Schedule.warmup(curve, steps: warmup, startValue: inf)
            #expect(schedule.value(at: 0) == inf)
            #expect(schedule.value(at: 1) == inf + (e0 - inf) * (1 / Double(warmup)))
            #expect(schedule.value(at: warmup) == e0)
        }
    }
}
