/// The knobs of CDAT (seed 002, Roulet et al. 2024, "Stepping on the Edge"). The paper has no
/// public code; where it gives no value the library's conventions (seed 000) fill in.
///
/// | key | source |
/// |---|---|
/// | initial_lr (grp) | library default (seed 000); rate before the first observation |
/// | update_period | paper: the rule is applied at every step |
/// | lr_min | library clamp (seed 000) |
/// | lr_max | none: the paper's rule has no ceiling (η = σ·n̂/d̂ is the rate); a rate is always finite (the largest Double caps it). The library's first default, 1.0 (seed 000's), held CDAT below the best constant on digits (benchmarks/training) |
/// | smoothing β | paper smooths n and d by EMAs but gives no public β; 0.9 as the library's other EMAs; 0 = raw rule |
/// | direction | paper: u is the base optimizer's update |
/// | sigma σ | paper: σ = 2 "on edge"; σ = 1 quadratically greedy |
/// | epsilon ε | paper has ε > 0 without a value; units of uᵀHu |
/// | sharpness (grp) | diagnostic only; 0 = not supplied |
///
/// Each option's default and range are written once, in `fields` below (`hlr_param_info`
/// reports them); the table gives why.
public struct CDATOptions: TunerOptions, ClampedRateOptions {
    public static let method = Method.cdat

    // Placeholders: `init(groups:)` sets every field to its default from `fields`.
    /// Initial rates, period, clamp, and β of the EMAs n̂ ← β·n̂ + (1 − β)·n and
    /// d̂ ← β·d̂ + (1 − β)·d.
    public var rate = RateFields()
    public var direction = Direction.update
    public var sigma = 0.0
    public var epsilon = 0.0
    /// λ_max per group for the edge-of-stability diagnostic (0 = not supplied).
    public var sharpness: [Double] = []

    /// The ceiling every rate obeys: lr_max (a rate handed out is finite all the same,
    /// `RateSafeguards.clamp`).
    public var rateCeiling: Double { rate.lrMax }

    public init(storageFor groups: Int) {}

    public static let fields: [OptionField<Self>] = [
        .initialLR(\.initialLR),
        .updatePeriod(\.updatePeriod, default: 1),
        .lrMin(\.lrMin, default: 1e-8),
        .lrMax(\.lrMax, default: .infinity),
        .smoothing(\.smoothing, default: 0.9),
        .choice(.direction, \.direction, default: .update),
        .sigma(\.sigma, default: 2.0),
        .real(.epsilon, \.epsilon, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude, default: 1e-12),
        .perGroup(.sharpness, \.sharpness, minimum: 0, maximum: .greatestFiniteMagnitude, default: 0),
    ]

    public func checkConsistency() throws(HLRError) {
        try rate.checkClamp()
    }
}
