/// Which direction the quadratic model is taken along.
public enum Direction: Int, Sendable, CaseIterable {
    /// d = g: lr* = gᵀg / gᵀHg, the exact minimiser of the local quadratic along −g (SGD).
    case gradient = 0
    /// d = u, the optimizer's update (w ← w − η·u, e.g. Adam's m̂/(√v̂+ε)): lr* = gᵀu / uᵀHu.
    case update = 1
}

/// All knobs of HessianLR (seed 000's README, same defaults) plus the direction.
///
/// `set` and `get` are `TunerOptions`'; the snapshot layout is HessianLR's own (`encode`), older
/// than the spec-order layout of the other methods (`SpecOrderedOptions`).
public struct HessianLROptions: TunerOptions {
    public static let method = Method.hessianLR

    /// η₀ per group (default 1e-3).
    public var initialLR: [Double]
    /// W (default 0).
    public var warmupSteps: UInt64 = 0
    /// P (default 10).
    public var updatePeriod: UInt64 = 10
    /// lr_bounds = (low, high) (default (0.3, 3.0)).
    public var lrBoundLow: Double = 0.3
    public var lrBoundHigh: Double = 3.0
    /// Absolute clamp (default [1e-8, 1.0]).
    public var lrMin: Double = 1e-8
    public var lrMax: Double = 1.0
    /// β of the EMA (default 0.9).
    public var smoothing: Double = 0.9
    /// Factor for dᵀHd ≤ 0 (default 0.5).
    public var negativeCurvatureDecay: Double = 0.5
    public var direction: Direction = .gradient

    public var groupCount: Int { initialLR.count }

    public init(groups: Int) {
        initialLR = Array(repeating: Self.defaultValue(.initialLR), count: groups)
    }

    /// Ranges and defaults of every HessianLR option (`hlr_param_bounds`).
    public static let specs: [ParameterSpec] = [
        ParameterSpec(
            .initialLR, minimum: .leastNormalMagnitude, maximum: .greatestFiniteMagnitude,
            default: 1e-3, scope: .group),
        ParameterSpec(
            .warmupSteps, minimum: 0, maximum: ParameterSpec.maxIntegral, default: 0, integral: true),
        ParameterSpec(
            .updatePeriod, minimum: 1, maximum: ParameterSpec.maxIntegral, default: 10,
            integral: true),
        ParameterSpec(.lrBoundLow, minimum: .leastNormalMagnitude, maximum: 1, default: 0.3),
        ParameterSpec(.lrBoundHigh, minimum: 1, maximum: .greatestFiniteMagnitude, default: 3.0),
        ParameterSpec(.lrMin, minimum: 0, maximum: .greatestFiniteMagnitude, default: 1e-8),
        ParameterSpec(
            .lrMax, minimum: .leastNormalMagnitude, maximum: .infinity, default: 1.0),
        ParameterSpec(.smoothing, minimum: 0, maximum: (1.0).nextDown, default: 0.9),
        ParameterSpec(
            .negativeCurvatureDecay, minimum: .leastNormalMagnitude, maximum: 1, default: 0.5),
        ParameterSpec(.direction, minimum: 0, maximum: 1, default: 0, integral: true),
    ]

    public static func spec(_ key: ParameterKey) -> ParameterSpec? {
        specs.first { $0.key == key }
    }

    public func value(_ key: ParameterKey, group: Int) -> Double {
        switch key {
        case .initialLR: return initialLR[group]
        case .warmupSteps: return Double(warmupSteps)
        case .updatePeriod: return Double(updatePeriod)
        case .lrBoundLow: return lrBoundLow
        case .lrBoundHigh: return lrBoundHigh
        case .lrMin: return lrMin
        case .lrMax: return lrMax
        case .smoothing: return smoothing
        case .negativeCurvatureDecay: return negativeCurvatureDecay
        case .direction: return Double(direction.rawValue)
        default: return .nan
        }
    }

    public mutating func store(_ key: ParameterKey, _ value: Double, group: Int?) {
        switch key {
        case .initialLR: Self.assign(&initialLR, value, group)
        case .warmupSteps: warmupSteps = UInt64(value)
        case .updatePeriod: updatePeriod = UInt64(value)
        case .lrBoundLow: lrBoundLow = value
        case .lrBoundHigh: lrBoundHigh = value
        case .lrMin: lrMin = value
        case .lrMax: lrMax = value
        case .smoothing: smoothing = value
        case .negativeCurvatureDecay: negativeCurvatureDecay = value
        case .direction: direction = value == 0 ? .gradient : .update
        default: break
        }
    }

    public func checkConsistency() throws(HLRError) {
        try checkRateClamp(lrMin: lrMin, lrMax: lrMax)
    }

    /// Every option, in a fixed order, for snapshots.
    public func encode(into writer: inout SnapshotWriter) {
        writer.write(initialLR)
        writer.write(warmupSteps)
        writer.write(updatePeriod)
        for value in [lrBoundLow, lrBoundHigh, lrMin, lrMax, smoothing, negativeCurvatureDecay] {
            writer.write(value)
        }
        writer.write(UInt8(direction.rawValue))
    }

    /// Reads what `encode` wrote and validates every value exactly as `set` would, so a crafted
    /// payload cannot smuggle in an option `set` refuses.
    public static func decode(from reader: inout SnapshotReader, groups: Int) throws(HLRError) -> HessianLROptions {
        var options = HessianLROptions(groups: groups)
        do {
            let lrs = try reader.readDoubles("initial_lr", count: groups)
            for (group, lr) in lrs.enumerated() { try options.set(.initialLR, lr, group: group) }
            try options.set(.warmupSteps, try reader.readStepCount("warmup_steps"), group: nil)
            try options.set(.updatePeriod, try reader.readStepCount("update_period"), group: nil)
            let low = try reader.readDouble("lr_bound_low")
            let high = try reader.readDouble("lr_bound_high")
            let lrMin = try reader.readDouble("lr_min")
            let lrMax = try reader.readDouble("lr_max")
            let smoothing = try reader.readDouble("smoothing")
            let decay = try reader.readDouble("negative_curvature_decay")
            let direction = try reader.readUInt8("direction")
            try options.set(.lrBoundLow, low, group: nil)
            try options.set(.lrBoundHigh, high, group: nil)
            try options.set(.lrMax, .greatestFiniteMagnitude, group: nil)
            try options.set(.lrMin, lrMin, group: nil)
            try options.set(.lrMax, lrMax, group: nil)
            try options.set(.smoothing, smoothing, group: nil)
            try options.set(.negativeCurvatureDecay, decay, group: nil)
            try options.set(.direction, Double(direction), group: nil)
        } catch where error.kind == .invalidArgument {
            throw HLRError(.snapshotCorrupt, "snapshot holds an invalid option: \(error.message)")
        }
        return options
    }
}
