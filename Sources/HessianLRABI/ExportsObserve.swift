import HessianLR

// Observation mode: the caller measures the scalars, the library decides.

@_cdecl("hlr_tuner_wants_curvature")
public func hlr_tuner_wants_curvature(
    _ handle: OpaquePointer?, _ step: UInt64, _ wants: UnsafeMutablePointer<Int32>?
) -> Int32 {
    exported("hlr_tuner_wants_curvature") {
        let box = try Registry.lookup(handle)
        let out = try Arguments.pointer(wants, "wants")
        out.pointee = box.tuner.withLock { $0.wantsCurvature(atStep: step) } ? 1 : 0
    }
}

@_cdecl("hlr_tuner_observe_curvature")
public func hlr_tuner_observe_curvature(
    _ handle: OpaquePointer?, _ step: UInt64, _ values: UnsafePointer<Double>?, _ n: UInt
) -> Int32 {
    exported("hlr_tuner_observe_curvature") {
        let box = try Registry.lookup(handle)
        try box.tuner.withLock { tuner in
            // Validate the step and the count before reading a single value: n is the caller's
            // claim about its buffer and must not drive a copy until it is known to be right.
            try tuner.requireCurvatureStep(step)
            let expected = tuner.curvatureValueCount
            guard n == UInt(expected) else {
                throw ABIError.invalid(
                    "n must be \(expected) (gᵀd, dᵀHd for each of \(tuner.groupCount) groups), got \(n)")
            }
            let values = Array(UnsafeBufferPointer(start: try Arguments.pointer(values, "values"), count: expected))
            try tuner.observeCurvature(step: step, values: values)
        }
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
        out.pointee = try box.tuner.withLock { (tuner) throws(HLRError) in
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
        let rates = try box.tuner.withLock { (tuner) throws(ABIError) -> [Double] in
            guard capacity == tuner.groupCount else {
                throw ABIError.invalid("n = \(capacity) must equal the group count \(tuner.groupCount)")
            }
            return tuner.learningRates(step: step)
        }
        for (index, rate) in rates.enumerated() { out[index] = rate }
    }
}
