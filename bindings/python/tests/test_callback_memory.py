"""Arrays handed to host-mode callbacks are Python-owned (issue 11, item 9): a callback that keeps
the arrays it was given and reads them after the call must not crash the process, and sees the
values it was given; the caller's own buffers are still passed without copying."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import hessianlr as h

from reference import Quadratic

#: Large enough that the library's buffers are returned to the OS when freed (this crashed).
BIG = 4_000_000

KEEP_AND_READ_LATER = textwrap.dedent("""
    import gc, sys
    import numpy as np
    import hessianlr as h

    n, dtype, case = int(sys.argv[1]), np.dtype(sys.argv[2]), sys.argv[3]
    d = np.linspace(0.5, 2.0, n).astype(dtype)
    kept, seen = [], []

    def hvp(v, out):
        np.multiply(d, v, out=out)
        kept.append((v, out))
        seen.append((v.copy(), out.copy()))

    def loss(w):
        kept.append((w,))
        seen.append((w.copy(),))
        return float(0.5 * np.dot((w * d).astype(np.float64), w.astype(np.float64)))

    w = np.linspace(-1.0, 1.0, n).astype(dtype)
    g = (d * w).astype(dtype)
    if case == "hutchinson":
        h.Hutchinson(samples=3).run_host(n, hvp, dtype=dtype)
    elif case == "diagonal":
        h.Diagonal(samples=2).run_host(n, hvp, dtype=dtype)
    elif case == "gen":
        h.GeN(update_period=1).step_host(0, w, g, loss=loss)
    elif case == "armijo":
        h.Armijo().step_host(0, w, g, loss=loss)
    elif case == "hessianlr-groups":
        h.HessianLR(groups=2, update_period=1).step_host(0, w, g, group_offsets=[0, n // 3, n], hvp=hvp)
    elif case == "observe-groups":
        h.CDAT(groups=2).observe_host(0, g, hvp, update=g, group_offsets=[0, n // 2, n])
    del w, g  # the caller's own buffers go too: views handed out of them must keep them alive
    gc.collect()
    assert kept, "no callback ran"
    for arrays, copies in zip(kept, seen):
        for array, copy in zip(arrays, copies):
            assert np.array_equal(array, copy), "a kept array changed after its callback returned"
    print("ok", len(kept))
""")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", ["hutchinson", "diagonal", "gen", "armijo", "hessianlr-groups", "observe-groups"])
def test_keeping_callback_arrays_and_reading_them_later_is_safe(case, dtype):
    """In a subprocess, so that a crash fails this test instead of killing pytest."""
    result = subprocess.run([sys.executable, "-c", KEEP_AND_READ_LATER, str(BIG), dtype, case],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"exit status {result.returncode}: {result.stderr[-2000:]}"
    assert result.stdout.startswith("ok ")


def test_buffers_are_reused_unless_kept_and_kept_ones_are_never_overwritten():
    problem = Quadratic(8, seed=2)
    addresses, kept = [], []

    def hvp(v, out):
        addresses.append((v.ctypes.data, out.ctypes.data))
        problem.hvp(v, out)
        if len(addresses) == 2:  # keep the second call's arrays only
            kept.extend([v, out[2:]])  # a slice keeps its buffer too
            kept.append((v.copy(), out.copy()))

    result = h.Hutchinson(samples=5).run_host(8, hvp)
    assert result.hvps == 5
    first, second, third, fourth, _ = addresses
    assert first == second  # not kept after the first call: reused
    assert third[0] != second[0] and third[1] != second[1]  # kept after the second: new buffers
    assert fourth == third
    v, out_tail, (v_then, out_then) = kept
    assert np.array_equal(v, v_then) and np.array_equal(out_tail, out_then[2:])


def test_results_do_not_depend_on_whether_a_callback_keeps_its_arrays():
    problem = Quadratic(30, seed=9)
    kept = []

    def keeping(v, out):
        problem.hvp(v, out)
        kept.append((v, out))

    plain = h.Lanczos(count=2, compute_vectors=True).run_host(30, problem.hvp)
    keeper = h.Lanczos(count=2, compute_vectors=True).run_host(30, keeping)
    assert np.array_equal(plain.eigenvalues, keeper.eigenvalues)
    assert np.array_equal(plain.eigenvectors, keeper.eigenvectors)
    assert len(kept) == plain.hvps

    w = np.linspace(-1, 1, 30)
    losses = []

    def keeping_loss(trial):
        losses.append(trial)
        return problem.loss(trial)

    rates = []
    for loss in (problem.loss, keeping_loss):
        with h.GeN(update_period=1) as tuner:
            for t in range(4):
                tuner.step_host(t, w, problem.gradient(w), loss=loss)
            rates.append(tuner.lrs(3))
    assert rates[0] == rates[1] and losses


def test_the_callers_own_buffers_are_lent_without_copying_and_stay_alive():
    problem = Quadratic(6, seed=1)
    kept = []

    def hvp(v, out):
        kept.append(v)
        problem.hvp(v, out)

    g = problem.gradient(np.ones(6))
    address, values = g.ctypes.data, g.copy()
    with h.HessianLR(update_period=1) as tuner:
        tuner.observe_host(0, g, hvp)
    (v,) = kept
    assert v.ctypes.data == address and not v.flags.writeable  # the caller's buffer, read-only
    del g
    assert np.array_equal(v, values)  # the view keeps the caller's array alive


def test_a_raising_callback_does_not_reuse_buffers_its_traceback_holds():
    problem = Quadratic(5)
    grabbed = []

    class Boom(Exception):
        pass

    def hvp(v, out):
        grabbed.append((v, out))
        raise Boom

    estimator = h.Hutchinson(samples=3)
    with pytest.raises(h.CallbackError) as info:
        estimator.run_host(5, hvp)
    assert isinstance(info.value.__cause__, Boom) and len(grabbed) == 1
    assert estimator.run_host(5, problem.hvp).hvps == 3
