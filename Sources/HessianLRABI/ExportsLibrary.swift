import HessianLR

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Library-wide functions: version, status descriptions, last error, option ranges.

/// Immutable after its one-time initialisation; never freed (static lifetime).
nonisolated(unsafe) private let versionString: UnsafePointer<CChar> = UnsafePointer(strdup(LibraryVersion.string)!)

@_cdecl("hlr_version_number")
public func hlr_version_number() -> UInt32 {
    UInt32(LibraryVersion.number)
}

@_cdecl("hlr_version_string")
public func hlr_version_string() -> UnsafePointer<CChar> {
    versionString
}

@_cdecl("hlr_strerror")
public func hlr_strerror(_ code: Int32) -> UnsafePointer<CChar> {
    let text = Status.description(of: code)
    return UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("hlr_last_error")
public func hlr_last_error() -> UnsafePointer<CChar> {
    LastError.current()
}

@_cdecl("hlr_param_bounds")
public func hlr_param_bounds(
    _ method: Int32, _ key: Int32, _ minimum: UnsafeMutablePointer<Double>?,
    _ maximum: UnsafeMutablePointer<Double>?, _ defaultValue: UnsafeMutablePointer<Double>?
) -> Int32 {
    exported("hlr_param_bounds") {
        try Arguments.writeBounds(
            Arguments.method(method).spec(for: Arguments.key(key)), minimum, maximum, defaultValue)
    }
}
