import HessianLR
import HessianLRLoops
import HessianLRLoopsX86V3

// Benchmark-only entry points (product hessianlr-kernel-bench, never installed): the core's host
// kernels (`ChunkedKernels`, the code behind HostVectorSpace, observe_host and the host
// estimators) called directly on the caller's buffers, so that bench_host_kernels.py can time
// them against numpy on the same numpy arrays. No validation: the benchmark passes valid
// buffers. `threads` as HLR_EST_PARAM_THREADS.

@_cdecl("hlrbench_dot_f32")
public func hlrbench_dot_f32(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int, _ threads: Int) -> Double {
    ChunkedKernels.dot(UnsafeBufferPointer(start: x, count: n), UnsafeBufferPointer(start: y, count: n), threads: threads)
}

@_cdecl("hlrbench_dot_f64")
public func hlrbench_dot_f64(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int, _ threads: Int) -> Double {
    ChunkedKernels.dot(UnsafeBufferPointer(start: x, count: n), UnsafeBufferPointer(start: y, count: n), threads: threads)
}

@_cdecl("hlrbench_axpy_f32")
public func hlrbench_axpy_f32(_ a: Double, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ threads: Int) {
    ChunkedKernels.axpy(a, x, y, count: n, threads: threads)
}

@_cdecl("hlrbench_axpy_f64")
public func hlrbench_axpy_f64(_ a: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int, _ threads: Int) {
    ChunkedKernels.axpy(a, x, y, count: n, threads: threads)
}

@_cdecl("hlrbench_scale_f32")
public func hlrbench_scale_f32(_ a: Double, _ x: UnsafeMutablePointer<Float>, _ n: Int, _ threads: Int) {
    ChunkedKernels.scale(a, x, count: n, threads: threads)
}

@_cdecl("hlrbench_scale_f64")
public func hlrbench_scale_f64(_ a: Double, _ x: UnsafeMutablePointer<Double>, _ n: Int, _ threads: Int) {
    ChunkedKernels.scale(a, x, count: n, threads: threads)
}

/// x[j] ← probe element j of (seed, stream, index) under `distribution` (1 Rademacher, 2 Gaussian).
@_cdecl("hlrbench_fill_f32")
public func hlrbench_fill_f32(_ seed: UInt64, _ distribution: Int, _ x: UnsafeMutablePointer<Float>, _ n: Int, _ threads: Int) {
    fill(seed, distribution, x, n, threads)
}

@_cdecl("hlrbench_fill_f64")
public func hlrbench_fill_f64(_ seed: UInt64, _ distribution: Int, _ x: UnsafeMutablePointer<Double>, _ n: Int, _ threads: Int) {
    fill(seed, distribution, x, n, threads)
}

/// One classical Gram–Schmidt pass of the Lanczos reorthogonalisation (`BackendSession.project`
/// on the host backend): c_i = q_iᵀw for the k rows q_i (one `multiDot`), then w ← w − Σ c_i q_i
/// (one `multiAxpy`). Writes c to `coefficients`.
@_cdecl("hlrbench_project_f32")
public func hlrbench_project_f32(
    _ basis: UnsafePointer<UnsafePointer<Float>>, _ k: Int, _ w: UnsafeMutablePointer<Float>, _ n: Int, _ threads: Int,
    _ coefficients: UnsafeMutablePointer<Double>
) {
    project(basis, k, w, n, threads, coefficients)
}

@_cdecl("hlrbench_project_f64")
public func hlrbench_project_f64(
    _ basis: UnsafePointer<UnsafePointer<Double>>, _ k: Int, _ w: UnsafeMutablePointer<Double>, _ n: Int, _ threads: Int,
    _ coefficients: UnsafeMutablePointer<Double>
) {
    project(basis, k, w, n, threads, coefficients)
}

private func fill<T: HostScalar>(_ seed: UInt64, _ distribution: Int, _ x: UnsafeMutablePointer<T>, _ n: Int, _ threads: Int) {
    ChunkedKernels.fill(
        x, count: n, rng: CounterRNG(seed: seed, stream: 3, index: 0),
        distribution: ProbeDistribution(rawValue: distribution) ?? .rademacher, threads: threads)
}

private func project<T: HostScalar>(
    _ basis: UnsafePointer<UnsafePointer<T>>, _ k: Int, _ w: UnsafeMutablePointer<T>, _ n: Int, _ threads: Int,
    _ coefficients: UnsafeMutablePointer<Double>
) {
    let rows = Array(UnsafeBufferPointer(start: basis, count: k))
    let c = ChunkedKernels.multiDot(rows, UnsafePointer(w), count: n, threads: threads)
    for (i, value) in c.enumerated() { coefficients[i] = value }
    ChunkedKernels.multiAxpy(c.map { -$0 }, rows, w, count: n, threads: threads)
}

/// 1 when the x86-64-v3 copy of the element loops runs on this CPU, 0 for the baseline copy.
@_cdecl("hlrbench_uses_x86v3")
public func hlrbench_uses_x86v3() -> Int32 {
    HostKernels.instructionSet == "x86-64-v3" ? 1 : 0
}

/// One unchunked `VectorLoops.dot` call from the baseline copy (`x86v3` 0) or the x86-64-v3 copy
/// (1; only on a CPU that has it): the two compiled copies side by side on the same buffers.
@_cdecl("hlrbench_loops_dot_f32")
public func hlrbench_loops_dot_f32(_ x86v3: Int32, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Double {
    x86v3 != 0 ? HessianLRLoopsX86V3.VectorLoops.dot(x, y, n) : HessianLRLoops.VectorLoops.dot(x, y, n)
}

@_cdecl("hlrbench_loops_dot_f64")
public func hlrbench_loops_dot_f64(_ x86v3: Int32, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int) -> Double {
    x86v3 != 0 ? HessianLRLoopsX86V3.VectorLoops.dot(x, y, n) : HessianLRLoops.VectorLoops.dot(x, y, n)
}
