/// The decisions of the Armijo backtracking line search (seed 002's baseline; optax
/// `scale_by_backtracking_linesearch`), as pure functions. Convention w ← w − η·d, so the
/// slope along the step is −S with S = Σ_k g_kᵀd_k (the paper's f(w + ηu) ≤ f(w) + c·η·⟨u, ∇f⟩
/// with u = −d):
///
///     accept η  ⇔  L(w − η·d) ≤ L(w) − c·η·S      (evaluated as `loss0 - c * eta * slope`)
///
/// A search starts at η₀ = min(initial_lr, lr_max) the first time and min(η_prev·increase_factor,
/// lr_max) afterwards (η_prev = the last rate used; with lr_max = +∞ the largest finite Double
/// caps it, so a trial is always finite), and multiplies η by decrease_factor after each
/// failed test. After max_backtracks decreases without success the last trial is used (optax
/// does the same, `backtrackLimit`); a decrease that would underflow to 0 also ends the search
/// there. S ≤ 0 (−d not a descent direction) is searched all the same, as optax does
/// (`notDescent`/`zeroGradient`).
public enum ArmijoRule {
    /// What to do after one trial loss.
    public enum Verdict: Sendable, Equatable {
        /// Sufficient decrease: use this rate.
        case accept(Double)
        /// Try this smaller rate next.
        case backtrack(Double)
        /// The cap was reached: use this (last tried) rate.
        case giveUp(Double)
    }

    /// The state of an unfinished search.
    public struct Search: Sendable, Equatable {
        var step: UInt64
        var loss0: Double
        /// S = Σ_k g_kᵀd_k.
        var slope: Double
        var trial: Double
        /// Decreases made so far (≤ max_backtracks ≤ `ArmijoOptions.maxBacktracksLimit`).
        var backtracks: UInt64
        var flags: DecisionFlags
    }

    /// A search at `step` from the slope observation [L(w), g₀ᵀd₀, …]: S = Σ_k g_kᵀd_k (flags
    /// `zeroGradient` for S = 0, `notDescent` for S < 0; searched all the same), first trial
    /// `firstTrial(previous:)`. Throws `nonFinite` when the sum overflows.
    public static func startSearch(
        step: UInt64, loss0: Double, slopes: ArraySlice<Double>, previous: Double?, options: ArmijoOptions
    ) throws(HLRError) -> Search {
        var slope = 0.0
        for value in slopes { slope += value }
        guard slope.isFinite else {
            throw HLRError(.nonFinite, "the total slope Σ gᵀd overflows")
        }
        var flags: DecisionFlags = []
        if slope == 0 { flags.insert(.zeroGradient) }
        if slope < 0 { flags.insert(.notDescent) }
        return Search(
            step: step, loss0: loss0, slope: slope, trial: firstTrial(previous: previous, options: options),
            backtracks: 0, flags: flags)
    }

    /// The first trial of a search; `previous` is the last rate used, nil before any search.
    public static func firstTrial(previous: Double?, options: ArmijoOptions) -> Double {
        guard let previous else { return min(options.initialLR, options.lrMax) }
        return min(previous * options.increaseFactor, options.lrMax, .greatestFiniteMagnitude)
    }

    /// The Armijo test L(η) ≤ L₀ − c·η·S.
    public static func isSufficientDecrease(
        loss0: Double, slope: Double, rate: Double, trialLoss: Double, options: ArmijoOptions
    ) -> Bool {
        trialLoss <= loss0 - options.sufficientDecrease * rate * slope
    }

    /// The verdict on the trial `rate` after `backtracks` decreases in this search.
    public static func judge(
        loss0: Double, slope: Double, rate: Double, trialLoss: Double, backtracks: Int,
        options: ArmijoOptions
    ) -> Verdict {
        if isSufficientDecrease(loss0: loss0, slope: slope, rate: rate, trialLoss: trialLoss, options: options) {
            return .accept(rate)
        }
        let next = rate * options.decreaseFactor
        if backtracks >= options.maxBacktracks || !(next > 0) { return .giveUp(rate) }
        return .backtrack(next)
    }
}
