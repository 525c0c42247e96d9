/// The safeguards GeN applies to a new rate, shared with Hi-DLR and HessianLR (seed 000's
/// lr_bounds, EMA and clamp are the same sequence), in this order:
///
/// 1. **Relative bound.** candidate ← clamp(candidate, low·lr, high·lr) (GeN: low = ½, high = 2,
///    i.e. clip(b/a, lr/2, 2·lr); HessianLR: low = 0.3, high = 3).
/// 2. **EMA.** lr' = β·lr + (1 − β)·candidate (GeN: β = 0.9).
/// 3. **Absolute clamp.** lr' ← clamp(lr', lr_min, lr_max).
///
/// The flags record which stage changed the value.
enum RateSafeguards {
    static func update(
        current: Double, candidate: Double, low: Double, high: Double, smoothing beta: Double,
        lrMin: Double, lrMax: Double, flags: inout DecisionFlags
    ) -> Double {
        var bounded = candidate
        if bounded < low * current {
            bounded = low * current
            flags.insert(.boundedLow)
        } else if bounded > high * current {
            bounded = high * current
            flags.insert(.boundedHigh)
        }
        let smoothed = beta * current + (1 - beta) * bounded
        return clamp(smoothed, lrMin: lrMin, lrMax: lrMax, flags: &flags)
    }

    /// The absolute clamp [lr_min, lr_max], recording which side applied. lr_max may be +∞ (no
    /// ceiling); a rate handed out is finite all the same: the largest finite Double caps it
    /// (flag `clampedMax`), so an infinite candidate (σ·n̂/d̂ with d̂ → 0) never reaches a trainer.
    static func clamp(_ value: Double, lrMin: Double, lrMax: Double, flags: inout DecisionFlags) -> Double {
        if value < lrMin {
            flags.insert(.clampedMin)
            return lrMin
        }
        let ceiling = Swift.min(lrMax, .greatestFiniteMagnitude)
        if value > ceiling {
            flags.insert(.clampedMax)
            return ceiling
        }
        return value
    }

    /// A failed observation (`Tuner.observeFailure`): every rate × `factor` (GeN's halving),
    /// clamped; the decision log has no candidates and flags `fitRejected`, `observationFailed`
    /// plus the clamp that applied.
    static func failedObservation(
        _ rates: [Double], factor: Double, lrMin: Double, lrMax: Double
    ) -> (rates: [Double], log: DecisionLog) {
        var flags: [DecisionFlags] = []
        let decayed = rates.map { rate in
            var groupFlags: DecisionFlags = [.fitRejected, .observationFailed]
            let value = clamp(factor * rate, lrMin: lrMin, lrMax: lrMax, flags: &groupFlags)
            flags.append(groupFlags)
            return value
        }
        return (decayed, DecisionLog(candidates: Array(repeating: .nan, count: rates.count), flags: flags))
    }

    /// `clamp` without flags.
    static func clamp(_ value: Double, lrMin: Double, lrMax: Double) -> Double {
        var flags: DecisionFlags = []
        return clamp(value, lrMin: lrMin, lrMax: lrMax, flags: &flags)
    }
}
