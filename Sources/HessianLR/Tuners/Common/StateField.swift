/// One field of a tuner state's snapshot payload, bound to the state's property by a key path: how
/// it is written and read back. A state that lists its fields (`TabledState.payload`) gets
/// `encode` and `decode` from the list, so a field is written once and the payload layout is the
/// list's order (a snapshot-format contract: reorder nothing).
public struct StateField<State>: Sendable {
    let write: @Sendable (State, inout SnapshotWriter) -> Void
    let read: @Sendable (inout State, inout SnapshotReader, _ groups: Int) throws(HLRError) -> Void

    /// K doubles (one per group), e.g. the current rates.
    static func perGroup(_ name: String, _ path: WritableKeyPath<State, [Double]> & Sendable) -> Self {
        Self(
            write: { state, writer in writer.write(state[keyPath: path]) },
            read: { state, reader, groups throws(HLRError) in
                state[keyPath: path] = try reader.readDoubles(name, count: groups)
            })
    }

    /// One double.
    static func double(_ name: String, _ path: WritableKeyPath<State, Double> & Sendable) -> Self {
        Self(
            write: { state, writer in writer.write(state[keyPath: path]) },
            read: { state, reader, _ throws(HLRError) in state[keyPath: path] = try reader.readDouble(name) })
    }

    /// One UInt64.
    static func count(_ name: String, _ path: WritableKeyPath<State, UInt64> & Sendable) -> Self {
        Self(
            write: { state, writer in writer.write(state[keyPath: path]) },
            read: { state, reader, _ throws(HLRError) in state[keyPath: path] = try reader.readUInt64(name) })
    }

    /// A one-byte code of `E`; a byte that is no member is `snapshotCorrupt` ("snapshot holds an
    /// unknown <noun> <byte>").
    static func code<E: RawRepresentable & Sendable>(
        _ name: String, noun: String, _ path: WritableKeyPath<State, E> & Sendable
    ) -> Self where E.RawValue == UInt8 {
        Self(
            write: { state, writer in writer.write(state[keyPath: path].rawValue) },
            read: { state, reader, _ throws(HLRError) in
                let raw = try reader.readUInt8(name)
                guard let value = E(rawValue: raw) else {
                    throw HLRError(.snapshotCorrupt, "snapshot holds an unknown \(noun) \(raw)")
                }
                state[keyPath: path] = value
            })
    }

    /// The decision log (`DecisionLog`'s fields).
    static func decisions(_ path: WritableKeyPath<State, DecisionLog> & Sendable) -> Self {
        Self(
            write: { state, writer in state[keyPath: path].encode(into: &writer) },
            read: { state, reader, groups throws(HLRError) in
                state[keyPath: path] = try DecisionLog.decode(from: &reader, groups: groups)
            })
    }

    /// The last curvature observation (`CurvatureLog`'s fields).
    static func observed(_ path: WritableKeyPath<State, CurvatureLog> & Sendable) -> Self {
        Self(
            write: { state, writer in state[keyPath: path].encode(into: &writer) },
            read: { state, reader, groups throws(HLRError) in
                state[keyPath: path] = try CurvatureLog.decode(from: &reader, groups: groups)
            })
    }

    /// The last quadratic fit (`FitLog`'s fields) in `shape`.
    static func fit(_ path: WritableKeyPath<State, FitLog> & Sendable, shape: FitLog.Shape) -> Self {
        Self(
            write: { state, writer in state[keyPath: path].encode(into: &writer) },
            read: { state, reader, groups throws(HLRError) in
                state[keyPath: path] = try FitLog.decode(from: &reader, groups: groups, shape: shape)
            })
    }
}

/// A tuner state whose payload is its list of fields (`StateField`): `encode` writes them in
/// order, `decode` reads them back into a fresh state of `groups` groups
/// (`TuningRule.checkRestored` validates the result).
public protocol TabledState: TunerState {
    static var payload: [StateField<Self>] { get }
}

extension TabledState {
    public func encode(into writer: inout SnapshotWriter) {
        for field in Self.payload { field.write(self, &writer) }
    }

    public static func decode(from reader: inout SnapshotReader, groups: Int) throws(HLRError) -> Self {
        var state = Self(groups: groups)
        for field in payload { try field.read(&state, &reader, groups) }
        return state
    }
}
