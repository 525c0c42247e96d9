extension UInt64 {
    /// self + 1, staying at UInt64.max: an update counter restored from a crafted snapshot
    /// can never trap on overflow.
    func incrementedSaturating() -> UInt64 { self == .max ? .max : self + 1 }
}
