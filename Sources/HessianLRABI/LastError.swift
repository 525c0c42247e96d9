import HessianLR

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The thread-local message of the last failed call (`hlr_last_error`). Each thread owns one
/// malloc'd, NUL-terminated buffer, replaced on every failure and freed when the thread exits.
enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in free(pointer) }
        return key
    }()

    static func set(_ message: String) {
        let old = pthread_getspecific(key)
        let copy = strdup(message)  // NULL only when out of memory: then no message
        pthread_setspecific(key, copy.map { UnsafeMutableRawPointer($0) })
        free(old)
    }

    /// The current thread's message, or "" when no call on this thread has failed.
    static func current() -> UnsafePointer<CChar> {
        if let pointer = pthread_getspecific(key) {
            return UnsafePointer(pointer.assumingMemoryBound(to: CChar.self))
        }
        let empty: StaticString = "\0"
        return UnsafeRawPointer(empty.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}

/// Runs one exported call: returns `HLR_OK`, or the error's code after recording
/// "function: message" as this thread's last error. Core errors (`HLRError`) map onto their
/// status codes; nothing else can be thrown by the bodies.
@inline(__always)
func exported(_ function: StaticString, _ body: () throws -> Void) -> Int32 {
    let failure: ABIError
    do {
        try body()
        return Status.ok
    } catch let error as ABIError {
        failure = error
    } catch let error as HLRError {
        failure = ABIError(error)
    } catch {
        failure = ABIError(Status.invalidArgument, "unexpected error \(error)")
    }
    LastError.set("\(function): \(failure.message)")
    return failure.code
}
