import HessianLR

// Curvature estimators: handle lifetime, parameters, seed, blocks and the results of the last
// run. The runs themselves are in ExportsEstimatorRun.swift.

/// What an estimator handle holds: the configuration (set by the calls below) and the results of
/// its last successful run (nil before the first).
struct EstimatorState: Sendable {
    var config: EstimatorConfig
    var results: EstimatorResults?
}

/// The results of one run as the C surface hands them out: Doubles for every key, except the
/// vector results of an ops run, which are the caller's vector handles (the caller owns them from
/// the moment the run returns).
struct EstimatorResults: Sendable {
    enum Mode: Sendable { case host, ops }
    let mode: Mode
    let run: EstimatorRun<[Double]>?
    let opsRun: EstimatorRun<UInt64>?

    init(host run: EstimatorRun<[Double]>) {
        mode = .host
        self.run = run
        opsRun = nil
    }

    init(ops run: EstimatorRun<UInt64>) {
        mode = .ops
        self.run = nil
        opsRun = run
    }

    /// Values of a key as C reads them: the Doubles, or for host vector results the vectors
    /// concatenated (eigenvectors row-major k × n).
    func doubles(_ key: EstimatorResultKey) throws(ABIError) -> [Double] {
        if let run {
            if key.isVector { return try Self.core { () throws(HLRError) in try run.vectors(key).flatMap { $0 } } }
            return try Self.core { () throws(HLRError) in try run.value(key) }
        }
        guard let opsRun else { throw ABIError(Status.wrongState, "no run has completed yet") }
        if key.isVector && opsRun.vectors[key] != nil {
            throw ABIError(
                Status.wrongState,
                "\(key.name) of an ops run are vector handles owned by the caller: read them with hlr_estimator_get_vectors")
        }
        return try Self.core { () throws(HLRError) in try opsRun.value(key) }
    }

    /// The caller's vector handles of a vector result of an ops run.
    func handles(_ key: EstimatorResultKey) throws(ABIError) -> [UInt64] {
        guard key.isVector else {
            throw ABIError.invalid(
                "\(key.name) is not a vector result (only eigenvectors and diagonal are)")
        }
        if let run {
            if run.vectors[key] != nil {
                throw ABIError(
                    Status.wrongState,
                    "\(key.name) of a host run are copied into library-owned doubles: read them with hlr_estimator_get_result")
            }
            return try Self.core { () throws(HLRError) in _ = try run.vectors(key); return [] }
        }
        guard let opsRun else { throw ABIError(Status.wrongState, "no run has completed yet") }
        return try Self.core { () throws(HLRError) in try opsRun.vectors(key) }
    }

    /// The element count `hlr_estimator_result_size` reports: Doubles, or handles for the vector
    /// results of an ops run.
    func size(_ key: EstimatorResultKey) throws(ABIError) -> Int {
        if mode == .ops, key.isVector, let handles = opsRun?.vectors[key] { return handles.count }
        if mode == .host, key.isVector, let vectors = run?.vectors[key] {
            return vectors.reduce(0) { $0 + $1.count }
        }
        return try doubles(key).count
    }

    private static func core<R>(_ body: () throws(HLRError) -> R) throws(ABIError) -> R {
        do { return try body() } catch { throw ABIError(error) }
    }
}

func estimatorKind(_ value: Int32) throws(ABIError) -> EstimatorKind {
    try Arguments.id(value)
}

private func estimatorParameter(_ value: Int32) throws(ABIError) -> EstimatorParameter {
    try Arguments.id(value)
}

private func resultKey(_ value: Int32) throws(ABIError) -> EstimatorResultKey {
    try Arguments.id(value)
}

/// Copies a result's `items` to the caller's `n`-element buffer `out` (named `name`; NULL allowed
/// when there is nothing to copy); `bufferTooSmall` naming both sizes when n is too small.
private func copyResult<T>(
    _ items: [T], _ what: String, of key: EstimatorResultKey, to out: UnsafeMutablePointer<T>?, _ name: String,
    capacity n: UInt
) throws(ABIError) {
    guard n >= UInt(items.count) else {
        throw ABIError(
            Status.bufferTooSmall,
            "n = \(n) is smaller than the \(items.count) \(what) of \(key.name) (hlr_estimator_result_size)")
    }
    guard !items.isEmpty else { return }
    let out = try Arguments.pointer(out, name)
    items.withUnsafeBufferPointer { source in
        if let base = source.baseAddress { out.update(from: base, count: items.count) }
    }
}

/// The last run's results, or `HLR_ERR_WRONG_STATE` before the first successful run.
private func lastResults(_ box: EstimatorBox) throws(ABIError) -> EstimatorResults {
    guard let results = box.read({ $0.results }) else {
        throw ABIError(
            Status.wrongState,
            "no run has completed yet: call hlr_estimator_run_host_f32/_f64 or hlr_estimator_run_ops first")
    }
    return results
}

/// Largest number of block offsets (2²⁰ blocks).
private let maxBlockOffsets = (1 << 20) + 1

@_cdecl("hlr_estimator_create")
public func hlr_estimator_create(_ kind: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    exported("hlr_estimator_create") {
        let out = try Arguments.pointer(out, "out")
        out.pointee = nil
        let kind = try estimatorKind(kind)
        out.pointee = try Registry.insert(EstimatorBox(EstimatorConfig(kind)))
    }
}

@_cdecl("hlr_estimator_free")
public func hlr_estimator_free(_ handle: OpaquePointer?) -> Int32 {
    exported("hlr_estimator_free") {
        guard let handle else { return }
        try Registry.remove(handle, as: EstimatorBox.self)
    }
}

@_cdecl("hlr_estimator_kind")
public func hlr_estimator_kind(_ handle: OpaquePointer?, _ kind: UnsafeMutablePointer<Int32>?) -> Int32 {
    exported("hlr_estimator_kind") {
        let box = try Registry.lookupEstimator(handle)
        let out = try Arguments.pointer(kind, "kind")
        out.pointee = Int32(box.read { $0.config.kind.rawValue })
    }
}

@_cdecl("hlr_estimator_param_bounds")
public func hlr_estimator_param_bounds(
    _ kind: Int32, _ key: Int32, _ minimum: UnsafeMutablePointer<Double>?,
    _ maximum: UnsafeMutablePointer<Double>?, _ defaultValue: UnsafeMutablePointer<Double>?
) -> Int32 {
    exported("hlr_estimator_param_bounds") {
        try Arguments.writeBounds(
            estimatorKind(kind).spec(for: estimatorParameter(key)), minimum, maximum, defaultValue)
    }
}

@_cdecl("hlr_estimator_set_param")
public func hlr_estimator_set_param(_ handle: OpaquePointer?, _ key: Int32, _ value: Double) -> Int32 {
    exported("hlr_estimator_set_param") {
        let box = try Registry.lookupEstimator(handle)
        let key = try estimatorParameter(key)
        try box.mutate { (state) throws(HLRError) in try state.config.set(key, value) }
    }
}

@_cdecl("hlr_estimator_get_param")
public func hlr_estimator_get_param(
    _ handle: OpaquePointer?, _ key: Int32, _ value: UnsafeMutablePointer<Double>?
) -> Int32 {
    exported("hlr_estimator_get_param") {
        let box = try Registry.lookupEstimator(handle)
        let key = try estimatorParameter(key)
        let out = try Arguments.pointer(value, "value")
        out.pointee = try box.read { (state) throws(HLRError) in try state.config.parameter(key) }
    }
}

@_cdecl("hlr_estimator_set_seed")
public func hlr_estimator_set_seed(_ handle: OpaquePointer?, _ seed: UInt64) -> Int32 {
    exported("hlr_estimator_set_seed") {
        let box = try Registry.lookupEstimator(handle)
        box.mutate { $0.config.seed = seed }
    }
}

@_cdecl("hlr_estimator_get_seed")
public func hlr_estimator_get_seed(_ handle: OpaquePointer?, _ seed: UnsafeMutablePointer<UInt64>?) -> Int32 {
    exported("hlr_estimator_get_seed") {
        let box = try Registry.lookupEstimator(handle)
        let out = try Arguments.pointer(seed, "seed")
        out.pointee = box.read { $0.config.seed }
    }
}

@_cdecl("hlr_estimator_set_blocks")
public func hlr_estimator_set_blocks(
    _ handle: OpaquePointer?, _ offsets: UnsafePointer<UInt>?, _ nOffsets: UInt
) -> Int32 {
    exported("hlr_estimator_set_blocks") {
        let box = try Registry.lookupEstimator(handle)
        if offsets == nil && nOffsets == 0 {
            try box.mutate { (state) throws(HLRError) in try state.config.setBlocks(nil) }
            return
        }
        let offsets = try Arguments.pointer(offsets, "offsets")
        let count = try Arguments.count(nOffsets, "n_offsets", limit: maxBlockOffsets)
        var values: [Int] = []
        values.reserveCapacity(count)
        for index in 0..<count {
            guard let value = Int(exactly: offsets[index]), value <= 1 << 48 else {
                throw ABIError.invalid("offsets[\(index)] = \(offsets[index]) is too large (at most 2^48)")
            }
            values.append(value)
        }
        try box.mutate { (state) throws(HLRError) in try state.config.setBlocks(values) }
    }
}

@_cdecl("hlr_estimator_result_size")
public func hlr_estimator_result_size(
    _ handle: OpaquePointer?, _ key: Int32, _ n: UnsafeMutablePointer<UInt>?
) -> Int32 {
    exported("hlr_estimator_result_size") {
        let box = try Registry.lookupEstimator(handle)
        let key = try resultKey(key)
        let out = try Arguments.pointer(n, "n")
        out.pointee = UInt(try lastResults(box).size(key))
    }
}

@_cdecl("hlr_estimator_get_result")
public func hlr_estimator_get_result(
    _ handle: OpaquePointer?, _ key: Int32, _ out: UnsafeMutablePointer<Double>?, _ n: UInt
) -> Int32 {
    exported("hlr_estimator_get_result") {
        let box = try Registry.lookupEstimator(handle)
        let key = try resultKey(key)
        try copyResult(lastResults(box).doubles(key), "values", of: key, to: out, "out", capacity: n)
    }
}

@_cdecl("hlr_estimator_get_vectors")
public func hlr_estimator_get_vectors(
    _ handle: OpaquePointer?, _ key: Int32, _ handles: UnsafeMutablePointer<UInt64>?, _ n: UInt
) -> Int32 {
    exported("hlr_estimator_get_vectors") {
        let box = try Registry.lookupEstimator(handle)
        let key = try resultKey(key)
        try copyResult(lastResults(box).handles(key), "vector handles", of: key, to: handles, "handles", capacity: n)
    }
}
