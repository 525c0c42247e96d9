/// The options of one tuner as typed fields behind the uniform key/value interface of
/// `Tuner.setParameter`.
///
/// A conforming struct declares its fields, its options table `fields` (each row an
/// `OptionField`: key, range, default, integrality and scope bound to the field that holds it)
/// and its cross-constraints (`checkConsistency`); the extension adds, from the table, what every
/// tuner shares:
///
/// - `init(groups:)`: every field at its default.
/// - `set` validates each value against its spec (finite, inclusive range, integral), the scope
///   (group-scoped keys only for one group), then the cross-constraints on a copy — once, on the
///   result, when several options are set together — and commits only when everything passed,
///   so a refused value changes nothing.
/// - `get` reads one option after checking that the method has it.
/// - `encode` and `decode`: the snapshot form, every option in table order, re-validated on
///   restore.
/// One option to set: a key, its value, and the group (nil: every group, or a tuner-wide option).
public struct ParameterSetting: Sendable, Equatable {
    public var key: ParameterKey
    public var value: Double
    public var group: Int?

    public init(_ key: ParameterKey, _ value: Double, group: Int? = nil) {
        self.key = key
        self.value = value
        self.group = group
    }
}

public protocol TunerOptions: Sendable, Equatable {
    /// The method these options belong to (names it in messages).
    static var method: Method { get }
    /// The options table: every option of the method bound to its field, in snapshot order.
    static var fields: [OptionField<Self>] { get }
    /// Storage for `groups` groups whose fields hold placeholders; `init(groups:)` then sets
    /// every field of `fields` to its default.
    init(storageFor groups: Int)
    /// Number of groups the group-scoped options hold.
    var groupCount: Int { get }
    /// Constraints between options (e.g. lr_min ≤ lr_max); the message names the values.
    func checkConsistency() throws(HLRError)
}

extension TunerOptions {
    /// Every option of the method in snapshot order (`Method.parameterSpecs`).
    public static var specs: [ParameterSpec] { fields.map(\.spec) }

    /// Every option at its default (`fields`), for `groups` groups.
    public init(groups: Int) {
        self.init(storageFor: groups)
        for field in Self.fields { field.reset(&self, groups) }
    }

    /// The row of `key`; throws `unknownKey` (naming the method) when the method lacks it.
    static func field(_ key: ParameterKey) throws(HLRError) -> OptionField<Self> {
        guard let field = fields.first(where: { $0.spec.key == key }) else { throw method.unknownParameter(key) }
        return field
    }

    /// Sets one option after checking its range, its scope and the cross-constraints; `group`
    /// must be a valid index (the tuner checks it) or nil for every group.
    public mutating func set(_ key: ParameterKey, _ value: Double, group: Int?) throws(HLRError) {
        try set([ParameterSetting(key, value, group: group)])
    }

    /// Sets several options at once: each value's range and scope checked in order (the message
    /// of the first refused one names it), the cross-constraints (lr_min ≤ lr_max, auto's
    /// optimizer coefficients, …) only on the result, so the order does not matter; all or
    /// nothing. A key given twice takes its last value.
    public mutating func set(_ settings: [ParameterSetting]) throws(HLRError) {
        var next = self
        for setting in settings {
            let field = try Self.field(setting.key)
            try field.spec.validate(setting.value)
            if setting.group != nil && field.spec.scope != .group {
                throw .invalid("\(setting.key.name) is set for the whole tuner, not per group")
            }
            field.write(&next, setting.value, setting.group)
        }
        do {
            try next.checkConsistency()
        } catch {
            let what = settings.map { "\($0.key.name) = \($0.value)" }.joined(separator: ", ")
            throw HLRError(error.kind, "\(error.message): set \(what) rejected")
        }
        self = next
    }

    /// The value of one option (for group-scoped keys, of `group`).
    public func get(_ key: ParameterKey, group: Int) throws(HLRError) -> Double {
        let field = try Self.field(key)
        return field.read(self, field.spec.scope == .group ? group : 0)
    }
}

/// The snapshot form of the options (the payload's first fields after the group count, since
/// snapshot format version 2 the same for every method):
///
/// - `encode` writes every option in table order (a group-scoped option as K doubles, a
///   handle-scoped one as one double; integers are exact in a double).
/// - `decode` reads them back and re-validates each value and the cross-constraints exactly as
///   `set` does: a crafted snapshot cannot smuggle in an option `set` refuses.
extension TunerOptions {
    /// Every option in table order, for snapshots.
    public func encode(into writer: inout SnapshotWriter) {
        for field in Self.fields {
            if field.spec.scope == .group {
                writer.write((0..<groupCount).map { field.read(self, $0) })
            } else {
                writer.write(field.read(self, 0))
            }
        }
    }

    /// Reads what `encode` wrote and validates every value and the cross-constraints as `set`
    /// would; any violation is `snapshotCorrupt` naming the option.
    public static func decode(from reader: inout SnapshotReader, groups: Int) throws(HLRError) -> Self {
        var options = Self(groups: groups)
        for field in fields {
            let spec = field.spec
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
                field.write(&options, value, spec.scope == .group ? index : nil)
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

/// The largest probe step s·lr a probing method (GeN, Hi-DLR) may take: 1e150, so that a step
/// and its square (the quadratic fit's design matrix holds ξ²) stay finite.
let maxProbeStep = 1e150

/// The ceiling a probing method's rates obey: min(lr_max, 1e150 / s). With lr_max = +∞ (no
/// ceiling, the GeN and Hi-DLR default) the probe bound is what keeps a probe step finite; it
/// applies like lr_max (flag `clampedMax`).
func probeRateCeiling(scale: Double, lrMax: Double) -> Double {
    Swift.min(lrMax, maxProbeStep / scale)
}

