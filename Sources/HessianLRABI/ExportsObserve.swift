import HessianLR

// Observation mode: the caller measures the scalars, the library decides.

@_cdecl("hlr_tuner_wants_curvature")
public func hlr_tuner_wants_curvature(
    _ handle: OpaquePointer?, _ step: UInt64, _ wants: UnsafeMutablePointer<Int32>?
) -> Int32 {
    exported("hlr_tuner_wants_curvature") {
        let box = try Registry.lookup(handle)
        let out = try Arguments.pointer(wants, "wants")
        out.pointee = box.read { $0.wantsCurvature(atStep: step) } ? 1 : 0
    }
}

@_cdecl("hlr_tuner_observe_curvature")
public func hlr_tuner_observe_curvature(
    _ handle: OpaquePointer?, _ step: UInt64, _ values: UnsafePointer<Double>?, _ n: UInt
) -> Int32 {
    exported("hlr_tuner_observe_curvature") {
        try observe(handle, step, .curvature, values, n)
    }
}

@_cdecl("hlr_tuner_need")
public func hlr_tuner_need(
    _ handle: OpaquePointer?, _ step: UInt64, _ need: UnsafeMutablePointer<Int32>?,
    _ count: UnsafeMutablePointer<UInt>?
) -> Int32 {
    exported("hlr_tuner_need") {
        let box = try Registry.lookup(handle)
        let needOut = try Arguments.pointer(need, "need")
        let (kind, values) = box.read { tuner in
            let need = tuner.need(atStep: step)
            return (need.kind?.rawValue ?? 0, need.valueCount(groups: tuner.groupCount))
        }
        needOut.pointee = Int32(kind)
        count?.pointee = UInt(values)
    }
}

@_cdecl("hlr_tuner_get_probes")
public func hlr_tuner_get_probes(
    _ handle: OpaquePointer?, _ step: UInt64, _ probes: UnsafeMutablePointer<Double>?, _ n: UInt
) -> Int32 {
    exported("hlr_tuner_get_probes") {
        let box = try Registry.lookup(handle)
        let matrix = try box.read { tuner throws(ABIError) -> [Double] in
            guard case .losses(let rows) = tuner.need(atStep: step) else {
                throw ABIError(Status.wrongState, "step \(step) needs no losses, so it has no probes")
            }
            return rows.flatMap { $0 }
        }
        guard n == UInt(matrix.count) else {
            throw ABIError.invalid("n must be \(matrix.count) (probes × groups, row-major), got \(n)")
        }
        let out = try Arguments.pointer(probes, "probes")
        for (index, value) in matrix.enumerated() { out[index] = value }
    }
}

@_cdecl("hlr_tuner_observe")
public func hlr_tuner_observe(
    _ handle: OpaquePointer?, _ step: UInt64, _ kind: Int32, _ values: UnsafePointer<Double>?,
    _ n: UInt
) -> Int32 {
    exported("hlr_tuner_observe") {
        guard let kind = ObservationKind(rawValue: Int(kind)) else {
            throw ABIError.invalid(
                "kind must be HLR_NEED_CURVATURE (1), HLR_NEED_LOSSES (2) or HLR_NEED_SLOPE (3), got \(kind)")
        }
        try observe(handle, step, kind, values, n)
    }
}

@_cdecl("hlr_tuner_observe_failure")
public func hlr_tuner_observe_failure(_ handle: OpaquePointer?, _ step: UInt64) -> Int32 {
    exported("hlr_tuner_observe_failure") {
        let box = try Registry.lookup(handle)
        try box.mutate { (tuner) throws(HLRError) in try tuner.observeFailure(step: step) }
    }
}

/// Shared body of the observe functions. The step, the kind and the count are validated before
/// a single value is read: n is the caller's claim about its buffer and must not drive a copy
/// until it is known to be right.
private func observe(
    _ handle: OpaquePointer?, _ step: UInt64, _ kind: ObservationKind,
    _ values: UnsafePointer<Double>?, _ n: UInt
) throws {
    let box = try Registry.lookup(handle)
    try box.mutate { tuner in
        try tuner.requireObservation(kind, atStep: step)
        let expected = tuner.need(atStep: step).valueCount(groups: tuner.groupCount)
        guard n == UInt(expected) else {
            throw ABIError.invalid(
                "n must be \(expected) (\(kind.name) values for \(tuner.groupCount) groups), got \(n)")
        }
        let values = Array(UnsafeBufferPointer(start: try Arguments.pointer(values, "values"), count: expected))
        try tuner.observe(step: step, kind: kind, values: values)
    }
}

@_cdecl("hlr_tuner_get_lr")
public func hlr_tuner_get_lr(
    _ handle: OpaquePointer?, _ step: UInt64, _ group: UInt, _ lr: UnsafeMutablePointer<Double>?
) -> Int32 {
    exported("hlr_tuner_get_lr") {
        let box = try Registry.lookup(handle)
        let group = try Arguments.count(group, "group")
        let out = try Arguments.pointer(lr, "lr")
        out.pointee = try box.read { (tuner) throws(HLRError) in
            try tuner.learningRate(group: group, step: step)
        }
    }
}

@_cdecl("hlr_tuner_get_lrs")
public func hlr_tuner_get_lrs(
    _ handle: OpaquePointer?, _ step: UInt64, _ lrs: UnsafeMutablePointer<Double>?, _ n: UInt
) -> Int32 {
    exported("hlr_tuner_get_lrs") {
        let box = try Registry.lookup(handle)
        let out = try Arguments.pointer(lrs, "lrs")
        let capacity = try Arguments.count(n, "n")
        let rates = try box.read { (tuner) throws(ABIError) -> [Double] in
            guard capacity == tuner.groupCount else {
                throw ABIError.invalid("n = \(capacity) must equal the group count \(tuner.groupCount)")
            }
            return tuner.learningRates(step: step)
        }
        for (index, rate) in rates.enumerated() { out[index] = rate }
    }
}

@_cdecl("hlr_tuner_plan")
public func hlr_tuner_plan(
    _ handle: OpaquePointer?, _ step: UInt64, _ need: UnsafeMutablePointer<Int32>?,
    _ count: UnsafeMutablePointer<UInt>?, _ lrs: UnsafeMutablePointer<Double>?, _ n: UInt,
    _ steadyUntil: UnsafeMutablePointer<UInt64>?
) -> Int32 {
    exported("hlr_tuner_plan") {
        let box = try Registry.lookup(handle)
        let needOut = try Arguments.pointer(need, "need")
        let out = try Arguments.pointer(lrs, "lrs")
        let untilOut = try Arguments.pointer(steadyUntil, "steady_until")
        let capacity = try Arguments.count(n, "n")
        let (kind, values, rates, until) = try box.read { (tuner) throws(ABIError) in
            guard capacity == tuner.groupCount else {
                throw ABIError.invalid("n = \(capacity) must equal the group count \(tuner.groupCount)")
            }
            let need = tuner.need(atStep: step)
            return (
                need.kind?.rawValue ?? 0, need.valueCount(groups: tuner.groupCount), tuner.learningRates(step: step),
                tuner.steadyUntil(step: step))
        }
        needOut.pointee = Int32(kind)
        count?.pointee = UInt(values)
        for (index, rate) in rates.enumerated() { out[index] = rate }
        untilOut.pointee = until
    }
}
