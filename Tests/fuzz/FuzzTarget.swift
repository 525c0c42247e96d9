// libFuzzer harness over the exported C surface (Sources/HessianLRABI), built with
// `-sanitize=fuzzer,address` by `make fuzz-smoke` / `make fuzz`. libFuzzer supplies main().
//
// The input is a little program for one interpreter: each operation is an opcode byte followed by
// its operands (doubles as 8 raw bytes, so NaN, ±Inf, denormals and huge values all occur). It
// drives snapshot restore with arbitrary blobs, option setting with arbitrary keys and values,
// observation sequences (observation and host mode, good and bad callbacks), every method's need
// protocol, schedules (any kind, any parameters, joins, warmups, attached to the tuner, blobs)
// and estimators (any kind and parameters over a small diagonal operator, failing callbacks),
// and checks after every call the library's promises:
//   - no trap (the process would die; ASan and libFuzzer report it);
//   - a call that fails leaves the handle's snapshot byte-identical;
//   - every learning rate handed out is finite and within [lr_min, lr_max].
import HessianLRABI

/// Reads operands from the fuzzer's bytes; past the end it yields zeros.
struct Cursor {
    let data: UnsafeBufferPointer<UInt8>
    var offset = 0

    var atEnd: Bool { offset >= data.count }

    mutating func byte() -> UInt8 {
        guard offset < data.count else { return 0 }
        defer { offset += 1 }
        return data[offset]
    }

    mutating func u64() -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(byte()) << (8 * UInt64(index)) }
        return value
    }

    mutating func double() -> Double { Double(bitPattern: u64()) }

    /// An option value: a selector byte below 8 picks a boundary value (±∞ — lr_max accepts +∞ —,
    /// NaN, the largest finite, 0, the probe-step bound 1e150, a subnormal, 1), otherwise any
    /// bit pattern.
    mutating func optionValue() -> Double {
        let specials: [Double] = [.infinity, -.infinity, .nan, .greatestFiniteMagnitude, 0, 1e150, 5e-324, 1]
        let selector = byte()
        return selector < specials.count ? specials[Int(selector)] : double()
    }

    /// A small step, or occasionally an extreme one.
    mutating func step() -> UInt64 {
        let selector = byte()
        return selector == 0xFF ? u64() : UInt64(selector)
    }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in byte() } }
}

/// Everything an HVP callback needs, passed through ctx: a diagonal H and a failure mode.
final class Oracle {
    var lambda: [Double] = []
    var mode: UInt8 = 0  // 0 ok, 1 fail, 2 NaN, 3 re-enter the library
    var handle: OpaquePointer?
}

func snapshot(_ handle: OpaquePointer?) -> [UInt8] {
    var size: UInt = 0
    guard hlr_tuner_snapshot_size(handle, &size) == 0 else { return [] }
    var bytes = [UInt8](repeating: 0, count: Int(size))
    var written: UInt = 0
    let status = bytes.withUnsafeMutableBytes { hlr_tuner_save(handle, $0.baseAddress, size, &written) }
    precondition(status == 0 && written == size, "save failed on a live handle")
    return bytes
}

/// Runs `call`; if it fails, the handle's snapshot must not have changed.
func checked(_ handle: OpaquePointer?, _ name: String, _ call: () -> Int32) {
    let before = snapshot(handle)
    let status = call()
    if status != 0 {
        precondition(snapshot(handle) == before, "\(name) failed with \(status) but changed the state")
        let message = String(cString: hlr_last_error())
        precondition(!message.isEmpty, "\(name) failed without a message")
    }
}

func checkRates(_ handle: OpaquePointer?, step: UInt64) {
    var groups: UInt = 0
    guard hlr_tuner_group_count(handle, &groups) == 0 else { return }
    var lrMin = 0.0, lrMax = 0.0
    guard hlr_tuner_get_param(handle, 6, &lrMin) == 0, hlr_tuner_get_param(handle, 7, &lrMax) == 0 else {
        return
    }
    // A base schedule multiplies the clamped rates by a factor in [0, 1].
    var schedule: OpaquePointer?
    precondition(hlr_tuner_get_schedule(handle, &schedule) == 0, "get_schedule failed")
    if schedule != nil { lrMin = 0 }
    _ = hlr_schedule_free(schedule)
    var rates = [Double](repeating: 0, count: Int(groups))
    precondition(hlr_tuner_get_lrs(handle, step, &rates, groups) == 0, "get_lrs failed")
    for rate in rates {
        precondition(rate.isFinite && rate >= lrMin && rate <= lrMax, "rate \(rate) outside [\(lrMin), \(lrMax)]")
    }
    checkPlan(handle, step: step, groups: groups, rates: rates)
}

/// hlr_tuner_plan agrees with hlr_tuner_need and hlr_tuner_get_lrs at `step`, and keeps its
/// promise at the first and the last steps it covers (nothing needed, the same rates, bit for bit).
func checkPlan(_ handle: OpaquePointer?, step: UInt64, groups: UInt, rates: [Double]) {
    var need: Int32 = -1, planned: Int32 = -1
    var count: UInt = 0, plannedCount: UInt = 0
    var until: UInt64 = 0
    var planRates = [Double](repeating: 0, count: Int(groups))
    precondition(hlr_tuner_need(handle, step, &need, &count) == 0, "need failed")
    precondition(hlr_tuner_plan(handle, step, &planned, &plannedCount, &planRates, groups, &until) == 0, "plan failed")
    precondition(planned == need && plannedCount == count, "plan's need \(planned) differs from need \(need)")
    precondition(planRates.map(\.bitPattern) == rates.map(\.bitPattern), "plan's rates differ from get_lrs")
    precondition(until > step || (step == .max && until == .max), "steady_until \(until) not after step \(step)")
    guard step < .max else { return precondition(until == .max, "steady_until \(until) at the last step") }
    precondition(need == 0 || until == step + 1, "a step that needs an observation promises only itself")
    guard until > step + 1 else { return }
    let (far, overflow) = step.addingReportingOverflow(1000)
    for t in [step + 1, overflow ? until - 1 : min(until - 1, far)] {
        var later: Int32 = -1
        var laterRates = [Double](repeating: 0, count: Int(groups))
        precondition(hlr_tuner_need(handle, t, &later, &count) == 0 && later == 0, "step \(t) < \(until) needs \(later)")
        precondition(hlr_tuner_get_lrs(handle, t, &laterRates, groups) == 0, "get_lrs failed")
        precondition(laterRates.map(\.bitPattern) == rates.map(\.bitPattern), "rates at \(t) < \(until) differ")
    }
}

let hvp64: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, UInt) -> Int32 = {
    context, v, out, n in
    let oracle = Unmanaged<Oracle>.fromOpaque(context!).takeUnretainedValue()
    if oracle.mode == 1 { return 7 }
    for index in 0..<Int(n) {
        let lambda = oracle.lambda.isEmpty ? 1 : oracle.lambda[index % oracle.lambda.count]
        out![index] = oracle.mode == 2 ? .nan : lambda * v![index]
    }
    if oracle.mode == 3 {
        var rate = 0.0
        _ = hlr_tuner_get_lr(oracle.handle, 0, 0, &rate)
    }
    return 0
}

let hvp32: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UInt) -> Int32 = {
    context, v, out, n in
    let oracle = Unmanaged<Oracle>.fromOpaque(context!).takeUnretainedValue()
    if oracle.mode == 1 { return -1 }
    for index in 0..<Int(n) {
        let lambda = oracle.lambda.isEmpty ? 1 : oracle.lambda[index % oracle.lambda.count]
        out![index] = oracle.mode == 2 ? .infinity : Float(lambda) * v![index]
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    var cursor = Cursor(data: UnsafeBufferPointer(start: data, count: size))
    var handle: OpaquePointer?
    let groups = UInt(cursor.byte() % 4) + 1
    let method = Int32(cursor.byte() % 7) + 1
    guard hlr_tuner_create(method, groups, &handle) == 0 else { return 0 }
    defer { precondition(hlr_tuner_free(handle) == 0, "free failed") }
    let oracle = Oracle()
    oracle.handle = handle
    let context = Unmanaged.passUnretained(oracle).toOpaque()

    var operations = 0
    while !cursor.atEnd && operations < 256 {
        operations += 1
        let step = cursor.step()
        switch cursor.byte() % 16 {
        case 0:  // restore an arbitrary blob (length-prefixed)
            let blob = cursor.bytes(Int(cursor.byte()) * 2)
            checked(handle, "restore") { blob.withUnsafeBytes { hlr_tuner_restore(handle, $0.baseAddress, UInt($0.count)) } }
        case 1:  // restore a valid snapshot with one byte changed
            var blob = snapshot(handle)
            if !blob.isEmpty { blob[Int(cursor.byte()) % blob.count] ^= cursor.byte() | 1 }
            checked(handle, "restore-flipped") { blob.withUnsafeBytes { hlr_tuner_restore(handle, $0.baseAddress, UInt($0.count)) } }
        case 2:  // set an option (any key, any value)
            let key = Int32(Int8(bitPattern: cursor.byte()))
            let value = cursor.optionValue()
            checked(handle, "set_param") { hlr_tuner_set_param(handle, key, value) }
        case 3:  // set a group option (any group)
            let group = UInt(cursor.byte())
            let key = Int32(cursor.byte() % 12)
            let value = cursor.double()
            checked(handle, "set_group_param") { hlr_tuner_set_group_param(handle, group, key, value) }
        case 4:  // observe curvature with arbitrary values and count
            let count = Int(cursor.byte() % 10)
            let values = (0..<count).map { _ in cursor.double() }
            checked(handle, "observe_curvature") { hlr_tuner_observe_curvature(handle, step, values, UInt(count)) }
        case 5:  // observe plausible curvature (mostly valid) at the step
            var values: [Double] = []
            for _ in 0..<Int(groups) { values += [Double(cursor.byte()) / 16, Double(Int8(bitPattern: cursor.byte())) / 8] }
            checked(handle, "observe") { hlr_tuner_observe(handle, step, 1, values, UInt(values.count)) }
        case 6:  // host mode f64 with a diagonal oracle in one of its modes
            let n = Int(cursor.byte() % 16) + 1
            let gradient = (0..<n).map { _ in Double(Int8(bitPattern: cursor.byte())) / 4 }
            oracle.lambda = (0..<n).map { _ in Double(Int8(bitPattern: cursor.byte())) }
            oracle.mode = cursor.byte() % 4
            var offsets: [UInt] = [0]
            for group in 1..<Int(groups) { offsets.append(UInt(min(n, group * n / Int(groups) + Int(cursor.byte() % 2)))) }
            offsets.append(UInt(n))
            let useOffsets = groups > 1 || cursor.byte() % 2 == 0
            checked(handle, "observe_host_f64") {
                hlr_tuner_observe_host_f64(
                    handle, step, gradient, nil, UInt(n), useOffsets ? offsets : nil,
                    useOffsets ? UInt(offsets.count) : 0, hvp64, context)
            }
        case 7:  // host mode f32, possibly with an update vector
            let n = Int(cursor.byte() % 8) + 1
            let gradient = (0..<n).map { _ in Float(Int8(bitPattern: cursor.byte())) / 4 }
            let update = cursor.byte() % 2 == 0 ? gradient.map { $0 * 0.5 } : nil
            oracle.lambda = [Double(cursor.byte())]
            oracle.mode = cursor.byte() % 3
            checked(handle, "observe_host_f32") {
                if let update {
                    return hlr_tuner_observe_host_f32(handle, step, gradient, update, UInt(n), nil, 0, hvp32, context)
                }
                return hlr_tuner_observe_host_f32(handle, step, gradient, nil, UInt(n), nil, 0, hvp32, context)
            }
        case 8:  // reset with any selector
            let what = Int32(Int8(bitPattern: cursor.byte()))
            checked(handle, "reset") { hlr_tuner_reset(handle, what) }
        case 9:  // queries with arbitrary arguments
            var value = 0.0
            var wants: Int32 = 0
            var need: Int32 = 0
            var count: UInt = 0
            _ = hlr_tuner_get_info(handle, Int32(cursor.byte() % 10), UInt(cursor.byte()), &value)
            _ = hlr_tuner_wants_curvature(handle, step, &wants)
            _ = hlr_tuner_need(handle, step, &need, &count)
            _ = hlr_tuner_get_lr(handle, step, UInt(cursor.byte() % 6), &value)
            var probes = [Double](repeating: 0, count: 8)
            _ = hlr_tuner_get_probes(handle, step, &probes, UInt(cursor.byte() % 8))
            var low = 0.0, high = 0.0
            let method = Int32(cursor.byte() % 4), key = Int32(cursor.byte() % 14)
            _ = hlr_param_bounds(method, key, &low, &high, &value)
            fuzzParamInfo(method, key)  // no further bytes: the corpus keeps its meaning
        case 10:  // save into a buffer of arbitrary capacity
            var buffer = [UInt8](repeating: 0, count: 512)
            var written: UInt = 0
            let capacity = UInt(cursor.byte()) * 2
            checked(handle, "save") { hlr_tuner_save(handle, &buffer, capacity, &written) }
        case 12:  // the general protocol: whatever the method needs, with fuzzed values (or a failure)
            var need: Int32 = 0
            var count: UInt = 0
            guard hlr_tuner_need(handle, step, &need, &count) == 0 else { break }
            var probes = [Double](repeating: 0, count: Int(min(count, 64)) * Int(groups))
            _ = hlr_tuner_get_probes(handle, step, &probes, UInt(probes.count))
            let values = (0..<Int(min(count, 64))).map { _ in
                cursor.byte() % 8 == 0 ? cursor.double() : Double(Int8(bitPattern: cursor.byte())) / 8
            }
            if cursor.byte() % 6 == 0 {  // or report the measurement as failed
                checked(handle, "observe-failure") { hlr_tuner_observe_failure(handle, step) }
                break
            }
            let kind = cursor.byte() % 5 == 0 ? Int32(cursor.byte() % 5) : need
            checked(handle, "observe-need") { hlr_tuner_observe(handle, step, kind, values, UInt(values.count)) }
        case 13:  // a schedule of any kind and parameters: values finite, attach, save/load
            fuzzSchedule(&cursor, tuner: handle, step: step)
        case 14:  // host step of any method with a quadratic loss and a diagonal HVP
            let n = Int(cursor.byte() % 8) + Int(groups)
            let weights = (0..<n).map { _ in Double(Int8(bitPattern: cursor.byte())) / 16 }
            let gradient = weights.map { $0 * 2 }
            oracle.lambda = [2]
            oracle.mode = cursor.byte() % 4
            var offsets: [UInt] = (0..<Int(groups)).map { UInt($0 * n / Int(groups)) }
            offsets.append(UInt(n))
            var rounds: UInt = 0
            let currentLoss = cursor.byte() % 2 == 0 ? Double.nan : cursor.double()
            checked(handle, "step_host_f64") {
                hlr_tuner_step_host_f64(
                    handle, step, weights, gradient, nil, UInt(n), offsets, UInt(offsets.count),
                    currentLoss, hvp64, loss64, context, &rounds)
            }
        case 15:  // an estimator of any kind and parameters over a small diagonal operator
            fuzzEstimator(&cursor, oracle: oracle, context: context)
        default:  // calls on invalid handles must fail cleanly
            var rate = 0.0
            let bogus = OpaquePointer(bitPattern: UInt(cursor.u64() | 1))
            guard bogus != handle else { break }
            precondition(hlr_tuner_get_lr(bogus, 0, 0, &rate) != 0, "a bogus handle was accepted")
        }
        checkRates(handle, step: step)
    }
    return 0
}

let loss64: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<Double>?, UInt, UnsafeMutablePointer<Double>?) -> Int32 = {
    context, w, n, loss in
    let oracle = Unmanaged<Oracle>.fromOpaque(context!).takeUnretainedValue()
    if oracle.mode == 1 { return 3 }
    var total = 0.0
    for index in 0..<Int(n) { total += w![index] * w![index] }
    loss!.pointee = oracle.mode == 2 ? .nan : total
    return 0
}

/// Builds a schedule from fuzzed settings; every value it gives must be finite and ≥ 0.
/// hlr_param_info of family key % 5 (0 and 4 invalid), kind `method`, index key / 2 (past the
/// end for some), with a struct_size too small for some: a failure writes nothing; a success
/// writes only the struct's first 88 bytes (not struct_size), a NUL-terminated name, and values
/// within what the *_param_bounds functions report for that key.
func fuzzParamInfo(_ method: Int32, _ key: Int32) {
    let size = 88
    var bytes = [UInt8](repeating: 0xA5, count: size + 16)
    let structSize = key % 3 == 0 ? UInt(size - Int(key % 9) - 1) : UInt(size + Int(key % 3) * 8)
    withUnsafeBytes(of: structSize) { for (i, b) in $0.enumerated() { bytes[i] = b } }
    let before = bytes
    let family = key % 5
    let status = bytes.withUnsafeMutableBytes { hlr_param_info(family, method, UInt(key / 2), $0.baseAddress) }
    guard status == 0 else {
        precondition(bytes == before, "hlr_param_info failed with \(status) but wrote")
        return
    }
    precondition(Array(bytes[0..<8]) == Array(before[0..<8]) && Array(bytes[size...]) == Array(before[size...]),
                 "hlr_param_info wrote outside its fields")
    precondition(bytes[40..<88].contains(0), "name is not NUL-terminated")
    let described = bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> (Int32, Double, Double, Double) in
        (raw.load(fromByteOffset: 8, as: Int32.self), raw.load(fromByteOffset: 16, as: Double.self),
         raw.load(fromByteOffset: 24, as: Double.self), raw.load(fromByteOffset: 32, as: Double.self))
    }
    var low = 0.0, high = 0.0, value = 0.0
    let bounds: Int32
    switch family {
    case 1: bounds = hlr_param_bounds(method, described.0, &low, &high, &value)
    case 2: bounds = hlr_schedule_param_bounds(method, described.0, &low, &high, &value)
    default: bounds = hlr_estimator_param_bounds(method, described.0, &low, &high, &value)
    }
    precondition(bounds == 0 && low == described.1 && high == described.2 && value == described.3,
                 "hlr_param_info disagrees with the bounds functions")
}

func fuzzSchedule(_ cursor: inout Cursor, tuner: OpaquePointer?, step: UInt64) {
    var schedule: OpaquePointer?
    guard hlr_schedule_create(Int32(cursor.byte() % 17), &schedule) == 0 else { return }
    defer { _ = hlr_schedule_free(schedule) }
    for _ in 0..<Int(cursor.byte() % 4) {
        _ = hlr_schedule_set_param(schedule, Int32(cursor.byte() % 33), cursor.double())
    }
    let milestones = (0..<Int(cursor.byte() % 4)).map { _ in UInt64(cursor.byte()) }
    _ = hlr_schedule_set_milestones(schedule, milestones, UInt(milestones.count))
    var composed: OpaquePointer?
    switch cursor.byte() % 4 {
    case 0:
        var pieces: [OpaquePointer?] = [schedule, schedule]
        let boundaries = [UInt64(cursor.byte())]
        _ = hlr_schedule_join(&pieces, 2, boundaries, 1, &composed)
    case 1:
        _ = hlr_schedule_warmup(schedule, UInt64(cursor.byte()), cursor.double(), &composed)
    case 2:
        _ = hlr_schedule_rescale(schedule, cursor.double(), &composed)
    default:
        break
    }
    defer { _ = hlr_schedule_free(composed) }
    let target = composed ?? schedule
    for probe in [step, 0, UInt64.max, UInt64(cursor.byte()) * 1000] {
        var value = 0.0
        precondition(hlr_schedule_value(target, probe, &value) == 0, "schedule_value failed")
        precondition(value.isFinite && value >= 0, "schedule value \(value) at step \(probe)")
        var factor = -1.0
        precondition(hlr_schedule_factor(target, probe, &factor) == 0, "schedule_factor failed")
        precondition(factor >= 0 && factor <= 1, "schedule factor \(factor) at step \(probe)")
    }
    var size: UInt = 0
    precondition(hlr_schedule_snapshot_size(target, &size) == 0, "schedule size failed")
    var blob = [UInt8](repeating: 0, count: Int(size))
    precondition(hlr_schedule_save(target, &blob, size, nil) == 0, "schedule save failed")
    if !blob.isEmpty && cursor.byte() % 2 == 0 { blob[Int(cursor.byte()) % blob.count] ^= cursor.byte() }
    var loaded: OpaquePointer?
    _ = hlr_schedule_load(blob, UInt(blob.count), &loaded)
    _ = hlr_schedule_free(loaded)
    checked(tuner, "set_schedule") { hlr_tuner_set_schedule(tuner, cursor.byte() % 3 == 0 ? nil : target) }
}

/// Runs an estimator with fuzzed parameters on diag(λ) (n ≤ 24); results must be readable.
func fuzzEstimator(_ cursor: inout Cursor, oracle: Oracle, context: UnsafeMutableRawPointer) {
    var estimator: OpaquePointer?
    guard hlr_estimator_create(Int32(cursor.byte() % 9), &estimator) == 0 else { return }
    defer { _ = hlr_estimator_free(estimator) }
    for _ in 0..<Int(cursor.byte() % 4) {
        let key = Int32(cursor.byte() % 23)
        let value = cursor.byte() % 2 == 0 ? cursor.double() : Double(cursor.byte() % 32)
        _ = hlr_estimator_set_param(estimator, key, value)
    }
    _ = hlr_estimator_set_seed(estimator, cursor.u64())
    let n = Int(cursor.byte() % 24) + 1
    if cursor.byte() % 3 == 0 {
        let offsets: [UInt] = [0, UInt(n / 2), UInt(n)]
        _ = hlr_estimator_set_blocks(estimator, offsets, 3)
    }
    oracle.lambda = (0..<n).map { _ in Double(Int8(bitPattern: cursor.byte())) }
    oracle.mode = cursor.byte() % 8 == 0 ? cursor.byte() % 3 : 0
    _ = hlr_estimator_run_host_f64(estimator, UInt(n), hvp64, context)
    for key in Int32(1)...24 {
        var count: UInt = 0
        guard hlr_estimator_result_size(estimator, key, &count) == 0, count <= 1 << 20 else { continue }
        var values = [Double](repeating: 0, count: Int(count))
        _ = hlr_estimator_get_result(estimator, key, &values, count)
    }
}
