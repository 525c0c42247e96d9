import HessianLR

/// Status codes of include/hessianlr.h (`HLR_OK`, `HLR_ERR_*`). Stable numbers; never reused.
enum Status {
    static let ok: Int32 = 0
    static let nullPointer: Int32 = 1
    static let invalidHandle: Int32 = 2
    static let invalidArgument = code(of: .invalidArgument)
    static let unknownMethod = code(of: .unknownMethod)
    static let unknownKey = code(of: .unknownKey)
    static let nonFinite = code(of: .nonFinite)
    static let callbackFailed = code(of: .callbackFailed)
    static let wrongState = code(of: .wrongState)
    static let bufferTooSmall = code(of: .bufferTooSmall)
    static let snapshotCorrupt = code(of: .snapshotCorrupt)
    static let snapshotVersion = code(of: .snapshotVersion)
    static let snapshotMismatch = code(of: .snapshotMismatch)

    /// Core error kinds carry their C status code as raw value.
    static func code(of kind: HLRError.Kind) -> Int32 { Int32(kind.rawValue) }

    /// Static, NUL-terminated descriptions for `hlr_strerror`.
    static func description(of code: Int32) -> StaticString {
        switch code {
        case ok: return "success\0"
        case nullPointer: return "a required pointer argument is NULL\0"
        case invalidHandle: return "the handle is not a live handle of the expected kind (NULL, freed, foreign or another kind)\0"
        case invalidArgument: return "an argument is out of range or inconsistent\0"
        case unknownMethod: return "unknown method id\0"
        case unknownKey: return "unknown parameter or info key for this method\0"
        case nonFinite: return "an observation is NaN or infinite; state unchanged\0"
        case callbackFailed: return "a callback returned non-zero; state unchanged\0"
        case wrongState: return "the call is not valid at this point (e.g. the step wants no curvature)\0"
        case bufferTooSmall: return "the output buffer is too small\0"
        case snapshotCorrupt: return "the snapshot is truncated, corrupt or not a snapshot\0"
        case snapshotVersion: return "the snapshot comes from a newer or a retired format version\0"
        case snapshotMismatch: return "the snapshot is of another method or group count\0"
        default: return "unknown status code\0"
        }
    }
}

/// A failure at the C boundary: a status code and the message for `hlr_last_error`.
struct ABIError: Error {
    let code: Int32
    let message: String

    init(_ code: Int32, _ message: String) {
        self.code = code
        self.message = message
    }

    init(_ error: HLRError) {
        self.init(Status.code(of: error.kind), error.message)
    }

    static func null(_ name: String) -> ABIError {
        ABIError(Status.nullPointer, "\(name) is NULL")
    }

    static func invalid(_ message: String) -> ABIError {
        ABIError(Status.invalidArgument, message)
    }
}
