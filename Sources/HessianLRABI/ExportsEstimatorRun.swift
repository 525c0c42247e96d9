import HessianLR

// Estimator runs: on library-owned host vectors with the caller's HVP callback (f32/f64), or on
// the caller's own vectors through a table of vector operations (hlr_vector_ops).

/// Largest n of a host run: 2³¹ elements, so that no size computation can overflow and a vector
/// is at most 16 GiB.
private let maxHostDimension = 1 << 31

/// Largest number of Doubles the eigenvector copies of a host run may take (k · n ≤ 2³¹).
private let maxHostVectorElements = 1 << 31

@_cdecl("hlr_estimator_run_host_f32")
public func hlr_estimator_run_host_f32(
    _ handle: OpaquePointer?, _ n: UInt, _ hvp: HVPF32?, _ context: UnsafeMutableRawPointer?
) -> Int32 {
    exported("hlr_estimator_run_host_f32") {
        let hvp = try Arguments.pointer(hvp, "hvp")
        try runHost(handle, n, Float.self) { hvp(context, $0, $1, $2) }
    }
}

@_cdecl("hlr_estimator_run_host_f64")
public func hlr_estimator_run_host_f64(
    _ handle: OpaquePointer?, _ n: UInt, _ hvp: HVPF64?, _ context: UnsafeMutableRawPointer?
) -> Int32 {
    exported("hlr_estimator_run_host_f64") {
        let hvp = try Arguments.pointer(hvp, "hvp")
        try runHost(handle, n, Double.self) { hvp(context, $0, $1, $2) }
    }
}

/// Shared body of the host runs. Everything is validated before the first callback; the
/// handle's lock is not held while the callbacks run (they may call the library, also on this
/// handle), and the results are stored only when the run succeeded.
private func runHost<T: HostScalar>(
    _ handle: OpaquePointer?, _ n: UInt, _: T.Type,
    _ hvp: @escaping (UnsafePointer<T>?, UnsafeMutablePointer<T>?, UInt) -> Int32
) throws {
    let box = try Registry.lookupEstimator(handle)
    let count = try Arguments.count(n, "n", limit: maxHostDimension)
    let config = box.read { $0.config }
    try config.validate(dimension: count)
    if config.computesVectors {
        let k = try config.parameter(.count)
        guard k * Double(count) <= Double(maxHostVectorElements) else {
            throw ABIError.invalid(
                "\(config.kind.name): the eigenvector copies need count · n = \(Int(k)) · \(count) doubles, "
                    + "more than 2^31; use hlr_estimator_run_ops or a smaller count")
        }
    }
    let space = try HostVectorSpace<T>(dimension: count, threads: config.threads) { (v, out) throws(HLRError) in
        let status = hvp(v.baseAddress, out.baseAddress, UInt(v.count))
        guard status == 0 else { throw HLRError(.callbackFailed, "hvp callback returned \(status)") }
    }
    let run = try config.run(on: space)
    let copied = run.mapVectors { vector in vector.withUnsafeBufferPointer { $0.map { Double($0) } } }
    box.mutate { $0.results = EstimatorResults(host: copied) }
}

@_cdecl("hlr_estimator_run_ops")
public func hlr_estimator_run_ops(
    _ handle: OpaquePointer?, _ ops: UnsafeRawPointer?, _ context: UnsafeMutableRawPointer?
) -> Int32 {
    exported("hlr_estimator_run_ops") {
        let box = try Registry.lookupEstimator(handle)
        let table = try VectorOpsTable(try Arguments.pointer(ops, "ops"))
        let local = try Arguments.count(table.n, "ops->n", limit: 1 << 48)
        let config = box.read { $0.config }
        // Sharded vectors (all_reduce given): n is this process's shard; the dimension is the sum
        // over the processes, every dot product the sum of the shards'.
        var count = local
        if table.allReduce != nil {
            if config.blocks != nil {
                throw ABIError.invalid(
                    "block offsets with ops->all_reduce (sharded vectors) are not supported: clear the blocks")
            }
            var total = [Double(local)]
            try CallbackVectorSpace(dimension: local, table: table, context: context).allReduce(&total)
            guard total[0] >= Double(local), total[0] <= Double(1 << 48), total[0].rounded() == total[0] else {
                throw ABIError(
                    Status.callbackFailed,
                    "ops->all_reduce summed the shard lengths to \(total[0]) (this shard has \(local)): it must add "
                        + "the arrays of all processes")
            }
            count = Int(total[0])
        }
        try config.validate(dimension: count)
        if (config.kind == .diagonal || config.kind == .xdiag) && table.mulAcc == nil {
            throw ABIError.null("ops->mul_acc (the \(config.kind.name) estimator needs it)")
        }
        if config.blocks != nil && table.blockDots == nil {
            throw ABIError.null("ops->block_dots (block offsets are set)")
        }
        let space = CallbackVectorSpace(dimension: count, table: table, context: context)
        let run = try config.run(on: space)
        box.mutate { $0.results = EstimatorResults(ops: run) }
    }
}
