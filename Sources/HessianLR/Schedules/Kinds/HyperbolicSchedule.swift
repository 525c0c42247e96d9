/// HyperbolicLR and ExpHyperbolicLR (Kim 2024, "HyperbolicLR: Epoch insensitive learning rate
/// scheduler"; reference Axect/HyperbolicLR `hyperbolic_lr.py`). With x = min(t, N),
/// N = max_iter, U = upper_bound ≥ N, η₀ = base_lr, η_inf = infimum_lr:
///
///     h(x) = √((N − x)/U · (2 − (N + x)/U))        (= √((U − x)² − (U − N)²)/U)
///     hyperbolic:      η(t) = η₀ + (η₀ − η_inf)·(h(x) − h(0))
///     exp_hyperbolic:  η(t) = η₀·(η₀/η_inf)^(h(x) − h(0))
///
/// the same operation order as the reference. Both decrease from η₀ at t = 0 to their value at
/// t = N, which is held after (the reference takes the square root of a negative number past
/// N and raises). Constraints as the reference: U ≥ N, 0 ≤ η_inf < η₀, and η_inf > 0 for the
/// exponential form (its ratio η₀/η_inf). The reference's warmup (η_inf → η₀ over W steps, then
/// the curve with N = max_iter − W) is `Schedule.warmup(hyperbolic(max_iter − W), W, η_inf)`:
///
///     t < W:  η(t) = η_inf + (η₀ − η_inf)·t/W       (step 0 at η_inf, step 1 at η_inf + (η₀ − η_inf)/W)
///
/// Step 0 is decided here, deliberately unlike the reference: the reference never writes the
/// optimizer's lr before its first `step()`, so its update 0 runs at the optimizer's own lr
/// (init_lr = η₀) and its ramp starts at update 1; its own formula gives η_inf at x = 0. That is
/// an artifact, not a design: a warmup whose first update runs at the peak rate defeats the
/// warmup (the first updates are the least stable ones), and torch's warmups (LinearLR,
/// SequentialLR) set their start value at construction, so step 0 = the start value. From step 1
/// on the two agree. A trainer that wants the reference's step 0 sets its optimizer's lr itself
/// for that one update.
///
/// Epoch insensitivity (what the tests check): for fixed U and x, the drop η₀ − η(x) decreases
/// as N grows and is at least (η₀ − η_inf)·x/U, its limit at N = U, where the curve is the
/// straight line η₀ − (η₀ − η_inf)·x/U; so lengthening a run never makes its early rates fall
/// faster, and the early rates of all runs with N ≤ U are pinned between the N = U line and
/// the curve of the shortest run.
enum HyperbolicSchedule {
    static let specs: [ScheduleParameterSpec] = [
        .rate(.baseLR, default: 1e-3),
        .steps(.maxIter, minimum: 1, default: 100),
        ScheduleParameterSpec(.upperBound, minimum: 1, maximum: .greatestFiniteMagnitude, default: 250),
        .rate(.infimumLR, default: 1e-6),
    ]

    static let expSpecs: [ScheduleParameterSpec] = specs

    static func check(_ p: ScheduleParameters, kind: ScheduleKind) throws(HLRError) {
        let n = p[.maxIter]
        let u = p[.upperBound]
        guard u >= n else {
            throw .invalid("\(kind.name): upper_bound (\(u)) must be >= max_iter (\(n))")
        }
        let initial = p[.baseLR]
        let infimum = p[.infimumLR]
        guard infimum < initial else {
            throw .invalid("\(kind.name): infimum_lr (\(infimum)) must be < base_lr (\(initial))")
        }
        if kind == .expHyperbolic {
            guard infimum > 0 else {
                throw .invalid(
                    "exp_hyperbolic: infimum_lr must be > 0 (the rate is "
                        + "base_lr·(base_lr/infimum_lr)^…), got \(infimum)")
            }
            guard (initial / infimum).isFinite else {  // e.g. 1e300 / 1e-300
                throw .invalid(
                    "exp_hyperbolic: base_lr / infimum_lr = \(initial) / \(infimum) is not finite")
            }
        }
    }

    /// h(x) in the reference's operation order, clamped at 0 against rounding.
    static func h(_ x: Double, _ n: Double, _ u: Double) -> Double {
        max(0, (n - x) / u * (2 - (n + x) / u)).squareRoot()
    }

    /// h(x) − h(0) ∈ [−1, 0] at step t.
    static func exponent(_ p: ScheduleParameters, at step: UInt64) -> Double {
        let maxIter = p.steps(.maxIter)
        let n = Double(maxIter)
        let u = p[.upperBound]
        let x = Double(min(step, maxIter))
        return h(x, n, u) - (n / u * (2 - n / u)).squareRoot()
    }

    static func value(_ p: ScheduleParameters, at step: UInt64, exponential: Bool) -> Double {
        let initial = p[.baseLR]
        let infimum = p[.infimumLR]
        let e = exponent(p, at: step)
        if exponential {
            return initial * ScheduleMath.power(initial / infimum, e)
        }
        return initial + (initial - infimum) * e
    }
}
