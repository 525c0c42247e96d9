/// The options of one tuner as typed fields behind the uniform key/value interface of
/// `Tuner.setParameter`.
///
/// A conforming struct lists its keys in `specs` (ranges, defaults, scope) and implements raw
/// access (`value`, `store`) plus its cross-constraints (`checkConsistency`); the extension adds
/// the checked operations every tuner shares:
///
/// - `set` validates the value against its spec (finite, inclusive range, integral), the scope
///   (group-scoped keys only for one group), then the cross-constraints on a copy, and commits
///   only when everything passed, so a refused value changes nothing.
/// - `get` reads one option after checking that the method has it.
///
/// Snapshot coding (`encode`, `decode`, re-validating on restore) comes with `SpecOrderedOptions`
/// for every method but HessianLR, whose older layout is its own (`HessianLROptions.encode`).
public protocol TunerOptions: Sendable, Equatable {
    /// The method these options belong to (names it in messages).
    static var method: Method { get }
    /// Every option of the method, in snapshot order.
    static var specs: [ParameterSpec] { get }
    /// Defaults for `groups` groups.
    init(groups: Int)
    /// Number of groups the group-scoped options hold.
    var groupCount: Int { get }
    /// The stored value of `key` (for group-scoped keys, of `group`). Only keys of `specs`.
    func value(_ key: ParameterKey, group: Int) -> Double
    /// Stores a value already validated against its spec, for one group or (nil) all groups.
    mutating func store(_ key: ParameterKey, _ value: Double, group: Int?)
    /// Constraints between options (e.g. lr_min ≤ lr_max); the message names the values.
    func checkConsistency() throws(HLRError)
    /// Every option, for snapshots (the payload's first fields after the group count).
    func encode(into writer: inout SnapshotWriter)
    /// Reads what `encode` wrote and validates every value and the cross-constraints as `set`
    /// would; any violation is `snapshotCorrupt` naming the option.
    static func decode(from reader: inout SnapshotReader, groups: Int) throws(HLRError) -> Self
}

extension TunerOptions {
    /// Stores `value` into one group's slot or (nil) every slot.
    static func assign(_ values: inout [Double], _ value: Double, _ group: Int?) {
        if let group {
            values[group] = value
        } else {
            values = Array(repeating: value, count: values.count)
        }
    }

    /// The default of `key` from `specs` (NaN for a key the method lacks).
    public static func defaultValue(_ key: ParameterKey) -> Double {
        specs.first { $0.key == key }?.defaultValue ?? .nan
    }

    /// Sets one option after checking its range, its scope and the cross-constraints; `group`
    /// must be a valid index (the tuner checks it) or nil for every group.
    public mutating func set(_ key: ParameterKey, _ value: Double, group: Int?) throws(HLRError) {
        let spec = try Self.method.spec(for: key)
        try spec.validate(value)
        if group != nil && spec.scope != .group {
            throw .invalid("\(key.name) is set for the whole tuner, not per group")
        }
        var next = self
        next.store(key, value, group: group)
        do {
            try next.checkConsistency()
        } catch {
            throw HLRError(error.kind, "\(error.message): set \(key.name) = \(value) rejected")
        }
        self = next
    }

    /// The value of one option (for group-scoped keys, of `group`).
    public func get(_ key: ParameterKey, group: Int) throws(HLRError) -> Double {
        let spec = try Self.method.spec(for: key)
        return value(key, group: spec.scope == .group ? group : 0)
    }
}

/// Options whose snapshot form is every option in spec order (CDAT, GeN, Hi-DLR, Armijo):
///
/// - `encode` writes every option in spec order (a group-scoped option as K doubles, a
///   handle-scoped one as one double; integers are exact in a double).
/// - `decode` reads them back and re-validates each value and the cross-constraints exactly as
///   `set` does: a crafted snapshot cannot smuggle in an option `set` refuses.
public protocol SpecOrderedOptions: TunerOptions {}

extension SpecOrderedOptions {
    /// Every option in spec order, for snapshots.
    public func encode(into writer: inout SnapshotWriter) {
        for spec in Self.specs {
            if spec.scope == .group {
                writer.write((0..<groupCount).map { value(spec.key, group: $0) })
            } else {
                writer.write(value(spec.key, group: 0))
            }
        }
    }

    /// Reads what `encode` wrote and validates every value and the cross-constraints as `set`
    /// would; any violation is `snapshotCorrupt` naming the option.
    public static func decode(from reader: inout SnapshotReader, groups: Int) throws(HLRError) -> Self {
        var options = Self(groups: groups)
        for spec in specs {
            let values: [Double]
            if spec.scope == .group {
                values = try reader.readDoubles(spec.key.name, count: groups)
            } else {
                values = [try reader.readDouble(spec.key.name)]
            }
            for (index, value) in values.enumerated() {
                do {
                    try spec.validate(value)
                } catch {
                    throw HLRError(.snapshotCorrupt, "snapshot holds an invalid option: \(error.message)")
                }
                options.store(spec.key, value, group: spec.scope == .group ? index : nil)
            }
        }
        do {
            try options.checkConsistency()
        } catch {
            throw HLRError(.snapshotCorrupt, "snapshot holds inconsistent options: \(error.message)")
        }
        return options
    }
}

/// The cross-constraint every clamped method shares.
func checkRateClamp(lrMin: Double, lrMax: Double) throws(HLRError) {
    guard lrMin <= lrMax else {
        throw .invalid("lr_min (\(lrMin)) must not exceed lr_max (\(lrMax))")
    }
}

/// The largest probe step s·lr a probing method (GeN, Hi-DLR) may take: 1e150, so that a step
/// and its square (the quadratic fit's design matrix holds ξ²) stay finite.
let maxProbeStep = 1e150

/// The ceiling a probing method's rates obey: min(lr_max, 1e150 / s). With lr_max = +∞ (no
/// ceiling, the GeN and Hi-DLR default) the probe bound is what keeps a probe step finite; it
/// applies like lr_max (flag `clampedMax`).
func probeRateCeiling(scale: Double, lrMax: Double) -> Double {
    Swift.min(lrMax, maxProbeStep / scale)
}

/// The cross-constraint of the probing methods: s·lr ≤ `maxProbeStep` for the rates a tuner
/// starts from and the floor it may be clamped to (every initial rate and lr_min; later rates
/// obey `probeRateCeiling`); the message names the offending product.
func checkProbeSteps(scale: Double, initialLR: [Double], lrMin: Double) throws(HLRError) {
    let largest = Swift.max(lrMin, initialLR.max() ?? 0)
    let step = scale * largest
    guard step <= maxProbeStep else {
        throw .invalid(
            "probe_scale (\(scale)) × the largest rate (\(largest)) = \(step) exceeds \(maxProbeStep): "
                + "probe steps and their squares must stay finite")
    }
}
