import HessianLR

// Host mode: the library gets flat buffers and an HVP callback and computes the observation
// itself, then goes through the same observation path as `hlr_tuner_observe_curvature`.

public typealias HVPF32 = @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UInt
) -> Int32

public typealias HVPF64 = @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, UInt
) -> Int32

@_cdecl("hlr_tuner_observe_host_f32")
public func hlr_tuner_observe_host_f32(
    _ handle: OpaquePointer?, _ step: UInt64, _ gradient: UnsafePointer<Float>?,
    _ update: UnsafePointer<Float>?, _ n: UInt, _ groupOffsets: UnsafePointer<UInt>?,
    _ nOffsets: UInt, _ hvp: HVPF32?, _ context: UnsafeMutableRawPointer?
) -> Int32 {
    exported("hlr_tuner_observe_host_f32") {
        let hvp = try Arguments.pointer(hvp, "hvp")
        try observeHost(handle, step, gradient, update, n, groupOffsets, nOffsets) {
            hvp(context, $0, $1, $2)
        }
    }
}

@_cdecl("hlr_tuner_observe_host_f64")
public func hlr_tuner_observe_host_f64(
    _ handle: OpaquePointer?, _ step: UInt64, _ gradient: UnsafePointer<Double>?,
    _ update: UnsafePointer<Double>?, _ n: UInt, _ groupOffsets: UnsafePointer<UInt>?,
    _ nOffsets: UInt, _ hvp: HVPF64?, _ context: UnsafeMutableRawPointer?
) -> Int32 {
    exported("hlr_tuner_observe_host_f64") {
        let hvp = try Arguments.pointer(hvp, "hvp")
        try observeHost(handle, step, gradient, update, n, groupOffsets, nOffsets) {
            hvp(context, $0, $1, $2)
        }
    }
}

/// Shared body of both precisions. The handle's lock is not held while the callback runs, so a
/// callback that calls into the library cannot deadlock; the observation commits only if the
/// tuner is unchanged since the checkout (`TunerBox.commit`).
private func observeHost<T: HostScalar>(
    _ handle: OpaquePointer?, _ step: UInt64, _ gradient: UnsafePointer<T>?,
    _ update: UnsafePointer<T>?, _ n: UInt, _ groupOffsets: UnsafePointer<UInt>?,
    _ nOffsets: UInt, _ hvp: (UnsafePointer<T>?, UnsafeMutablePointer<T>?, UInt) -> Int32
) throws {
    let box = try Registry.lookup(handle)
    let count = try Arguments.count(n, "n", limit: 1 << 48)
    guard count > 0 else { throw ABIError.invalid("n must be ≥ 1, got 0") }
    let gradient = try Arguments.pointer(gradient, "gradient")
    // A copy of the tuner does the validation and calls the oracle outside the lock (sharing no
    // storage with the stored tuner, see `TunerBox.checkout`); the observation itself is applied
    // under the lock and re-checks the step.
    let checkout = try box.checkout()
    var copy = checkout.tuner
    let layout = try hostLayout(groupOffsets, nOffsets, count: count, groups: copy.groupCount)
    if copy.usesUpdateDirection && update == nil {
        throw ABIError.null("update (direction is 'update')")
    }
    let values = try copy.hostObservation(
        step: step,
        gradient: UnsafeBufferPointer(start: gradient, count: count),
        update: update.map { UnsafeBufferPointer(start: $0, count: count) },
        layout: layout
    ) { (v, out) throws(HLRError) in
        let status = hvp(v.baseAddress, out.baseAddress, UInt(v.count))
        guard status == 0 else {
            throw HLRError(.callbackFailed, "HVP callback returned \(status)")
        }
    }
    // Applied to the checked-out copy and committed only if no call changed the tuner while the
    // callback ran (e.g. the callback set another direction): the scalars were computed for the
    // settings of the checkout, so otherwise HLR_ERR_WRONG_STATE and nothing is applied, exactly
    // as in hlr_tuner_step_host_*.
    try copy.observeCurvature(step: step, values: values)
    try box.commit(copy, ifGeneration: checkout.generation)
}

/// Group layout from C offsets: NULL with n_offsets = 0 means one group over all n elements.
func hostLayout(
    _ offsets: UnsafePointer<UInt>?, _ nOffsets: UInt, count: Int, groups: Int
) throws -> GroupLayout {
    if offsets == nil && nOffsets == 0 {
        guard groups == 1 else {
            throw ABIError.null("group_offsets (the tuner has \(groups) groups)")
        }
        return try GroupLayout(single: count)
    }
    let offsets = try Arguments.pointer(offsets, "group_offsets")
    let entries = try Arguments.count(nOffsets, "n_offsets", limit: groups + 1)
    guard entries == groups + 1 else {
        throw ABIError.invalid(
            "n_offsets must be groups + 1 = \(groups + 1), got \(entries)")
    }
    var values: [Int] = []
    values.reserveCapacity(entries)
    for index in 0..<entries {
        guard let value = Int(exactly: offsets[index]) else {
            throw ABIError.invalid("group_offsets[\(index)] = \(offsets[index]) is too large")
        }
        values.append(value)
    }
    return try GroupLayout(offsets: values, elementCount: count)
}
