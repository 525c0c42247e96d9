/// Throws `invalidArgument` unless 1 ≤ groups ≤ maximum, the check of every tuner's `init`;
/// `method` is named when the limit is the method's own (Hi-DLR).
func checkGroupCount(_ groups: Int, maximum: Int, method: Method? = nil) throws(HLRError) {
    guard groups >= 1 && groups <= maximum else {
        let scope = method.map { " for \($0.name)" } ?? ""
        throw .invalid("groups must be in [1, \(maximum)]\(scope), got \(groups)")
    }
}
