import HessianLR

// The caller-supplied vector backend of hlr_estimator_run_ops: a C table of callbacks on uint64_t
// vector handles (GPU tensors, host arrays, anything), adapted to the core's OperatorBackend.

typealias OpsAlloc = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt64>?) -> Int32
typealias OpsRelease = @convention(c) (UnsafeMutableRawPointer?, UInt64) -> Void
typealias OpsCopy = @convention(c) (UnsafeMutableRawPointer?, UInt64, UInt64) -> Int32
typealias OpsDot = @convention(c) (UnsafeMutableRawPointer?, UInt64, UInt64, UnsafeMutablePointer<Double>?) -> Int32
typealias OpsAxpy = @convention(c) (UnsafeMutableRawPointer?, Double, UInt64, UInt64) -> Int32
typealias OpsScale = @convention(c) (UnsafeMutableRawPointer?, Double, UInt64) -> Int32
typealias OpsFillProbe = @convention(c) (
    UnsafeMutableRawPointer?, UInt64, UInt64, UInt64, UInt64, Int32
) -> Int32
typealias OpsHVP = @convention(c) (UnsafeMutableRawPointer?, UInt64, UInt64) -> Int32
typealias OpsMultiDot = @convention(c) (
    UnsafeMutableRawPointer?, UInt, UnsafePointer<UInt64>?, UInt64, UnsafeMutablePointer<Double>?
) -> Int32
typealias OpsMultiAxpy = @convention(c) (
    UnsafeMutableRawPointer?, UInt, UnsafePointer<Double>?, UnsafePointer<UInt64>?, UInt64
) -> Int32
typealias OpsHVPBlock = @convention(c) (
    UnsafeMutableRawPointer?, UInt, UnsafePointer<UInt64>?, UnsafePointer<UInt64>?
) -> Int32
typealias OpsMulAcc = @convention(c) (UnsafeMutableRawPointer?, Double, UInt64, UInt64, UInt64) -> Int32
typealias OpsAllReduce = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<Double>?, UInt) -> Int32
typealias OpsBlockDots = @convention(c) (
    UnsafeMutableRawPointer?, UInt64, UInt64, UnsafePointer<UInt>?, UInt, UnsafeMutablePointer<Double>?
) -> Int32

/// The fields of `hlr_vector_ops`, read from the caller's struct. Every field is pointer-sized
/// (size_t or a function pointer), so field i lies at byte offset i · sizeof(void *); a field is
/// read only when struct_size covers it, so the struct can grow at its end. Version 1 (the
/// fields below) is the minimum accepted size.
struct VectorOpsTable {
    /// Fields of version 1: struct_size, n, alloc, release, copy, dot, axpy, scale, fill_probe,
    /// hvp, mul_acc, block_dots.
    static let version1Fields = 12

    let n: UInt
    let alloc: OpsAlloc
    let release: OpsRelease
    let copy: OpsCopy
    let dot: OpsDot
    let axpy: OpsAxpy
    let scale: OpsScale
    let fillProbe: OpsFillProbe
    let hvp: OpsHVP
    let mulAcc: OpsMulAcc?
    let blockDots: OpsBlockDots?
    /// Field 12 (appended after version 1): sums an array over the caller's processes, for
    /// vectors sharded across them.
    let allReduce: OpsAllReduce?
    /// Field 13 (appended after all_reduce): k products H·v_j → out_j in one call.
    let hvpBlock: OpsHVPBlock?
    /// Fields 14 and 15: k dots against one vector, and k axpys into one vector, in one call.
    let multiDot: OpsMultiDot?
    let multiAxpy: OpsMultiAxpy?

    /// Reads and checks the table: struct_size at least version 1's, every required callback
    /// non-NULL (`HLR_ERR_NULL_POINTER` naming it).
    init(_ raw: UnsafeRawPointer) throws(ABIError) {
        let table = try CallbackTable(raw, structName: "hlr_vector_ops", minimumFields: Self.version1Fields)
        func required<F>(_ index: Int, _ name: String, _ type: F.Type) throws(ABIError) -> F {
            try table.required(index, name, type)
        }
        func field<F>(_ index: Int, _ type: F.Type) -> F? { table.field(index, type) }
        n = table.size(1)
        alloc = try required(2, "alloc", OpsAlloc.self)
        release = try required(3, "release", OpsRelease.self)
        copy = try required(4, "copy", OpsCopy.self)
        dot = try required(5, "dot", OpsDot.self)
        axpy = try required(6, "axpy", OpsAxpy.self)
        scale = try required(7, "scale", OpsScale.self)
        fillProbe = try required(8, "fill_probe", OpsFillProbe.self)
        hvp = try required(9, "hvp", OpsHVP.self)
        mulAcc = field(10, OpsMulAcc.self)
        blockDots = field(11, OpsBlockDots.self)
        allReduce = field(12, OpsAllReduce.self)
        hvpBlock = field(13, OpsHVPBlock.self)
        multiDot = field(14, OpsMultiDot.self)
        multiAxpy = field(15, OpsMultiAxpy.self)
    }
}

/// `OperatorBackend` over the caller's callbacks. Every non-zero return throws `callbackFailed`
/// naming the callback and the value; `release` cannot fail. ctx is passed through untouched and
/// used only during the run.
struct CallbackVectorSpace: OperatorBackend {
    typealias Vector = UInt64

    let dimension: Int
    let table: VectorOpsTable
    let context: UnsafeMutableRawPointer?

    private func check(_ status: Int32, _ name: String) throws(HLRError) {
        guard status == 0 else {
            throw HLRError(.callbackFailed, "ops->\(name) callback returned \(status)")
        }
    }

    func makeVector() throws(HLRError) -> UInt64 {
        var handle: UInt64 = 0
        try check(table.alloc(context, &handle), "alloc")
        return handle
    }

    func release(_ vector: UInt64) { table.release(context, vector) }

    func copy(_ source: UInt64, to destination: UInt64) throws(HLRError) {
        try check(table.copy(context, source, destination), "copy")
    }

    func dot(_ x: UInt64, _ y: UInt64) throws(HLRError) -> Double {
        var value = Double.nan
        try check(table.dot(context, x, y, &value), "dot")
        guard table.allReduce != nil else { return value }
        var values = [value]
        try allReduce(&values)
        return values[0]
    }

    /// values ← their sums over the processes (`ops->all_reduce`): the dot products of vectors
    /// sharded across processes are the sums of the shards' dot products.
    func allReduce(_ values: inout [Double]) throws(HLRError) {
        guard let reduce = table.allReduce else { return }
        let count = UInt(values.count)
        let status = values.withUnsafeMutableBufferPointer { reduce(context, $0.baseAddress, count) }
        try check(status, "all_reduce")
    }

    func axpy(_ a: Double, _ x: UInt64, _ y: UInt64) throws(HLRError) {
        try check(table.axpy(context, a, x, y), "axpy")
    }

    func scale(_ a: Double, _ x: UInt64) throws(HLRError) {
        try check(table.scale(context, a, x), "scale")
    }

    func fillProbe(
        _ vector: UInt64, seed: UInt64, stream: UInt64, index: UInt64,
        distribution: ProbeDistribution
    ) throws(HLRError) {
        try check(
            table.fillProbe(context, vector, seed, stream, index, Int32(distribution.rawValue)),
            "fill_probe")
    }

    func applyOperator(_ v: UInt64, into out: UInt64) throws(HLRError) {
        try check(table.hvp(context, v, out), "hvp")
    }

    var appliesBlocks: Bool { table.hvpBlock != nil }

    /// One ops->multi_dot call (its k values summed over processes in one all_reduce), or, without
    /// it, `dot` for each x in order, stopping after the first non-finite value as the protocol's
    /// default does.
    func multiDot(_ xs: [UInt64], _ y: UInt64) throws(HLRError) -> [Double] {
        guard let multi = table.multiDot else { return try dotEach(xs, y) }
        var values = [Double](repeating: .nan, count: xs.count)
        let status = xs.withUnsafeBufferPointer { x in
            values.withUnsafeMutableBufferPointer { out in multi(context, UInt(x.count), x.baseAddress, y, out.baseAddress) }
        }
        try check(status, "multi_dot")
        try allReduce(&values)
        return values
    }

    func multiAxpy(_ a: [Double], _ xs: [UInt64], _ y: UInt64) throws(HLRError) {
        guard let multi = table.multiAxpy, a.count == xs.count else { return try axpyEach(a, xs, y) }
        let status = a.withUnsafeBufferPointer { coefficients in
            xs.withUnsafeBufferPointer { x in multi(context, UInt(x.count), coefficients.baseAddress, x.baseAddress, y) }
        }
        try check(status, "multi_axpy")
    }

    func applyOperator(block vs: [UInt64], into outs: [UInt64]) throws(HLRError) {
        guard let hvpBlock = table.hvpBlock else { return try applyEach(vs, into: outs) }
        let status = vs.withUnsafeBufferPointer { v in
            outs.withUnsafeBufferPointer { out in hvpBlock(context, UInt(v.count), v.baseAddress, out.baseAddress) }
        }
        try check(status, "hvp_block")
    }

    func multiplyAccumulate(_ a: Double, _ x: UInt64, _ y: UInt64, into acc: UInt64) throws(HLRError) {
        guard let mulAcc = table.mulAcc else {
            throw HLRError(.invalidArgument, "ops->mul_acc is NULL (needed by the diagonal estimator)")
        }
        try check(mulAcc(context, a, x, y, acc), "mul_acc")
    }

    func blockDots(_ x: UInt64, _ y: UInt64, blocks: GroupLayout) throws(HLRError) -> [Double] {
        guard let blockDots = table.blockDots else {
            throw HLRError(.invalidArgument, "ops->block_dots is NULL (needed with block offsets)")
        }
        let offsets = blocks.offsets.map { UInt($0) }
        var values = [Double](repeating: .nan, count: blocks.groupCount)
        let status = offsets.withUnsafeBufferPointer { offsets in
            values.withUnsafeMutableBufferPointer { out in
                blockDots(context, x, y, offsets.baseAddress, UInt(offsets.count), out.baseAddress)
            }
        }
        try check(status, "block_dots")
        return values
    }
}
