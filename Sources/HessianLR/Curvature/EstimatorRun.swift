/// The outcome of `EstimatorConfig.run(on:)`, the same shape for every kind: named arrays of
/// Doubles (`values`) and named arrays of backend vectors (`vectors`, the eigenvectors or the
/// diagonal), keyed by `EstimatorResultKey`. Only the keys the run produced are present.
///
/// The vectors belong to the caller, who releases them through the backend (a host backend's
/// vectors free themselves).
public struct EstimatorRun<Vector> {
    public let kind: EstimatorKind
    /// The Double results (`EstimatorResultKey.isVector` false).
    public var values: [EstimatorResultKey: [Double]]
    /// The vector results (`EstimatorResultKey.isVector` true).
    public var vectors: [EstimatorResultKey: [Vector]]

    public init(
        kind: EstimatorKind, values: [EstimatorResultKey: [Double]] = [:],
        vectors: [EstimatorResultKey: [Vector]] = [:]
    ) {
        self.kind = kind
        self.values = values
        self.vectors = vectors
    }

    /// HVPs spent.
    public var hvpCount: Int { Int(values[.hvps]?.first ?? 0) }

    /// The keys present, in `EstimatorKind.resultKeys` order.
    public var producedKeys: [EstimatorResultKey] {
        kind.resultKeys.filter { values[$0] != nil || vectors[$0] != nil }
    }

    /// The Double result `key`: `unknownKey` never (every key is known), `wrongState` when this
    /// run did not produce it (another kind's result, blocks without block offsets, eigenvectors
    /// without compute_vectors) or when it is a vector result.
    public func value(_ key: EstimatorResultKey) throws(HLRError) -> [Double] {
        if let values = values[key] { return values }
        throw HLRError(.wrongState, missingMessage(key))
    }

    /// The vector result `key` (`wrongState` as `value(_:)`).
    public func vectors(_ key: EstimatorResultKey) throws(HLRError) -> [Vector] {
        if let vectors = vectors[key] { return vectors }
        throw HLRError(.wrongState, missingMessage(key))
    }

    /// The same run with every vector transformed (e.g. copied to host arrays).
    public func mapVectors<W, E: Error>(_ transform: (Vector) throws(E) -> W) throws(E) -> EstimatorRun<W> {
        var mapped: [EstimatorResultKey: [W]] = [:]
        for (key, list) in vectors {
            var out: [W] = []
            out.reserveCapacity(list.count)
            for vector in list { out.append(try transform(vector)) }
            mapped[key] = out
        }
        return EstimatorRun<W>(kind: kind, values: values, vectors: mapped)
    }

    /// "the last lanczos run produced no block_traces (it produced: …)", with a hint where one helps.
    public func missingMessage(_ key: EstimatorResultKey) -> String {
        var hint = ""
        if !kind.resultKeys.contains(key) {
            hint = " (\(kind.name) never produces it)"
        } else if key == .eigenvectors {
            hint = " (set compute_vectors = 1)"
        } else if [.blockTraces, .blockTraceErrors, .blockMeans, .blockMeanErrors].contains(key) {
            hint = " (set block offsets)"
        }
        let produced = producedKeys.map(\.name).joined(separator: ", ")
        return "the last \(kind.name) run produced no \(key.name)\(hint); it produced: \(produced)"
    }
}

extension EstimatorRun: Sendable where Vector: Sendable {}
