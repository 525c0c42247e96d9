/// How a flat parameter buffer of n elements splits into parameter groups: group k holds the
/// indices [offsets[k], offsets[k+1]). Offsets start at 0, end at n and never decrease (a group
/// may be empty).
public struct GroupLayout: Sendable, Equatable {
    public let offsets: [Int]

    public var groupCount: Int { offsets.count - 1 }
    public var elementCount: Int { offsets[offsets.count - 1] }

    /// One group covering all n elements.
    public init(single n: Int) throws(HLRError) {
        try self.init(offsets: [0, n], elementCount: n)
    }

    /// Validates `offsets` against the buffer length, naming the first bad entry as `name[i]`
    /// (the caller's argument: `group_offsets` for tuners, `offsets` for estimator blocks).
    public init(offsets: [Int], elementCount n: Int, name: String = "group_offsets") throws(HLRError) {
        guard n >= 0 else { throw .invalid("buffer length must be ≥ 0, got \(n)") }
        guard offsets.count >= 2 else {
            throw .invalid("group offsets need at least 2 entries (0 and n), got \(offsets.count)")
        }
        guard offsets[0] == 0 else {
            throw .invalid("\(name)[0] must be 0, got \(offsets[0])")
        }
        for index in 1..<offsets.count where offsets[index] < offsets[index - 1] {
            throw .invalid(
                "\(name) must not decrease: \(name)[\(index)] = \(offsets[index]) < "
                    + "\(name)[\(index - 1)] = \(offsets[index - 1])")
        }
        guard offsets[offsets.count - 1] == n else {
            throw .invalid(
                "\(name)[\(offsets.count - 1)] must equal the buffer length \(n), got "
                    + "\(offsets[offsets.count - 1])")
        }
        self.offsets = offsets
    }

    public func range(of group: Int) -> Range<Int> { offsets[group]..<offsets[group + 1] }
}
