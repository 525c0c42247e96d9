"""The library's host vector kernels against numpy and BLAS on the same buffers (issue 12, item 1).

A benchmark program, not a test: it prints a table and writes ``host_kernels.json`` and
``host_kernels.md`` to ``--out``. The library side is the core's ``ChunkedKernels`` (the code
behind ``HostVectorSpace``, ``observe_host`` and every host estimator) called through
``libhessianlr-kernel-bench.so`` (``benchmarks/kernels/swift``: plain C symbols over the core,
built by ``make bench-kernels`` with the release flags of ``make lib``) on the very numpy arrays
the reference uses. Each row alternates library and reference calls (A/B/B/A…) for
``--repeats`` rounds; a sample is the mean of ``inner`` back-to-back calls (more at small n so a
sample lasts milliseconds); the table gives the median sample of each side, GB/s for both from
the same byte count, and the median and range (min–max) of the per-round ratios
reference time / library time (> 1: the library is faster).

Rows:

- ``dot``: Σ xᵢyᵢ (the library: float64 accumulation, fixed order, per 8192-element chunk);
  ``np.dot`` (OpenBLAS sdot/ddot; sdot accumulates in float32). 2n elements of traffic.
- ``axpy``: y ← y + a·x; references ``scipy.linalg.blas.?axpy`` (in place) and the numpy idiom
  ``y += a * x`` (a temporary). 3n.
- ``scale``: x ← a·x; references ``scipy.linalg.blas.?scal`` (in place) and ``x *= a``. 2n.
- ``fill/rademacher``, ``fill/gaussian``: probe fill (the library's counter-based values, as
  ``hlr_probe_fill_*``, chunk-parallel with threads); numpy ``Generator.random(out=)`` and
  ``Generator.standard_normal(out=)`` (other values; numpy has no threaded fill). n.
- ``loops/dot`` (on an x86-64-v3 CPU): one unchunked call of the element loop of ``dot`` from the
  x86-64-v3 copy (ours) against the baseline SSE2 copy (reference) of the same source, same
  buffers: what the second compilation buys. 2n.
- ``reorth``: one classical Gram–Schmidt pass of the Lanczos reorthogonalisation against k basis
  vectors (c = Qw in one multi-dot pass, then w ← w − Qᵀc in one blocked multi-axpy pass); numpy
  ``c = Q @ w; w -= Q.T @ c`` (two BLAS gemv). (2k + 3)n.

Threads: the library's ``threads`` argument (the estimators' HLR_EST_PARAM_THREADS) and
numpy's BLAS threads (threadpoolctl) take the value of the ``threads`` column; numpy's ufuncs
and random generators are single-threaded whatever it says. Every library result is checked to
be bit-identical across thread counts (dot, reorth coefficients, fills).

Usage: ``python benchmarks/kernels/bench_host_kernels.py --out DIR [--library PATH]
[--sizes 1e6,1e7,1e8] [--threads 1,2] [--repeats 7] [--k 8]``.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from machine import describe
from scipy.linalg import blas
from threadpoolctl import threadpool_limits

CLOCK = time.perf_counter
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LIBRARY = ROOT / ".build-bench" / "release" / "libhessianlr-kernel-bench.so"
P = ctypes.c_void_p
SZ = ctypes.c_ssize_t


def load(path):
    lib = ctypes.CDLL(str(path))
    for suffix in ("f32", "f64"):
        getattr(lib, f"hlrbench_dot_{suffix}").argtypes = [P, P, SZ, SZ]
        getattr(lib, f"hlrbench_dot_{suffix}").restype = ctypes.c_double
        getattr(lib, f"hlrbench_axpy_{suffix}").argtypes = [ctypes.c_double, P, P, SZ, SZ]
        getattr(lib, f"hlrbench_scale_{suffix}").argtypes = [ctypes.c_double, P, SZ, SZ]
        getattr(lib, f"hlrbench_fill_{suffix}").argtypes = [ctypes.c_uint64, SZ, P, SZ, SZ]
        getattr(lib, f"hlrbench_project_{suffix}").argtypes = [P, SZ, P, SZ, SZ, P]
        getattr(lib, f"hlrbench_loops_dot_{suffix}").argtypes = [ctypes.c_int32, P, P, SZ]
        getattr(lib, f"hlrbench_loops_dot_{suffix}").restype = ctypes.c_double
    lib.hlrbench_uses_x86v3.restype = ctypes.c_int32
    return lib


def suffix(dtype):
    return "f32" if np.dtype(dtype) == np.float32 else "f64"


def timed(function, inner):
    start = CLOCK()
    for _ in range(inner):
        function()
    return (CLOCK() - start) / inner


def interleaved(repeats, inner, ours, reference):
    """Samples of both sides, alternating which goes first; one warm-up call each."""
    ours()
    reference()
    a, b = [], []
    for round_ in range(repeats):
        if round_ % 2 == 0:
            a.append(timed(ours, inner))
            b.append(timed(reference, inner))
        else:
            b.append(timed(reference, inner))
            a.append(timed(ours, inner))
    return a, b


def row(kernel, reference, dtype, n, threads, bytes_, ours, theirs):
    ratios = [t / o for o, t in zip(ours, theirs)]
    o, t = statistics.median(ours), statistics.median(theirs)
    return {
        "kernel": kernel, "reference": reference, "dtype": np.dtype(dtype).name, "n": n, "threads": threads,
        "ours_ms": o * 1e3, "ref_ms": t * 1e3, "ours_gbs": bytes_ / o / 1e9, "ref_gbs": bytes_ / t / 1e9,
        "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
        "samples": len(ours),
    }


def run(lib, args):
    rows, checks = [], []
    rng = np.random.default_rng(0)
    for n in args.sizes:
        inner = max(1, int(args.sample_elements // n))
        for dtype in (np.float32, np.float64):
            size = np.dtype(dtype).itemsize
            s = suffix(dtype)
            dot = getattr(lib, f"hlrbench_dot_{s}")
            axpy = getattr(lib, f"hlrbench_axpy_{s}")
            scale = getattr(lib, f"hlrbench_scale_{s}")
            fill = getattr(lib, f"hlrbench_fill_{s}")
            project = getattr(lib, f"hlrbench_project_{s}")
            blas_axpy = getattr(blas, ("s" if size == 4 else "d") + "axpy")
            blas_scal = getattr(blas, ("s" if size == 4 else "d") + "scal")
            x = rng.standard_normal(n).astype(dtype)
            y = rng.standard_normal(n).astype(dtype)
            px, py = x.ctypes.data, y.ctypes.data
            a = 1e-7
            scale_by = 1 + 2.0 ** -20  # not 1: BLAS ?scal returns at once for 1
            first_bits = {}
            dots = {threads: dot(px, py, n, threads) for threads in args.threads}  # before axpy writes y
            for threads in args.threads:
                def add(kernel, reference, bytes_, ours, theirs):
                    with threadpool_limits(threads):
                        samples = interleaved(args.repeats, inner, ours, theirs)
                    rows.append(row(kernel, reference, dtype, n, threads, bytes_ * size, *samples))
                    print_row(rows[-1])

                checks.append(("dot", s, n, threads, dots[threads] == dots[args.threads[0]]))
                add("dot", "np.dot", 2 * n, lambda: dot(px, py, n, threads), lambda: np.dot(x, y))
                add("axpy", "blas ?axpy", 3 * n, lambda: axpy(a, px, py, n, threads),
                    lambda: blas_axpy(x, y, a=a))
                add("axpy", "y += a*x", 3 * n, lambda: axpy(a, px, py, n, threads), lambda: np.add(y, a * x, out=y))
                add("scale", "blas ?scal", 2 * n, lambda: scale(scale_by, px, n, threads),
                    lambda: blas_scal(scale_by, x))
                add("scale", "x *= a", 2 * n, lambda: scale(scale_by, px, n, threads),
                    lambda: np.multiply(x, scale_by, out=x))
                z = np.empty(n, dtype)
                pz = z.ctypes.data
                fill(5, 1, pz, n, threads)
                bits = z.tobytes()
                first_bits.setdefault("fill", bits)
                checks.append(("fill/rademacher", s, n, threads, bits == first_bits["fill"]))
                add("fill/rademacher", "rng.random", n, lambda: fill(5, 1, pz, n, threads),
                    lambda: rng.random(out=z, dtype=dtype))
                if n <= args.gaussian_max:
                    add("fill/gaussian", "rng.standard_normal", n, lambda: fill(5, 2, pz, n, threads),
                        lambda: rng.standard_normal(out=z, dtype=dtype))
                del z
            if lib.hlrbench_uses_x86v3():
                loops_dot = getattr(lib, f"hlrbench_loops_dot_{s}")
                same = loops_dot(0, px, py, n) == loops_dot(1, px, py, n)
                checks.append(("loops/dot baseline = x86-64-v3", s, n, 1, same))
                with threadpool_limits(1):
                    samples = interleaved(args.repeats, inner, lambda: loops_dot(1, px, py, n),
                                          lambda: loops_dot(0, px, py, n))
                rows.append(row("loops/dot", "the baseline (SSE2) copy", dtype, n, 1, 2 * n * size, *samples))
                print_row(rows[-1])
            if (args.k + 1) * n * size <= args.reorth_bytes:
                k = args.k
                basis = np.empty((k, n), dtype)
                for i in range(k):
                    basis[i] = rng.standard_normal(n).astype(dtype) / np.sqrt(n)
                w = rng.standard_normal(n).astype(dtype)
                start_w = w.copy()
                rows_pointers = (P * k)(*[basis[i].ctypes.data for i in range(k)])
                coefficients = np.zeros(k)
                pw, pc = w.ctypes.data, coefficients.ctypes.data
                for threads in args.threads:
                    w[:] = start_w
                    project(rows_pointers, k, pw, n, threads, pc)
                    result = (coefficients.tobytes(), w.tobytes())
                    first_bits.setdefault("reorth", result)
                    checks.append(("reorth", s, n, threads, result == first_bits["reorth"]))

                    def numpy_pass():
                        c = basis @ w
                        w.__isub__(basis.T @ c)

                    with threadpool_limits(threads):
                        samples = interleaved(args.repeats, inner, lambda: project(rows_pointers, k, pw, n, threads, pc),
                                              numpy_pass)
                    rows.append(row("reorth", f"Q@w, w -= Q.T@c (k={k})", dtype, n, threads,
                                    (2 * k + 3) * n * size, *samples))
                    print_row(rows[-1])
                del basis, w, start_w
            del x, y
    return rows, checks


HEADER = (f"{'kernel':<16} {'reference':<22} {'dtype':<7} {'n':>6} {'thr':>3} {'ours ms':>9} {'ref ms':>9} "
          f"{'ours GB/s':>9} {'ref GB/s':>8} {'ratio':>6} {'range':>12}")


def print_row(r):
    print(f"{r['kernel']:<16} {r['reference']:<22} {r['dtype']:<7} {r['n']:>6.0e} {r['threads']:>3} "
          f"{r['ours_ms']:>9.3f} {r['ref_ms']:>9.3f} {r['ours_gbs']:>9.2f} {r['ref_gbs']:>8.2f} {r['ratio']:>6.2f} "
          f"{r['ratio_min']:>5.2f}–{r['ratio_max']:<5.2f}", flush=True)


def markdown(rows, checks, meta):
    """One line per kernel, reference, dtype and n; a column group per thread count."""
    threads = meta["threads"]
    head = "| kernel | reference | dtype | n |" + "".join(
        f" ours GB/s ({t} thr) | ref GB/s ({t} thr) | ratio {t} thr: median (range) |" for t in threads)
    lines = [
        f"numpy {meta['numpy']}, scipy {meta['scipy']}, BLAS: {meta['blas']}; {meta['cpu']}, {meta['cores']} cores; "
        f"library loops: {meta['loops']}; {meta['repeats']} interleaved rounds per row; "
        "ratio = reference time / library time (> 1: the library is faster).",
        "",
        head,
        "|---|---|---|---:|" + "---:|---:|---:|" * len(threads),
    ]
    groups = {}
    for r in rows:
        groups.setdefault((r["kernel"], r["reference"], r["dtype"], r["n"]), {})[r["threads"]] = r
    for (kernel, reference, dtype, n), by_threads in groups.items():
        cells = ""
        for t in threads:
            r = by_threads.get(t)
            cells += (f" {r['ours_gbs']:.1f} | {r['ref_gbs']:.1f} | {r['ratio']:.2f} ({r['ratio_min']:.2f}–{r['ratio_max']:.2f}) |"
                      if r else " | | |")
        lines.append(f"| {kernel} | {reference} | {dtype} | {n:.0e} |{cells}")
    same = all(c[-1] for c in checks)
    lines += ["", f"Library results bit-identical across thread counts {threads} and loop copies: "
              f"{'yes' if same else 'NO'} ({len(checks)} checks: dot, Rademacher fill, reorth c and w, "
              "baseline vs x86-64-v3 dot)."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--library", type=Path, default=DEFAULT_LIBRARY)
    parser.add_argument("--sizes", default="1e6,1e7,1e8")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--k", type=int, default=8, help="basis vectors of the reorth rows")
    parser.add_argument("--sample-elements", type=float, default=2e7,
                        help="calls per sample = max(1, this / n)")
    parser.add_argument("--gaussian-max", type=float, default=1e7)
    parser.add_argument("--reorth-bytes", type=float, default=8e9, help="largest basis for the reorth rows")
    args = parser.parse_args(argv)
    args.sizes = [int(float(v)) for v in args.sizes.split(",")]
    args.threads = [int(v) for v in args.threads.split(",")]
    lib = load(args.library)
    machine = describe()
    cpu = machine["cpu"]
    meta = {"numpy": np.__version__, "scipy": scipy.__version__, "blas": machine["blas"],
            "cpu": cpu, "cores": machine["cores"], "loops": "x86-64-v3" if lib.hlrbench_uses_x86v3() else "baseline",
            "repeats": args.repeats, "sizes": args.sizes, "threads": args.threads, "library": str(args.library),
            "command": " ".join([sys.executable] + sys.argv)}
    print(f"numpy {np.__version__}; BLAS {meta['blas']}; {cpu}, {os.cpu_count()} cores; loops {meta['loops']}")
    print(HEADER)
    rows, checks = run(lib, args)
    bad = [c for c in checks if not c[-1]]
    for c in bad:
        print(f"NOT bit-identical across threads: {c}", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "host_kernels.json").write_text(json.dumps({"meta": meta, "rows": rows, "checks": checks}, indent=2) + "\n")
    (args.out / "host_kernels.md").write_text(markdown(rows, checks, meta))
    print(f"wrote {args.out / 'host_kernels.json'} and {args.out / 'host_kernels.md'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
