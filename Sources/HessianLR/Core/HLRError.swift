/// The one error type of the core. Every failure carries a kind (mapped one-to-one onto a C
/// status code by the export layer) and a message that names the bad argument and its value.
///
/// A function that throws leaves the value it was called on exactly as it was: tuners compute a
/// complete new state first and commit it only when nothing failed.
public struct HLRError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Raw values are the stable `HLR_ERR_*` status codes of include/hessianlr.h (1 and 2,
    /// NULL pointer and invalid handle, exist only at the C boundary).
    public enum Kind: Int, Sendable, Equatable, CaseIterable {
        /// An argument is out of its documented range, not finite, or inconsistent with another.
        case invalidArgument = 3
        /// A method id the library does not implement.
        case unknownMethod = 4
        /// An option or info key this method does not have.
        case unknownKey = 5
        /// An observation (or a value computed from a callback's output) is NaN or infinite.
        case nonFinite = 6
        /// A caller-supplied callback reported failure.
        case callbackFailed = 7
        /// The call is valid in general but not now (e.g. observing a step that wants nothing).
        case wrongState = 8
        /// An output buffer is smaller than needed.
        case bufferTooSmall = 9
        /// A snapshot is truncated, bit-flipped or not a snapshot at all.
        case snapshotCorrupt = 10
        /// A snapshot written by a newer or a retired format version.
        case snapshotVersion = 11
        /// A snapshot of another method or another group count.
        case snapshotMismatch = 12
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    static func invalid(_ message: String) -> HLRError { HLRError(.invalidArgument, message) }
}
