/// Hi-DLR (seed 001) as a state machine over forward losses: per-group learning rates from a
/// least-squares quadratic fit of the loss over random per-group probe steps (see `HiDLRRule`).
///
/// Protocol: `need(atStep: t)` is `.losses(probes:)` at the steps t ≥ 0 with t mod Φ = 0
/// (Φ = update_period, default 10) after the last observed step, `.nothing` otherwise. The m
/// probes (rows of K steps ξ_jk) are a function of the current rates, the options and the
/// update counter (the RNG index), so `observe` recomputes exactly the probes `need` returned
/// (change no option between the two). The trainer evaluates L(w − Σ_k ξ_jk·d_k) at each and
/// observes the m losses in probe order; the rates of step t are then final.
///
/// The update counter counts applied observations (accepted or rejected fits) since creation or
/// the last state reset; it is in the snapshot, so a restored tuner draws the same probes.
///
/// At most `maxGroups` = 256 groups (an update costs m ≥ 2K + 1 forward passes and a dense
/// least-squares solve); the full-A model at most 16. Refused, changing nothing: a step that does
/// not need losses or another kind (`wrongState`), a wrong count (`invalidArgument`), NaN/±Inf
/// losses (`nonFinite`).
public typealias HiDLRTuner = RuleTuner<HiDLRRule>

extension HiDLRRule: ProbeFitRule {
    public typealias Options = HiDLROptions
    public typealias Layout = MatrixFit

    public static var maxGroups: Int { 256 }

    /// The limit is Hi-DLR's own, so the message names the method.
    public static func checkGroups(_ groups: Int) throws(HLRError) {
        try checkGroupCount(groups, maximum: maxGroups, method: .hidlr)
    }

    /// The probes of update `round` = the update counter (the RNG index).
    public static func probes(of tuner: HiDLRTuner) -> [[Double]] {
        probes(rates: tuner.rates, options: tuner.options, round: tuner.history.updates)
    }

    public static func fit(losses: [Double], of tuner: HiDLRTuner, into state: inout State) throws(HLRError) {
        state.record(
            try decide(current: tuner.rates, losses: losses, options: tuner.options, round: tuner.history.updates))
    }
}

extension RuleTuner where Rule == HiDLRRule {
    /// The fitted quadratic of the last update in step units, nil before the first (or after a
    /// rank-deficient one): c, b (K), A (K×K row-major), R².
    public var lastFit: (intercept: Double, slope: [Double], curvature: [Double], r2: Double)? {
        let fit = state.fit
        guard history.updates > 0, !fit.r2.isNaN else { return nil }
        return (fit.intercept, fit.slope, fit.curvature, fit.r2)
    }

    /// PPI of every group from the last fit (see `Influence`); NaN before the first.
    public var influence: [Double] { state.influence }

    /// Groups from most to least influential by the last fit's PPI (ties by index); empty before
    /// the first full-rank fit.
    public func influenceRanking() -> [Int] { state.influenceRanking }
}
