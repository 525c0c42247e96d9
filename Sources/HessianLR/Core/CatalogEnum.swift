/// A family of stable ids of the C API: one typed enum of include/hessianlr.h (methods, option
/// and info keys, schedule and estimator kinds and parameters, result keys, observation kinds)
/// or one of the small choice sets whose names the bindings pass as strings.
///
/// The raw value is the member's id in the header. `name`, the spelling in messages and in the
/// bindings, is the header member's suffix in lower case (`HLR_PARAM_INITIAL_LR` → "initial_lr"):
/// it is derived from the Swift case identifier (lowerCamelCase → snake_case: an underscore
/// before each capital that follows a lower-case letter or digit, then lower case;
/// `initialLR` → "initial_lr", `r2Threshold` → "r2_threshold"), so each name is written once, as
/// the case. A type overrides `name` only for a case the rule does not spell as the header does
/// (`Method.hessianLR` → "hessianlr", `ScheduleParameter.t0` → "t_0"). `CatalogEnumTests` checks
/// every family against the header.
public protocol CatalogEnum: CaseIterable, Hashable, Sendable, RawRepresentable where RawValue == Int {
    /// The member's name in messages and in the bindings.
    var name: String { get }
}

extension CatalogEnum {
    public var name: String { snakeCaseName }

    /// The case identifier in snake_case (see the type's documentation).
    public var snakeCaseName: String { Self.snakeCase(String(describing: self)) }

    /// lowerCamelCase → snake_case: an underscore before each capital that follows a lower-case
    /// letter or a digit, then everything in lower case.
    static func snakeCase(_ identifier: String) -> String {
        var out = ""
        var previous: Character?
        for c in identifier {
            if c.isUppercase, let p = previous, p.isLowercase || p.isNumber { out.append("_") }
            out.append(c)
            previous = c
        }
        return out.lowercased()
    }

}

/// A family whose ids callers pass in (methods, option and info keys, schedule and estimator kinds
/// and parameters, result keys): `from(rawValue:)` parses one, and an unknown id is refused with
/// the family's status and noun ("unknown estimator kind 9"). The generated catalog
/// (`Catalog.swift`, from `tools/gen_constants.py`'s table) gives each family its `unknownID`.
public protocol ParsedCatalogEnum: CatalogEnum {
    /// The status and the noun of the message for an id that is not a member.
    static var unknownID: (kind: HLRError.Kind, noun: String) { get }
}

extension ParsedCatalogEnum {
    /// Parses an id, naming the bad value on failure (`unknownID`).
    public static func from(rawValue: Int) throws(HLRError) -> Self {
        guard let member = Self(rawValue: rawValue) else {
            throw HLRError(unknownID.kind, "unknown \(unknownID.noun) \(rawValue)")
        }
        return member
    }
}
