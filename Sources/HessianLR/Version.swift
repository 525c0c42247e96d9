/// Library version (semantic versioning). The C header's HLR_VERSION_* macros carry the same
/// numbers; the C surface test checks that they agree.
public enum LibraryVersion {
    public static let major = 0
    public static let minor = 4
    public static let patch = 0
    /// major·10000 + minor·100 + patch, as `HLR_VERSION_NUMBER`.
    public static var number: Int { major * 10_000 + minor * 100 + patch }
    public static var string: String { "\(major).\(minor).\(patch)" }
}
