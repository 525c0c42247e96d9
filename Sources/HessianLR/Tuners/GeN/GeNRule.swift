/// The GeN update (seed 001): a pure function of the current rates, the observed probe losses and
/// the options. One place for the math; the tuner only sequences it.
///
/// **Groups (Hi-ULR).** GeN tunes one scalar: with K groups every probe moves all groups
/// together along the optimizer's combined step, group k by its own rate: probe j evaluates
/// L(w − Σ_k ξ_jk·d_k) with ξ_jk = s·lr_k·ρ_j. The fit is over the shared coordinate ρ, and every
/// group's rate is rescaled by the same factor, so the rates keep their ratios (up to the
/// clamp). With one group this is exactly GeN's `lr_parabola`; for per-group rates fitted
/// separately use Hi-DLR.
///
/// **Probes.** m ≥ 3 points ρ_j = (2j − (m − 1))/(m − 1), j = 0…m−1, equally spaced and
/// symmetric on [−1, 1] (m = 3: {−1, 0, +1}, GeN's lr_factor; odd m includes ρ = 0, the current
/// loss the trainer usually already has).
///
/// **Fit.** Least squares of L(ρ) ≈ c − β·ρ + ½·α·ρ² (`QuadraticModel`). In the step units of
/// group k (ξ_k = h_k·ρ with h_k = s·lr_k): b_k = β/h_k and a_k = α/h_k², i.e. L(ξ) = c − b·ξ +
/// ½·a·ξ². With the 3 symmetric probes the fit interpolates: b = (L₋ − L₊)/(2ξ),
/// a = (L₊ + L₋ − 2L₀)/ξ² and R² = 1, so the R² gate only bites with m ≥ 4.
///
/// **Decision.** The fit is accepted iff it has full rank, α > 0 (a > 0), β > 0 (b > 0) and
/// R² > r2_threshold, where "> 0" means beyond rounding noise (`QuadraticModel.resolution`: an
/// exactly linear loss is a = 0, rejected, whatever the sign of its rounding error). Then the
/// candidate of group k is b_k/a_k = h_k·β/α (the minimiser of the fitted quadratic) and the rate
/// follows `RateSafeguards`: clip to [low·lr, high·lr] (GeN: [lr/2, 2·lr]), EMA
/// lr' = β_s·lr + (1 − β_s)·clip (GeN: 0.9), absolute clamp.
///
/// **Rejected vs failed.** As in the reference code, a fit that the gates reject (a ≤ 0
/// `negativeCurvature`, b = 0 `zeroGradient`, b < 0 `notDescent`, R² ≤ r2_threshold `poorFit`)
/// leaves every rate unchanged (only clamped), flagged `fitRejected` with the reasons. A fit that
/// *fails* (the design is rank-deficient, `rankDeficient`: the analogue of the reference's
/// `curve_fit` raising) multiplies every rate by fit_failure_decay (GeN: halves). The
/// reference's other failure, a non-finite probe loss, is an invalid observation here
/// (`nonFinite`, state unchanged), so the caller decides what a diverged probe means.
///
/// Differences from the reference code, on purpose: the intercept c is fitted rather than pinned
/// to L₀ (identical for 3 probes), and the base optimizer is not stepped twice.
public enum GeNRule {
    /// Candidates b_k/a_k per group (NaN when the fit was rejected), the fit in probe
    /// coordinates ρ, curvature a_k per group in step units; no influence.
    public typealias Decision = ProbeFitDecision

    /// ρ_j = (2j − (m − 1))/(m − 1) for j = 0…m−1.
    public static func probeRatios(count m: Int) -> [Double] {
        (0..<m).map { j in Double(2 * j - (m - 1)) / Double(m - 1) }
    }

    /// The probe steps ξ_jk = (s·lr_k)·ρ_j of `Need.losses`, for the current rates.
    public static func probes(rates: [Double], options: GeNOptions) -> [[Double]] {
        let units = rates.map { options.probeFit.probeScale * $0 }
        return probeRatios(count: options.probeFit.probeCount).map { ratio in units.map { $0 * ratio } }
    }

    /// One update from the losses at `probes(rates: current, options:)`, in that order.
    /// Throws only for malformed input (counts, non-finite values).
    public static func decide(current: [Double], losses: [Double], options: GeNOptions) throws(HLRError) -> Decision {
        let ratios = probeRatios(count: options.probeFit.probeCount)
        let model = try QuadraticModel.fit(
            probes: ratios.map { [$0] }, losses: losses, kind: .diagonal, dimension: 1)
        let units = current.map { options.probeFit.probeScale * $0 }
        let beta = model.slope[0]
        let alpha = model.curvature[0]
        let slopes = units.map { beta / $0 }
        let curvatures = units.map { alpha / ($0 * $0) }
        var reasons: DecisionFlags = []
        if model.isRankDeficient {
            reasons.insert(.rankDeficient)
        } else {
            if !model.isPositive(alpha) { reasons.insert(.negativeCurvature) }
            if model.isZero(beta) {
                reasons.insert(.zeroGradient)
            } else if beta < 0 {
                reasons.insert(.notDescent)
            }
            if !(model.r2 > options.probeFit.r2Threshold) { reasons.insert(.poorFit) }
        }
        var rates: [Double] = []
        var candidates: [Double] = []
        var flags: [DecisionFlags] = []
        for (group, lr) in current.enumerated() {
            var groupFlags = reasons
            if reasons.isEmpty {
                let candidate = units[group] * (beta / alpha)
                rates.append(RateSafeguards.update(
                    current: lr, candidate: candidate, low: options.probeFit.lrBoundLow, high: options.probeFit.lrBoundHigh,
                    smoothing: options.smoothing, lrMin: options.lrMin, lrMax: options.rateCeiling,
                    flags: &groupFlags))
                candidates.append(candidate)
            } else {
                groupFlags.insert(.fitRejected)
                let factor = reasons.contains(.rankDeficient) ? options.probeFit.fitFailureDecay : 1
                rates.append(RateSafeguards.clamp(
                    factor * lr, lrMin: options.lrMin, lrMax: options.rateCeiling, flags: &groupFlags))
                candidates.append(.nan)
            }
            flags.append(groupFlags)
        }
        return Decision(
            learningRates: rates, candidates: candidates, flags: flags, model: model, slopes: slopes,
            curvature: curvatures, influence: nil)
    }
}
