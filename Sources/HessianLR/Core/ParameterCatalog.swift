/// The three families of tunable values (`HLR_FAMILY_*` of include/hessianlr.h): tuner options
/// of a method, parameters of a schedule kind, parameters of an estimator kind.
public enum ParameterFamily: Int, CatalogEnum {
    case tuner = 1
    case schedule = 2
    case estimator = 3

    /// Parses a family id; an unknown one is `invalidArgument` naming the value and the valid ids.
    public static func from(rawValue: Int) throws(HLRError) -> ParameterFamily {
        guard let family = ParameterFamily(rawValue: rawValue) else {
            throw .invalid(
                "unknown parameter family \(rawValue) (1 tuner, 2 schedule, 3 estimator)")
        }
        return family
    }
}

/// One parameter of one method, schedule kind or estimator kind, in the same terms for all three
/// families (`hlr_param_info`): its key, snake_case name, inclusive range, default, whether only
/// integers are accepted and whether it may differ per parameter group.
public struct ParameterDescription: Sendable, Equatable {
    /// The key's raw value (`HLR_PARAM_*`, `HLR_SCHED_PARAM_*` or `HLR_EST_PARAM_*`).
    public let key: Int
    /// The snake_case name the bindings and messages use.
    public let name: String
    public let minimum: Double
    public let maximum: Double
    public let defaultValue: Double
    public let integral: Bool
    /// Whether a tuner may hold a different value per group (`hlr_tuner_set_group_param`).
    public let perGroup: Bool

    /// The description of one spec, field for field.
    public init<Key: OptionKey & RawRepresentable>(_ spec: OptionSpec<Key>) where Key.RawValue == Int {
        key = spec.key.rawValue
        name = spec.key.name
        minimum = spec.minimum
        maximum = spec.maximum
        defaultValue = spec.defaultValue
        integral = spec.integral
        perGroup = spec.scope == .group
    }
}

/// Every parameter of every method, schedule kind and estimator kind, derived from their spec
/// tables (`Method.parameterSpecs`, `ScheduleKind.parameterSpecs`,
/// `EstimatorKind.parameterSpecs`) in the tables' order, so nothing is written twice.
public enum ParameterCatalog {
    /// Every parameter of `kind` of `family`, in spec order. An unknown kind is `unknownMethod`
    /// naming it, as `hlr_*_param_bounds` report it.
    public static func descriptions(
        family: ParameterFamily, kind: Int
    ) throws(HLRError) -> [ParameterDescription] {
        switch family {
        case .tuner: return try Method.from(rawValue: kind).parameterSpecs.map(ParameterDescription.init)
        case .schedule:
            return try ScheduleKind.from(rawValue: kind).parameterSpecs.map(ParameterDescription.init)
        case .estimator:
            return try EstimatorKind.from(rawValue: kind).parameterSpecs.map(ParameterDescription.init)
        }
    }

    /// How many parameters `kind` of `family` has.
    public static func count(family: ParameterFamily, kind: Int) throws(HLRError) -> Int {
        try descriptions(family: family, kind: kind).count
    }

    /// Parameter `index` (0-based, spec order) of `kind` of `family`. An index past the last is
    /// `invalidArgument` naming the index and the count, so a caller can loop until it.
    public static func describe(
        family: ParameterFamily, kind: Int, index: Int
    ) throws(HLRError) -> ParameterDescription {
        let all = try descriptions(family: family, kind: kind)
        guard index >= 0 && index < all.count else {
            throw indexError(family, kind, index: String(index), count: all.count)
        }
        return all[index]
    }

    /// The refusal of an index outside 0..<count (`index` spelled as the caller gave it, which
    /// may exceed Int).
    public static func indexError(
        _ family: ParameterFamily, _ kind: Int, index: String, count: Int
    ) -> HLRError {
        .invalid(
            "index \(index) is past the last parameter: \(label(family, kind)) has \(count) "
                + "parameter\(count == 1 ? "" : "s")")
    }

    /// "method gen", "schedule kind step", "estimator kind lanczos" (the kind must exist).
    public static func label(_ family: ParameterFamily, _ kind: Int) -> String {
        switch family {
        case .tuner: return "method \(Method(rawValue: kind)?.name ?? String(kind))"
        case .schedule: return "schedule kind \(ScheduleKind(rawValue: kind)?.name ?? String(kind))"
        case .estimator: return "estimator kind \(EstimatorKind(rawValue: kind)?.name ?? String(kind))"
        }
    }
}
