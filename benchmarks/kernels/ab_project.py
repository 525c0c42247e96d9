"""A/B of one Gram-Schmidt pass (the Lanczos reorthogonalisation: c = Q w, w -= Q^T c, k rows)
between two builds of the benchmark library, with numpy's two gemv as the reference, interleaved
in the same run (a benchmark program, not a test).

    .venv/bin/python benchmarks/kernels/ab_project.py OLD.so NEW.so

where each .so is a `.build-bench/release/libhessianlr-kernel-bench.so` built at the commit to
compare (copy it away before rebuilding). Prints, per dtype and n, the median time of each side
over 7 rounds (the order alternates between rounds) and whether both builds give the same bits.
"""
import ctypes
import sys
import time

import numpy as np


def main(old_path: str, new_path: str, k: int = 8, rounds: int = 7) -> None:
    libs = {"old": ctypes.CDLL(old_path), "new": ctypes.CDLL(new_path)}
    for lib in libs.values():
        for suffix in ("f32", "f64"):
            getattr(lib, "hlrbench_project_" + suffix).argtypes = [
                ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_ssize_t, ctypes.c_void_p]
    for dtype, suffix in ((np.float32, "f32"), (np.float64, "f64")):
        for n in (10**6, 10**7):
            rng = np.random.default_rng(0)
            basis = (rng.standard_normal((k, n)) / np.sqrt(n)).astype(dtype)  # near-orthonormal rows
            w0 = rng.standard_normal(n).astype(dtype)
            rows = (ctypes.c_void_p * k)(*[basis[i].ctypes.data for i in range(k)])
            coefficients = np.zeros(k)
            times = {"old": [], "new": [], "numpy": []}
            results = {}
            calls = max(1, int(2e7 // n))
            for r in range(rounds):
                for name in (("old", "new", "numpy") if r % 2 == 0 else ("numpy", "new", "old")):
                    w = w0.copy()
                    start = time.perf_counter()
                    for _ in range(calls):
                        if name == "numpy":
                            c = basis @ w
                            w -= basis.T @ c
                        else:
                            getattr(libs[name], "hlrbench_project_" + suffix)(
                                rows, k, w.ctypes.data, n, 1, coefficients.ctypes.data)
                    times[name].append((time.perf_counter() - start) / calls)
                    if name != "numpy":
                        results[name] = (w.copy(), coefficients.copy())
            same = all(np.array_equal(a, b) for a, b in zip(results["old"], results["new"]))
            median = {name: sorted(values)[rounds // 2] for name, values in times.items()}
            print(f"{suffix} n={n:.0e} k={k}: old {median['old'] * 1e3:.2f} ms, new {median['new'] * 1e3:.2f} ms, "
                  f"numpy {median['numpy'] * 1e3:.2f} ms; numpy/old {median['numpy'] / median['old']:.2f}, "
                  f"numpy/new {median['numpy'] / median['new']:.2f}; same bits: {same}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
