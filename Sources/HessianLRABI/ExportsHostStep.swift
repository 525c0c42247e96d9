import HessianLR

// Host mode for every method: one call runs a whole step (curvature, losses at probes, slope)
// through the caller's HVP and loss callbacks, then commits, or changes nothing.

public typealias LossF32 = @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<Float>?, UInt, UnsafeMutablePointer<Double>?
) -> Int32

public typealias LossF64 = @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<Double>?, UInt, UnsafeMutablePointer<Double>?
) -> Int32

@_cdecl("hlr_tuner_step_host_f32")
public func hlr_tuner_step_host_f32(
    _ handle: OpaquePointer?, _ step: UInt64, _ weights: UnsafePointer<Float>?,
    _ gradient: UnsafePointer<Float>?, _ update: UnsafePointer<Float>?, _ n: UInt,
    _ groupOffsets: UnsafePointer<UInt>?, _ nOffsets: UInt, _ currentLoss: Double,
    _ hvp: HVPF32?, _ loss: LossF32?, _ context: UnsafeMutableRawPointer?,
    _ rounds: UnsafeMutablePointer<UInt>?
) -> Int32 {
    exported("hlr_tuner_step_host_f32") {
        try stepHost(
            handle, step, weights, gradient, update, n, groupOffsets, nOffsets, currentLoss, rounds,
            hvp: hvp.map { f in { f(context, $0, $1, $2) } },
            loss: loss.map { f in { f(context, $0, $1, $2) } })
    }
}

@_cdecl("hlr_tuner_step_host_f64")
public func hlr_tuner_step_host_f64(
    _ handle: OpaquePointer?, _ step: UInt64, _ weights: UnsafePointer<Double>?,
    _ gradient: UnsafePointer<Double>?, _ update: UnsafePointer<Double>?, _ n: UInt,
    _ groupOffsets: UnsafePointer<UInt>?, _ nOffsets: UInt, _ currentLoss: Double,
    _ hvp: HVPF64?, _ loss: LossF64?, _ context: UnsafeMutableRawPointer?,
    _ rounds: UnsafeMutablePointer<UInt>?
) -> Int32 {
    exported("hlr_tuner_step_host_f64") {
        try stepHost(
            handle, step, weights, gradient, update, n, groupOffsets, nOffsets, currentLoss, rounds,
            hvp: hvp.map { f in { f(context, $0, $1, $2) } },
            loss: loss.map { f in { f(context, $0, $1, $2) } })
    }
}

/// Shared body of both precisions: checks the arguments, runs the step on a copy of the tuner
/// with the callbacks (outside the handle's lock, so callbacks may call the library), and
/// commits only if no other call changed the tuner meanwhile.
private func stepHost<T: HostScalar>(
    _ handle: OpaquePointer?, _ step: UInt64, _ weights: UnsafePointer<T>?,
    _ gradient: UnsafePointer<T>?, _ update: UnsafePointer<T>?, _ n: UInt,
    _ groupOffsets: UnsafePointer<UInt>?, _ nOffsets: UInt, _ currentLoss: Double,
    _ rounds: UnsafeMutablePointer<UInt>?,
    hvp: ((UnsafePointer<T>?, UnsafeMutablePointer<T>?, UInt) -> Int32)?,
    loss: ((UnsafePointer<T>?, UInt, UnsafeMutablePointer<Double>?) -> Int32)?
) throws {
    let box = try Registry.lookup(handle)
    let count = try Arguments.count(n, "n", limit: 1 << 48)
    guard count > 0 else { throw ABIError.invalid("n must be ≥ 1, got 0") }
    let weights = try Arguments.pointer(weights, "weights")
    let gradient = try Arguments.pointer(gradient, "gradient")
    guard currentLoss.isFinite || currentLoss.isNaN else {
        throw ABIError(Status.nonFinite, "current_loss must be finite (or NaN for none), got \(currentLoss)")
    }
    let checkout = try box.checkout()
    var tuner = checkout.tuner
    let layout = try hostLayout(groupOffsets, nOffsets, count: count, groups: tuner.groupCount)
    // NULL pointers the step needs are NULL_POINTER, as in hlr_tuner_observe_host_* (a later round
    // that needs a missing callback, e.g. a line search's trial losses, is caught the same way
    // since losses and slopes both need `loss`).
    if tuner.usesUpdateDirection && update == nil {
        throw ABIError.null("update (direction is 'update')")
    }
    switch tuner.need(atStep: step) {
    case .curvature where hvp == nil: throw ABIError.null("hvp (step \(step) needs curvature)")
    case .losses where loss == nil: throw ABIError.null("loss (step \(step) needs losses at probes)")
    case .slope where loss == nil: throw ABIError.null("loss (step \(step) needs the loss and trial losses)")
    default: break
    }
    var hvpOracle: QuadraticTerms.HVP<T>? = nil
    if let hvp {
        hvpOracle = { (v, out) throws(HLRError) in
            let status = hvp(v.baseAddress, out.baseAddress, UInt(v.count))
            guard status == 0 else { throw HLRError(.callbackFailed, "HVP callback returned \(status)") }
        }
    }
    var lossOracle: LossProbes.Oracle<T>? = nil
    if let loss {
        lossOracle = { (trial) throws(HLRError) -> Double in
            var value = Double.nan
            let status = loss(trial.baseAddress, UInt(trial.count), &value)
            guard status == 0 else { throw HLRError(.callbackFailed, "loss callback returned \(status)") }
            return value
        }
    }
    let observations = try tuner.runHostStep(
        step: step, weights: UnsafeBufferPointer(start: weights, count: count),
        gradient: UnsafeBufferPointer(start: gradient, count: count),
        update: update.map { UnsafeBufferPointer(start: $0, count: count) }, layout: layout,
        currentLoss: currentLoss.isNaN ? nil : currentLoss, loss: lossOracle, hvp: hvpOracle)
    if observations > 0 {
        try box.commit(tuner, ifGeneration: checkout.generation)
    }
    rounds?.pointee = UInt(observations)
}
