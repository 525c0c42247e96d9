/// The Hi-DLR update (seed 001): per-group rates from a least-squares quadratic over random
/// per-group probe steps. A pure function of the current rates, the losses, the options and the
/// update counter; the tuner only sequences it.
///
/// **Probes.** m probes (`HiDLROptions.resolvedProbeCount`, ≥ the p unknowns). Probe 0 is the
/// origin (ξ = 0: the current loss, which the trainer usually has). Probe j ≥ 1 has the unit
/// coordinates r_jk = 2·U_i − 1 ∈ [−1, 1), U_i the `CounterRNG` uniform of element
/// i = (j − 1)·K + k of vector (seed, stream `perturbation`, index = update counter), and the
/// step of group k is ξ_jk = (s·lr_k)·r_jk: each group moves by up to ±s times its own rate, like
/// GeN's ±lr. Uniform rather than Rademacher because r_jk² must vary for a_k to be identifiable
/// (with ±1 the ½ξ_k² column equals the intercept column); bounded rather than Gaussian so no
/// probe steps far outside the region where the quadratic model holds.
///
/// **Fit.** `QuadraticModel` over r (2K + 1 unknowns, or K(K+1)/2 + K + 1 for the full model),
/// converted to step units with h_k = s·lr_k: b_k = β_k/h_k, A_kl = α_kl/(h_k·h_l), so
/// L(w − Σ ξ_k d_k) ≈ c − Σ b_k ξ_k + ½ ξᵀAξ.
///
/// **Decision.** A fit that fails (rank-deficient design: `rankDeficient`) multiplies every rate
/// by fit_failure_decay (GeN's halving). A fit with R² ≤ r2_threshold (`poorFit`) is rejected
/// and every rate is kept (only clamped), as GeN's reference does for its gates; both are
/// flagged `fitRejected`. Otherwise:
/// - diagonal: η_k = b_k/a_k (a_k = A_kk) for the groups with a_k > 0 and b_k > 0; a group with
///   a_k ≤ 0 (`negativeCurvature`) or b_k ≤ 0 (`zeroGradient`/`notDescent`) keeps its rate ("> 0"
///   beyond rounding noise, `QuadraticModel.resolution`).
/// - full: A (in r units, where the groups are comparably scaled) is made positive definite by
///   raising every eigenvalue below eigen_floor·λ_max to that floor (`projected`; Jacobi,
///   `SymmetricEigen`), then η = A₊⁻¹b (η_k = h_k·r*_k with r* = α₊⁻¹β); a group with η_k ≤ 0
///   keeps its rate (`notDescent`); when λ_max ≤ 0 the fit is rejected (`negativeCurvature`).
/// Each η_k then passes GeN's safeguards (`RateSafeguards`: clip to [low·lr_k, high·lr_k], EMA,
/// absolute clamp); a kept rate is only clamped.
///
/// **Influence.** PPI_k = `Influence.value(b_k, A_kk)` for every full-rank fit, accepted or not.
public enum HiDLRRule {
    /// Candidates η_k per group before the safeguards (NaN for kept groups and rejected fits),
    /// the fit in unit coordinates r, curvature A (K×K row-major) in step units, and PPI_k.
    public typealias Decision = ProbeFitDecision

    /// The unit coordinates r_jk of the m probes of update `round` (row 0 is the origin).
    public static func unitProbes(groups k: Int, count m: Int, seed: UInt64, round: UInt64) -> [[Double]] {
        let rng = CounterRNG(seed: seed, stream: RandomStream.perturbation.rawValue, index: round)
        var probes = [[Double]](repeating: [Double](repeating: 0, count: k), count: m)
        for j in 1..<max(m, 1) {
            for group in 0..<k {
                probes[j][group] = 2 * rng.uniform(UInt64((j - 1) * k + group)) - 1
            }
        }
        return probes
    }

    /// The probe steps ξ_jk = (s·lr_k)·r_jk of `Need.losses` for update `round`.
    public static func probes(rates: [Double], options: HiDLROptions, round: UInt64) -> [[Double]] {
        let units = rates.map { options.probeFit.probeScale * $0 }
        return unitProbes(
            groups: rates.count, count: options.resolvedProbeCount, seed: options.seed, round: round
        ).map { row in zip(units, row).map { $0 * $1 } }
    }

    /// One update from the losses at `probes(rates: current, options:, round:)`, in that order.
    /// Throws only for malformed input (counts, non-finite values).
    public static func decide(
        current: [Double], losses: [Double], options: HiDLROptions, round: UInt64
    ) throws(HLRError) -> Decision {
        let k = current.count
        let unit = unitProbes(groups: k, count: options.resolvedProbeCount, seed: options.seed, round: round)
        let model = try QuadraticModel.fit(probes: unit, losses: losses, kind: options.model, dimension: k)
        let h = current.map { options.probeFit.probeScale * $0 }
        let slopes = (0..<k).map { model.slope[$0] / h[$0] }
        var curvature = [Double](repeating: 0, count: k * k)
        for a in 0..<k {
            for b in 0..<k { curvature[a * k + b] = model.curvature[a * k + b] / (h[a] * h[b]) }
        }
        let influence = (0..<k).map { Influence.value(slope: slopes[$0], curvature: curvature[$0 * k + $0]) }

        var reasons: DecisionFlags = []
        if model.isRankDeficient {
            reasons.insert(.rankDeficient)
        } else if !(model.r2 > options.probeFit.r2Threshold) {
            reasons.insert(.poorFit)
        }
        // r*_k in unit coordinates (NaN: keep the group's rate), plus per-group flags.
        var target = [Double](repeating: .nan, count: k)
        var groupFlags = [DecisionFlags](repeating: [], count: k)
        if reasons.isEmpty {
            switch options.model {
            case .diagonal:
                for group in 0..<k {
                    let alpha = model.curvature[group * k + group]
                    let beta = model.slope[group]
                    if !model.isPositive(alpha) {
                        groupFlags[group].insert(.negativeCurvature)
                    } else if model.isZero(beta) {
                        groupFlags[group].insert(.zeroGradient)
                    } else if beta < 0 {
                        groupFlags[group].insert(.notDescent)
                    } else {
                        target[group] = beta / alpha
                    }
                }
            case .full:
                let eigen = try SymmetricEigen.decompose(model.curvature, dimension: k)
                let largest = eigen.values[k - 1]
                if !model.isPositive(largest) {
                    reasons.insert(.negativeCurvature)
                } else {
                    let floor = options.eigenFloor * largest
                    let projected = eigen.values.contains { $0 < floor }
                    let solution = eigen.apply(model.slope) { 1 / max($0, floor) }
                    for group in 0..<k {
                        if projected { groupFlags[group].insert(.projected) }
                        if solution[group] > 0 && solution[group].isFinite {
                            target[group] = solution[group]
                        } else {
                            groupFlags[group].insert(.notDescent)
                        }
                    }
                }
            }
        }
        var rates: [Double] = []
        var candidates: [Double] = []
        var flags: [DecisionFlags] = []
        for group in 0..<k {
            var groupFlag = groupFlags[group]
            let lr = current[group]
            if !reasons.isEmpty {
                groupFlag.formUnion(reasons)
                groupFlag.insert(.fitRejected)
                let factor = reasons.contains(.rankDeficient) ? options.probeFit.fitFailureDecay : 1
                rates.append(RateSafeguards.clamp(
                    factor * lr, lrMin: options.lrMin, lrMax: options.rateCeiling, flags: &groupFlag))
                candidates.append(.nan)
            } else if target[group].isNaN {
                rates.append(RateSafeguards.clamp(lr, lrMin: options.lrMin, lrMax: options.rateCeiling, flags: &groupFlag))
                candidates.append(.nan)
            } else {
                let candidate = h[group] * target[group]
                rates.append(RateSafeguards.update(
                    current: lr, candidate: candidate, low: options.probeFit.lrBoundLow, high: options.probeFit.lrBoundHigh,
                    smoothing: options.smoothing, lrMin: options.lrMin, lrMax: options.rateCeiling,
                    flags: &groupFlag))
                candidates.append(candidate)
            }
            flags.append(groupFlag)
        }
        return Decision(
            learningRates: rates, candidates: candidates, flags: flags, model: model, slopes: slopes,
            curvature: curvature, influence: influence)
    }
}
