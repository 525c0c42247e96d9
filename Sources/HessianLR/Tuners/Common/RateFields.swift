/// The option fields every per-group rate method holds (CDAT, HessianLR, GeN, Hi-DLR, auto):
/// the initial rates, the update period, the absolute clamp and the EMA weight. Their ranges are
/// the shared rows of `OptionField` (`.initialLR`, `.updatePeriod`, `.lrMin`, `.lrMax`,
/// `.smoothing`); each method's table gives their defaults.
///
/// Placeholders: `TunerOptions.init(groups:)` sets every field to its default from the
/// method's table.
public struct RateFields: Sendable, Equatable {
    /// η₀ per group: the rate before the first update (initial_lr).
    public var initialLR: [Double] = []
    /// P: the steps between updates (auto: the longest period; update_period).
    public var updatePeriod: UInt64 = 0
    /// The absolute clamp [lr_min, lr_max] of every rate.
    public var lrMin = 0.0
    public var lrMax = 0.0
    /// β of the method's EMA: x̂ ← β·x̂ + (1 − β)·x (smoothing).
    public var smoothing = 0.0

    public init() {}

    /// The cross-constraint every clamped method shares: lr_min ≤ lr_max.
    public func checkClamp() throws(HLRError) {
        guard lrMin <= lrMax else {
            throw .invalid("lr_min (\(lrMin)) must not exceed lr_max (\(lrMax))")
        }
    }
}

/// Options that hold `RateFields` as `rate`; `options.lrMin` and key paths such as `\.lrMin`
/// reach the shared fields directly (dynamic member lookup), so a method's table and rule use
/// them like its own fields. The generic tuner shell, which runs on every step, names
/// `options.rate` explicitly. The group count is that of `initial_lr`.
@dynamicMemberLookup
public protocol RateFieldOptions: TunerOptions {
    var rate: RateFields { get set }
}

extension RateFieldOptions {
    /// The shared field at `path` (`options.lrMin` is `options.rate.lrMin`).
    public subscript<Value>(dynamicMember path: WritableKeyPath<RateFields, Value>) -> Value {
        get { rate[keyPath: path] }
        set { rate[keyPath: path] = newValue }
    }

    public var groupCount: Int { rate.initialLR.count }
}
