"""A/B of two builds of the shared library (libhessianlr.so) through the C ABI, interleaved in
the same run (a benchmark program, not a test): the probe fill (`hlr_probe_fill_f32/_f64`,
Rademacher and Gaussian) and a host Hutchinson run (`hlr_estimator_run_host_f32/_f64`, 4 probes,
the HVP a copy done in C by `memcpy`, so the time is the library's: probe fill, the non-finite
screen of each product, the dots).

    .venv/bin/python benchmarks/kernels/ab_library.py OLD.so NEW.so [n]

where each .so is a `build/lib/libhessianlr.so` built at the commit to compare (copy it away
before rebuilding). Prints, per case, the fastest of 7 rounds of each side (the order alternates
between rounds), the ratio new/old, and for the fill whether both builds give the same bits.
"""
import ctypes
import ctypes.util
import sys
import time

import numpy as np

HUTCHINSON, SAMPLES = 3, 9  # HLR_ESTIMATOR_HUTCHINSON, HLR_EST_PARAM_SAMPLES
RADEMACHER, GAUSSIAN = 1, 2  # HLR_PROBE_*


def _copy_callback(libc, callback_type, itemsize):
    """An HVP callback that copies v into out with libc's memcpy (C speed, no Python per call
    beyond the trampoline)."""
    memcpy = libc.memcpy
    memcpy.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]

    def hvp(ctx, v, out, n):
        memcpy(out, v, n * itemsize)
        return 0

    return callback_type(hvp)


def main(old_path: str, new_path: str, n: int = 10**7, rounds: int = 7) -> None:
    libs = {"old": ctypes.CDLL(old_path), "new": ctypes.CDLL(new_path)}
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    # hlr_hvp_f32 / hlr_hvp_f64: int (*)(void *ctx, const T *v, T *out, size_t n)
    hvp_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
    hvp_types = {"f32": hvp_type, "f64": hvp_type}
    callbacks = {s: _copy_callback(libc, hvp_types[s], 4 if s == "f32" else 8) for s in hvp_types}
    for lib in libs.values():
        for s in ("f32", "f64"):
            getattr(lib, "hlr_probe_fill_" + s).argtypes = [
                ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_int, ctypes.c_uint64, ctypes.c_void_p,
                ctypes.c_size_t]
            getattr(lib, "hlr_estimator_run_host_" + s).argtypes = [
                ctypes.c_void_p, ctypes.c_size_t, hvp_types[s], ctypes.c_void_p]
        lib.hlr_estimator_create.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_void_p)]
        lib.hlr_estimator_set_param.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_double]
        lib.hlr_estimator_free.argtypes = [ctypes.c_void_p]

    # One output buffer per dtype, touched once: no page faults inside the timed calls (a fresh
    # np.empty per call would time the kernel's first touch of 40-80 MB, which depends on what the
    # allocator reuses and so on the order of the sides).
    buffers = {np.float32: np.zeros(n, np.float32), np.float64: np.zeros(n, np.float64)}

    def fill(lib, s, dtype, distribution):
        x = buffers[dtype]
        start = time.perf_counter()
        assert getattr(lib, "hlr_probe_fill_" + s)(5, 1, 3, distribution, 0, x.ctypes.data, n) == 0
        return time.perf_counter() - start, x

    def hutchinson(lib, s, dtype, distribution):
        handle = ctypes.c_void_p()
        assert lib.hlr_estimator_create(HUTCHINSON, ctypes.byref(handle)) == 0
        assert lib.hlr_estimator_set_param(handle, SAMPLES, 4) == 0
        start = time.perf_counter()
        assert getattr(lib, "hlr_estimator_run_host_" + s)(handle, n, callbacks[s], None) == 0
        elapsed = time.perf_counter() - start
        lib.hlr_estimator_free(handle)
        return elapsed, None

    cases = [(f"fill {s} {'rademacher' if d == RADEMACHER else 'gaussian'}", fill, s, dt, d)
             for s, dt in (("f32", np.float32), ("f64", np.float64)) for d in (RADEMACHER, GAUSSIAN)]
    cases += [(f"hutchinson host {s}, 4 probes", hutchinson, s, dt, None)
              for s, dt in (("f32", np.float32), ("f64", np.float64))]
    print(f"n = {n}, fastest of {rounds} interleaved rounds")
    for name, run, s, dtype, distribution in cases:
        best = {"old": float("inf"), "new": float("inf")}
        outputs = {}
        for r in range(rounds):
            for side in (("old", "new") if r % 2 == 0 else ("new", "old")):
                elapsed, out = run(libs[side], s, dtype, distribution)
                best[side] = min(best[side], elapsed)
                outputs[side] = None if out is None else out.copy()
        same = "" if outputs["old"] is None else (
            ", same bits" if np.array_equal(outputs["old"].view(np.uint8), outputs["new"].view(np.uint8))
            else ", BITS DIFFER")
        print(f"{name:32s} old {best['old'] * 1e3:8.1f} ms  new {best['new'] * 1e3:8.1f} ms  "
              f"new/old {best['new'] / best['old']:.3f}{same}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:4]))
