import HessianLR

// The step driver over the caller's tensors: hlr_tuner_step runs one whole step of any tuner
// through a C table of callbacks (hlr_step_ops), the tuner counterpart of hlr_vector_ops.

typealias StepGroupValues = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<Double>?, UInt) -> Int32
typealias StepSetTrial = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<Double>?, UInt) -> Int32
typealias StepLoss = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<Double>?) -> Int32
typealias StepRestore = @convention(c) (UnsafeMutableRawPointer?) -> Int32
typealias StepAllReduce = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<Double>?, UInt) -> Int32

/// The fields of `hlr_step_ops`, read from the caller's struct (`CallbackTable`). Version 1
/// (below) is the minimum accepted size.
struct StepOpsTable {
    /// struct_size, slopes, curvatures, set_trial, loss, restore, all_reduce.
    static let version1Fields = 7

    let slopes: StepGroupValues?
    let curvatures: StepGroupValues?
    let setTrial: StepSetTrial?
    let loss: StepLoss?
    let restore: StepRestore?
    let allReduce: StepAllReduce?

    init(_ raw: UnsafeRawPointer) throws(ABIError) {
        let table = try CallbackTable(raw, structName: "hlr_step_ops", minimumFields: Self.version1Fields)
        func field<F>(_ index: Int, _ type: F.Type) -> F? { table.field(index, type) }
        slopes = field(1, StepGroupValues.self)
        curvatures = field(2, StepGroupValues.self)
        setTrial = field(3, StepSetTrial.self)
        loss = field(4, StepLoss.self)
        restore = field(5, StepRestore.self)
        allReduce = field(6, StepAllReduce.self)
    }

    /// NULL_POINTER naming the first callback `need` (the step's first observation) requires:
    /// curvature: slopes, curvatures; slope: slopes, loss, set_trial, restore (the line search's
    /// trials follow); losses: set_trial, loss, restore. Later rounds find a NULL callback as an
    /// HLR_ERR_INVALID_ARGUMENT from the backend.
    func requireCallbacks(for need: Need, step: UInt64) throws(ABIError) {
        var required: [(String, Bool)] = []
        switch need {
        case .nothing: break
        case .curvature: required = [("slopes", slopes != nil), ("curvatures", curvatures != nil)]
        case .slope:
            required = [("slopes", slopes != nil), ("loss", loss != nil), ("set_trial", setTrial != nil),
                        ("restore", restore != nil)]
        case .losses:
            required = [("set_trial", setTrial != nil), ("loss", loss != nil), ("restore", restore != nil)]
        }
        for (name, present) in required where !present {
            throw ABIError.null("ops->\(name) (step \(step) needs \(need.kind?.name ?? "nothing"))")
        }
    }
}

/// `StepBackend` over the caller's callbacks; a non-zero return throws `callbackFailed` naming
/// the callback and the value.
struct CallbackStepBackend: StepBackend {
    let groupCount: Int
    let table: StepOpsTable
    let context: UnsafeMutableRawPointer?

    var isDistributed: Bool { table.allReduce != nil }

    private func check(_ status: Int32, _ name: String) throws(HLRError) {
        guard status == 0 else { throw HLRError(.callbackFailed, "ops->\(name) callback returned \(status)") }
    }

    private func present<F>(_ callback: F?, _ name: String) throws(HLRError) -> F {
        guard let callback else { throw HLRError(.invalidArgument, "ops->\(name) is NULL but the step needs it") }
        return callback
    }

    private func groupValues(_ callback: StepGroupValues?, _ name: String) throws(HLRError) -> [Double] {
        let callback = try present(callback, name)
        var values = [Double](repeating: .nan, count: groupCount)
        let status = values.withUnsafeMutableBufferPointer { callback(context, $0.baseAddress, UInt(groupCount)) }
        try check(status, name)
        return values
    }

    mutating func slopes() throws(HLRError) -> [Double] { try groupValues(table.slopes, "slopes") }

    mutating func curvatures() throws(HLRError) -> [Double] { try groupValues(table.curvatures, "curvatures") }

    mutating func setTrial(_ steps: [Double]) throws(HLRError) {
        let callback = try present(table.setTrial, "set_trial")
        let status = steps.withUnsafeBufferPointer { callback(context, $0.baseAddress, UInt(steps.count)) }
        try check(status, "set_trial")
    }

    mutating func loss() throws(HLRError) -> Double {
        let callback = try present(table.loss, "loss")
        var value = Double.nan
        try check(callback(context, &value), "loss")
        return value
    }

    mutating func restore() throws(HLRError) {
        try check(try present(table.restore, "restore")(context), "restore")
    }

    mutating func allReduce(_ values: inout [Double]) throws(HLRError) {
        let callback = try present(table.allReduce, "all_reduce")
        let count = UInt(values.count)
        let status = values.withUnsafeMutableBufferPointer { callback(context, $0.baseAddress, count) }
        try check(status, "all_reduce")
    }
}

@_cdecl("hlr_tuner_step")
public func hlr_tuner_step(
    _ handle: OpaquePointer?, _ step: UInt64, _ ops: UnsafeRawPointer?, _ context: UnsafeMutableRawPointer?,
    _ currentLoss: Double, _ rounds: UnsafeMutablePointer<UInt>?, _ failures: UnsafeMutablePointer<UInt>?
) -> Int32 {
    exported("hlr_tuner_step") {
        let box = try Registry.lookup(handle)
        let table = try StepOpsTable(try Arguments.pointer(ops, "ops"))
        guard currentLoss.isFinite || currentLoss.isNaN else {
            throw ABIError(Status.nonFinite, "current_loss must be finite (or NaN for none), got \(currentLoss)")
        }
        let loss: Double? = currentLoss.isNaN ? nil : currentLoss
        let checkout = try box.checkout()
        var tuner = checkout.tuner
        try table.requireCallbacks(for: tuner.need(atStep: step), step: step)
        var backend = CallbackStepBackend(groupCount: tuner.groupCount, table: table, context: context)
        let report = try tuner.runStep(step: step, backend: &backend, currentLoss: loss)
        if report.rounds > 0 {
            try box.commit(tuner, ifGeneration: checkout.generation)
        }
        rounds?.pointee = UInt(report.rounds)
        failures?.pointee = UInt(report.failures)
    }
}
