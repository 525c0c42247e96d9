"""Host-kernel throughput of libhessianlr against numpy on the same buffers (issue 12, item 1).

A benchmark program, not a test: it prints a table and writes ``kernels.json`` and
``kernels.md`` to ``--out``. Every row times the library through its public C ABI (the
ctypes prototypes of ``hessianlr._lib``) and numpy on the same buffers, interleaved A/B/A/B…
within one run; each side's time is the median of ``--repeats`` rounds.

Library time is the call's wall time minus the time spent inside the HVP callback, which is a
raw ctypes callback (``memmove`` for a copy, ``numpy.multiply`` for a diagonal), so the binding's
own callback copies (``hessianlr._callbacks``) are not counted either way.

Rows (``bytes`` is the traffic of the numpy reference; GB/s = bytes / time for both sides, so
ratio = numpy time / library time, > 1 means the library is faster):

- ``observe_host``: ``hlr_tuner_observe_host_*`` (HessianLR tuner, one group, direction g, HVP =
  copy): gᵀg and gᵀ(Hg) in float64 with the documented fixed order, plus the zeroed HVP output
  buffer the host-mode contract requires. numpy: ``np.dot(g, g) + np.dot(g, hg)`` (3n reads).
  Host mode of a tuner has no thread setting: the ``threads`` column only changes numpy.
- ``hutchinson/probe``: ``hlr_estimator_run_host_*`` (Hutchinson, Rademacher, ``threads``),
  (wall − HVP) / probes: per probe the probe fill, the zeroed HVP output, the non-finite scan of
  it and zᵀHz. numpy per probe: ``rng.random(out=z)`` (numpy's own random fill, PCG64),
  ``hz.fill(0)``, ``np.isfinite(hz).all()``, ``np.dot(z, hz)`` (5n of traffic).
- ``probe_fill/<dist>``: ``hlr_probe_fill_*`` (one thread: the function has no thread setting).
  numpy: ``rng.random(out=)`` for Rademacher, ``rng.standard_normal(out=)`` for Gaussian
  (numpy's fastest fills; they are not the library's counter-based values).
- ``lanczos/reorth``: ``hlr_estimator_run_host_*`` (Lanczos, ``max_dimension`` k, Rademacher
  start, diagonal HVP, ``threads``): k steps of two classical Gram–Schmidt passes (dots then
  axpys against the whole basis) plus norms and scales. numpy: the same Lanczos with the basis
  in a (k+1)×n array, each pass as two matrix-vector products (``Q @ w``, ``Q.T @ c``: BLAS
  gemv, which reads the basis twice and w once per pass while the library's dot/axpy sequence
  reads w once per basis vector). Bytes: 4 passes over the used basis per step.

Usage: ``python benchmarks/kernels/bench_api_kernels.py --out DIR [--sizes 1e6,1e7,1e8]
[--threads 1,2] [--repeats 5]``. Run it with ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE``
unset (``make bench-kernels`` does): they can pin OpenBLAS to a slower kernel. The numpy BLAS
in use (threadpoolctl) is printed and recorded.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import hessianlr as h
from machine import describe
from hessianlr import _lib
from hessianlr.estimators import Result

CLOCK = time.perf_counter
GIB = 1e9
MEMORY_BUDGET = 20e9  # bytes the benchmark may hold at once (the machine has 24 GB)


class Callback:
    """A raw ``hlr_hvp_*`` callback that times itself: ``kind`` "copy" or a diagonal array."""

    def __init__(self, dtype, diagonal=None):
        self.dtype = np.dtype(dtype)
        self.size = self.dtype.itemsize
        self.diagonal = diagonal
        self.spent = 0.0
        self.calls = 0
        pointer = ctypes.POINTER(ctypes.c_float if self.dtype == np.float32 else ctypes.c_double)
        self.pointer_type = pointer
        make = _lib.HVP_F32 if self.dtype == np.float32 else _lib.HVP_F64
        self.function = make(self._call)

    def _call(self, _ctx, v, out, n):
        start = CLOCK()
        if self.diagonal is None:
            ctypes.memmove(out, v, n * self.size)
        else:
            np.multiply(self.diagonal, np.ctypeslib.as_array(v, shape=(n,)),
                        out=np.ctypeslib.as_array(out, shape=(n,)))
        self.spent += CLOCK() - start
        self.calls += 1
        return 0

    def reset(self):
        self.spent, self.calls = 0.0, 0


def suffix(dtype):
    return "f32" if np.dtype(dtype) == np.float32 else "f64"


def check(code, what):
    if code != 0:
        raise RuntimeError(f"{what} returned {code}: {_lib.last_error()}")


# --- the library side (each returns seconds of library time) ---------------------------------

def ours_observe(g, callback):
    name = f"hlr_tuner_observe_host_{suffix(g.dtype)}"
    with h.HessianLR(initial_lr=1.0) as tuner:
        callback.reset()
        start = CLOCK()
        code = getattr(_lib.lib, name)(tuner._handle, 0, g.ctypes.data_as(callback.pointer_type), None,
                                       g.size, None, 0, callback.function, None)
        wall = CLOCK() - start
    check(code, name)
    return wall - callback.spent


def ours_estimator(estimator, n, dtype, callback):
    name = f"hlr_estimator_run_host_{suffix(dtype)}"
    callback.reset()
    start = CLOCK()
    code = getattr(_lib.lib, name)(estimator._handle, n, callback.function, None)
    wall = CLOCK() - start
    check(code, name)
    return wall - callback.spent


def ours_fill(out, distribution):
    name = f"hlr_probe_fill_{suffix(out.dtype)}"
    pointer = ctypes.POINTER(ctypes.c_float if out.dtype == np.float32 else ctypes.c_double)
    start = CLOCK()
    code = getattr(_lib.lib, name)(7, 3, 1, int(distribution), 0, out.ctypes.data_as(pointer), out.size)
    elapsed = CLOCK() - start
    check(code, name)
    return elapsed


# --- the numpy side ----------------------------------------------------------------------------

def numpy_observe(g, hg):
    start = CLOCK()
    s = np.dot(g, g)
    c = np.dot(g, hg)
    elapsed = CLOCK() - start
    assert np.isfinite(s) and np.isfinite(c)
    return elapsed


def numpy_hutchinson_probe(rng, z, hz):
    """Seconds of one probe's non-HVP work in numpy (the copy standing in for the HVP is not
    counted)."""
    start = CLOCK()
    rng.random(out=z, dtype=z.dtype)
    hz.fill(0)
    before_hvp = CLOCK()
    hz[:] = z
    after_hvp = CLOCK()
    finite = np.isfinite(hz).all()
    value = np.dot(z, hz)
    end = CLOCK()
    assert finite and np.isfinite(value)
    return (before_hvp - start) + (end - after_hvp)


def numpy_lanczos(rng, diagonal, basis, steps):
    """k steps of Lanczos with two CGS passes as gemv; returns seconds excluding the HVPs."""
    hvp_time = 0.0
    start = CLOCK()
    q = basis[0]
    rng.random(out=q, dtype=q.dtype)
    q /= np.sqrt(np.dot(q, q))
    for j in range(steps):
        t = CLOCK()
        w = basis[j + 1]
        np.multiply(diagonal, basis[j], out=w)
        hvp_time += CLOCK() - t
        used = basis[: j + 1]
        for _ in range(2):
            c = used @ w
            w -= used.T @ c
        beta = np.sqrt(np.dot(w, w))
        w /= beta
    return CLOCK() - start - hvp_time


# --- rows --------------------------------------------------------------------------------------

def interleaved(repeats, a, b):
    """Median seconds of a() and b(), called alternately (a first, then b first, …)."""
    times_a, times_b = [], []
    for round_ in range(repeats):
        if round_ % 2 == 0:
            times_a.append(a())
            times_b.append(b())
        else:
            times_b.append(b())
            times_a.append(a())
    return statistics.median(times_a), statistics.median(times_b)


def row(kernel, dtype, n, threads, bytes_, ours, numpy_, note=""):
    return {
        "kernel": kernel, "dtype": np.dtype(dtype).name, "n": n, "threads": threads,
        "ours_ms": ours * 1e3, "numpy_ms": numpy_ * 1e3,
        "ours_gbs": bytes_ / ours / GIB, "numpy_gbs": bytes_ / numpy_ / GIB,
        "ratio": numpy_ / ours, "note": note,
    }


def run(args):
    rows = []
    rng = np.random.default_rng(0)
    for n in args.sizes:
        for dtype in (np.float32, np.float64):
            size = np.dtype(dtype).itemsize
            if 4 * n * size > MEMORY_BUDGET:
                print(f"skip n={n:.0e} {np.dtype(dtype).name}: over the memory budget", flush=True)
                continue
            g = rng.standard_normal(n, dtype=np.float64).astype(dtype)
            hg = g.copy()
            z = np.empty(n, dtype)
            hz = np.zeros(n, dtype)
            copy = Callback(dtype)
            for threads in args.threads:
                with threadpool_limits(threads):
                    ours, ref = interleaved(args.repeats, lambda: ours_observe(g, copy),
                                            lambda: numpy_observe(g, hg))
                    rows.append(row("observe_host", dtype, n, threads, 3 * n * size, ours, ref,
                                    "library single-threaded (no thread setting)"))
                    print_row(rows[-1])

                    probes = 3
                    est = h.Hutchinson(samples=probes, min_samples=probes, threads=threads)

                    def numpy_probes():
                        return sum(numpy_hutchinson_probe(rng, z, hz) for _ in range(probes)) / probes

                    ours, ref = interleaved(
                        args.repeats, lambda: ours_estimator(est, n, dtype, copy) / probes, numpy_probes)
                    est.close()
                    rows.append(row("hutchinson/probe", dtype, n, threads, 5 * n * size, ours, ref))
                    print_row(rows[-1])

                    steps = args.lanczos_steps
                    if (2 * steps + 6) * n * size <= 12e9:  # library basis + numpy basis + buffers
                        diagonal = np.linspace(1.0, 2.0, n, dtype=dtype)
                        diag_callback = Callback(dtype, diagonal)
                        lanczos = h.Lanczos(max_dimension=steps, tolerance=1e-300, distribution="rademacher",
                                            threads=threads)
                        basis = np.empty((steps + 1, n), dtype)

                        def ours_lanczos():
                            seconds = ours_estimator(lanczos, n, dtype, diag_callback)
                            done = int(lanczos._scalar(Result.ITERATIONS))
                            assert done == steps, f"Lanczos ran {done} steps, expected {steps}"
                            return seconds

                        ours, ref = interleaved(args.repeats, ours_lanczos,
                                                lambda: numpy_lanczos(rng, diagonal, basis, steps))
                        lanczos.close()
                        del basis
                        reorth_bytes = sum(4 * (j + 1) for j in range(steps)) * n * size
                        rows.append(row("lanczos/reorth", dtype, n, threads, reorth_bytes, ours, ref,
                                        f"k = {steps}; numpy as gemv"))
                        print_row(rows[-1])
            with threadpool_limits(1):
                for name, distribution, fill in (("rademacher", 1, rng.random), ("gaussian", 2, None)):
                    if distribution == 2 and n > args.gaussian_max:
                        continue

                    def numpy_fill():
                        start = CLOCK()
                        if distribution == 1:
                            rng.random(out=z, dtype=z.dtype)
                        else:
                            rng.standard_normal(out=z, dtype=z.dtype)
                        return CLOCK() - start

                    ours, ref = interleaved(args.repeats, lambda: ours_fill(hz, distribution), numpy_fill)
                    rows.append(row(f"probe_fill/{name}", dtype, n, 1, n * size, ours, ref,
                                    "hlr_probe_fill_* (no thread setting)"))
                    print_row(rows[-1])
            del g, hg, z, hz
    return rows


HEADER = f"{'kernel':<18} {'dtype':<8} {'n':>6} {'thr':>3} {'ours ms':>9} {'numpy ms':>9} {'ours GB/s':>9} {'np GB/s':>8} {'ratio':>6}"


def print_row(r):
    print(f"{r['kernel']:<18} {r['dtype']:<8} {r['n']:>6.0e} {r['threads']:>3} {r['ours_ms']:>9.2f} "
          f"{r['numpy_ms']:>9.2f} {r['ours_gbs']:>9.2f} {r['numpy_gbs']:>8.2f} {r['ratio']:>6.2f}", flush=True)


def markdown(rows, meta):
    lines = [
        f"numpy {meta['numpy']}, BLAS: {meta['blas']}; {meta['cpu']}, {meta['cores']} cores; "
        f"repeats {meta['repeats']} (median).",
        "",
        "| kernel | dtype | n | threads | ours ms | numpy ms | ours GB/s | numpy GB/s | ratio (numpy/ours) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['kernel']} | {r['dtype']} | {r['n']:.0e} | {r['threads']} | {r['ours_ms']:.2f} | "
                     f"{r['numpy_ms']:.2f} | {r['ours_gbs']:.2f} | {r['numpy_gbs']:.2f} | {r['ratio']:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--sizes", default="1e6,1e7,1e8")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--lanczos-steps", type=int, default=8)
    parser.add_argument("--gaussian-max", type=float, default=1e7,
                        help="largest n for the Gaussian fill rows (slow: log and cos per element)")
    args = parser.parse_args(argv)
    args.sizes = [int(float(s)) for s in args.sizes.split(",")]
    args.threads = [int(t) for t in args.threads.split(",")]
    machine = describe()
    blas, cpu = machine["blas"], machine["cpu"]
    meta = {"numpy": np.__version__, "blas": blas, "cpu": cpu, "cores": machine["cores"],
            "repeats": args.repeats, "sizes": args.sizes, "threads": args.threads,
            "library": str(_lib.library_path),
            "command": " ".join(sys.argv)}
    print(f"numpy {np.__version__}; BLAS {blas}; {cpu}, {machine['cores']} cores")
    print(HEADER)
    rows = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "kernels.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    (args.out / "kernels.md").write_text(markdown(rows, meta))
    print(f"wrote {args.out / 'kernels.json'} and {args.out / 'kernels.md'}")


if __name__ == "__main__":
    main()
