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

    /// Indices first … first + count − 1 must all exist (≤ 2⁶⁴ − 1): first + count ≤ 2⁶⁴
    /// (`firstName` and `countName` are the C arguments).
    static func indexRange(_ first: UInt64, _ count: Int, _ firstName: String, _ countName: String) throws(ABIError) {
        guard count == 0 || UInt64(count) - 1 <= UInt64.max - first else {
            throw ABIError.invalid(
                "\(firstName) + \(countName) = \(first) + \(count) exceeds 2^64 (indices past 2^64 - 1 do not exist)")
        }
    }

    static func method(_ value: Int32) throws(ABIError) -> Method {
        try id(value)
    }

    static func key(_ value: Int32) throws(ABIError) -> ParameterKey {
        try id(value)
    }

    static func infoKey(_ value: Int32) throws(ABIError) -> InfoKey {
        try id(value)
    }

    /// The member of an id family with C value `value`, parsed by the core
    /// (`ParsedCatalogEnum.from(rawValue:)`: the family's status and "unknown <noun> <value>").
    static func id<E: ParsedCatalogEnum>(_ value: Int32) throws(ABIError) -> E {
        do {
            return try E.from(rawValue: Int(value))
        } catch {
            throw ABIError(error)
        }
    }

    /// Writes a spec's range and default to the caller's optional out-pointers (a NULL one is
    /// skipped): the `*_param_bounds` functions.
    static func writeBounds<Key>(
        _ spec: OptionSpec<Key>, _ minimum: UnsafeMutablePointer<Double>?, _ maximum: UnsafeMutablePointer<Double>?,
        _ defaultValue: UnsafeMutablePointer<Double>?
    ) {
        minimum?.pointee = spec.minimum
        maximum?.pointee = spec.maximum
        defaultValue?.pointee = spec.defaultValue
    }

    static func pointer<T>(_ pointer: T?, _ name: String) throws(ABIError) -> T {
        guard let pointer else { throw ABIError.null(name) }
        return pointer
    }
}
