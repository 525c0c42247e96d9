/// One parameter of an estimator kind bound to the field of that estimator's options struct that
/// it sets (the estimators' counterpart of the tuners' `OptionField`): the range and kind of the
/// value are written here, the default is read from the options struct's own initial value, so a
/// default is written once (`LanczosOptions().tolerance`, not a copy in a table).
///
/// Values cross as Double (the C ABI's `hlr_estimator_set_param`): counts, choices and flags are
/// integral and exact (checked by the spec before they are stored); optional fields map a
/// sentinel onto nil (sketch_size 0, sigma 0, grid_lower −∞, grid_upper +∞: automatic).
public struct EstimatorField<Options>: Sendable {
    public let parameter: EstimatorParameter
    /// The parameter's range and integrality with a given default (`read(Options())`).
    let spec: @Sendable (_ defaultValue: Double) -> EstimatorParameterSpec
    /// The field's value as the parameter's Double.
    let read: @Sendable (Options) -> Double
    /// Stores a validated value into the field.
    let write: @Sendable (inout Options, Double) -> Void

    typealias Spec = EstimatorParameterSpec

    /// A real-valued field.
    static func real(
        _ parameter: EstimatorParameter, _ path: WritableKeyPath<Options, Double> & Sendable,
        minimum: Double, maximum: Double
    ) -> Self {
        Self(
            parameter: parameter, spec: { Spec(parameter, minimum: minimum, maximum: maximum, default: $0) },
            read: { $0[keyPath: path] }, write: { $0[keyPath: path] = $1 })
    }

    /// An integral field (a count of vectors, products or samples).
    static func count(
        _ parameter: EstimatorParameter, _ path: WritableKeyPath<Options, Int> & Sendable, minimum: Int, maximum: Int
    ) -> Self {
        Self(
            parameter: parameter, spec: { Spec.count(parameter, minimum: minimum, maximum: maximum, default: Int($0)) },
            read: { Double($0[keyPath: path]) }, write: { $0[keyPath: path] = Int($1) })
    }

    /// A count where 0 means nil (automatic).
    static func optionalCount(
        _ parameter: EstimatorParameter, _ path: WritableKeyPath<Options, Int?> & Sendable, maximum: Int
    ) -> Self {
        Self(
            parameter: parameter, spec: { Spec.count(parameter, minimum: 0, maximum: maximum, default: Int($0)) },
            read: { Double($0[keyPath: path] ?? 0) }, write: { $0[keyPath: path] = $1 == 0 ? nil : Int($1) })
    }

    /// A real where `automatic` (0 or an infinite bound) means nil.
    static func optionalReal(
        _ parameter: EstimatorParameter, _ path: WritableKeyPath<Options, Double?> & Sendable,
        minimum: Double, maximum: Double, automatic: Double
    ) -> Self {
        Self(
            parameter: parameter, spec: { Spec(parameter, minimum: minimum, maximum: maximum, default: $0) },
            read: { $0[keyPath: path] ?? automatic }, write: { $0[keyPath: path] = $1 == automatic ? nil : $1 })
    }

    /// A choice among the raw values of `C` (its smallest to its largest).
    static func choice<C: RawRepresentable & CaseIterable & Sendable>(
        _ parameter: EstimatorParameter, _ path: WritableKeyPath<Options, C> & Sendable
    ) -> Self where C.RawValue == Int {
        Self(
            parameter: parameter, spec: { Spec.choice(parameter, C.self, default: Int($0)) },
            read: { Double($0[keyPath: path].rawValue) },
            write: { options, value in
                if let choice = C(rawValue: Int(value)) { options[keyPath: path] = choice }
            })
    }

    /// A flag (0 or 1).
    static func flag(_ parameter: EstimatorParameter, _ path: WritableKeyPath<Options, Bool> & Sendable) -> Self {
        Self(
            parameter: parameter, spec: { Spec.flag(parameter, default: $0 == 1) },
            read: { $0[keyPath: path] ? 1 : 0 }, write: { $0[keyPath: path] = $1 == 1 })
    }

    /// The product block size every blocked estimator has (`hvpBlock`, ≥ 1).
    static func hvpBlock(_ path: WritableKeyPath<Options, Int> & Sendable) -> Self {
        count(.hvpBlock, path, minimum: 1, maximum: Spec.maxVectors)
    }

    /// The probe distribution.
    static func distribution(_ path: WritableKeyPath<Options, ProbeDistribution> & Sendable) -> Self {
        choice(.distribution, path)
    }

    /// The symmetry check's tolerance (+∞: off).
    static func symmetryTolerance(_ path: WritableKeyPath<Options, Double> & Sendable) -> Self {
        real(.symmetryTolerance, path, minimum: .leastNormalMagnitude, maximum: .infinity)
    }

    /// Host runs' thread count: a parameter of every kind that no options struct holds (the
    /// host backend reads it from the configuration, `EstimatorConfig.threads`); default 1.
    static var threads: Self {
        Self(
            parameter: .threads, spec: { _ in Spec.count(.threads, minimum: 1, maximum: Spec.maxThreads, default: 1) },
            read: { _ in 1 }, write: { _, _ in })
    }
}

/// The options struct of one estimator kind, as its configuration fills it: a default value
/// (`init()`), the parameter table (`fields`, in the kind's parameter order) and the probe seed.
/// Kinds with per-block results also hold the block offsets.
public protocol EstimatorOptionsTable: Sendable {
    init()
    static var fields: [EstimatorField<Self>] { get }
    var seed: UInt64 { get set }
    /// Block offsets, for the kinds with per-block results (others ignore them).
    var blocks: GroupLayout? { get set }
}

extension EstimatorOptionsTable {
    public var blocks: GroupLayout? {
        get { nil }
        set {}
    }

    /// Ranges and defaults of the kind's parameters, in table order; defaults are `Self()`'s.
    public static var parameterSpecs: [EstimatorParameterSpec] {
        let defaults = Self()
        return fields.map { $0.spec($0.read(defaults)) }
    }
}

/// The options of the estimators that draw probes and make their products in blocks (Hutchinson,
/// Hutch++, XTrace, XDiag): their tables end with the same four parameters.
public protocol BlockedProbeOptions {
    var distribution: ProbeDistribution { get set }
    var symmetryTolerance: Double { get set }
    var hvpBlock: Int { get set }
}

extension EstimatorField where Options: BlockedProbeOptions {
    /// distribution, symmetry_tolerance, threads, hvp_block: the tail of a blocked estimator's table.
    static var probeTail: [Self] {
        [.distribution(\.distribution), .symmetryTolerance(\.symmetryTolerance), .threads, .hvpBlock(\.hvpBlock)]
    }
}
