import HessianLR

/// Conversions of C arguments, each naming the argument on failure.
enum Arguments {
    /// A size_t that must fit an Int and not exceed `limit`.
    static func count(_ value: UInt, _ name: String, limit: Int = Int.max) throws(ABIError) -> Int {
        guard let count = Int(exactly: value), count <= limit else {
            throw ABIError.invalid("\(name) = \(value) is too large (at most \(limit))")
        }
        return count
    }

    static func method(_ value: Int32) throws(ABIError) -> Method {
        guard let method = Method(rawValue: Int(value)) else {
            throw ABIError(Status.unknownMethod, "unknown method id \(value)")
        }
        return method
    }

    static func key(_ value: Int32) throws(ABIError) -> ParameterKey {
        guard let key = ParameterKey(rawValue: Int(value)) else {
            throw ABIError(Status.unknownKey, "unknown parameter key \(value)")
        }
        return key
    }

    static func infoKey(_ value: Int32) throws(ABIError) -> InfoKey {
        guard let key = InfoKey(rawValue: Int(value)) else {
            throw ABIError(Status.unknownKey, "unknown info key \(value)")
        }
        return key
    }

    static func pointer<T>(_ pointer: T?, _ name: String) throws(ABIError) -> T {
        guard let pointer else { throw ABIError.null(name) }
        return pointer
    }
}
