"""The Python estimator API (hessianlr.Lanczos, ..., SpectralDensity) on dense symmetric matrices
with known spectra: against numpy.linalg.eigvalsh and the exact trace / diagonal, host (float64 and
float32) and ops runs agreeing, bad inputs raising the library's message, callbacks' exceptions
chained, and no vector leaked by an ops run, successful or not.

Statistical checks use fixed seeds; their tolerances are stated next to them (k standard errors).
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import hessianlr as h
from hessianlr import EstimatorKind, Termination
from hessianlr.estimators import ESTIMATOR_CLASSES, NumpyVectors, ProbeStream

N = 60


def symmetric(n=N, seed=0, spectrum=None):
    """Q diag(spectrum) Qᵀ with a random orthogonal Q (default spectrum: a spread of ± values)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    if spectrum is None:
        spectrum = np.concatenate([np.linspace(-2.0, 3.0, n - 3), [5.0, 7.0, 10.0]])
    a = (q * spectrum) @ q.T
    return 0.5 * (a + a.T)


def hvp_of(a):
    def hvp(v, out):
        out[:] = a.astype(v.dtype) @ v if v.dtype == np.float32 else a @ v

    return hvp


class CountingVectors(NumpyVectors):
    """NumpyVectors counting the vectors alive (allocated and not released)."""

    def __init__(self, *args, fail_at=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.live = 0
        self.calls = 0
        self.fail_at = fail_at

    def zeros(self):
        self.live += 1
        return super().zeros()

    def release(self, v):
        self.live -= 1

    def hvp(self, v, out):
        self.calls += 1
        if self.fail_at is not None and self.calls == self.fail_at:
            raise ZeroDivisionError("boom in hvp")
        super().hvp(v, out)


# -- parameters ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(EstimatorKind))
def test_a_class_takes_every_parameter_and_writes_no_default(kind):
    cls = ESTIMATOR_CLASSES[kind]
    library = {key.name.lower(): bounds for key, bounds in h.estimator_params(kind).items()}
    spelled = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
               if name not in ("self", "seed", "blocks")}
    assert set(spelled) == set(library), (set(spelled) ^ set(library))
    assert all(default is None for default in spelled.values()), spelled  # the library's defaults
    with cls() as est:
        for name, bounds in library.items():
            assert est.get_param(name) == bounds.default, name


def test_parameters_by_name_and_choice_names():
    with h.Lanczos(count=2, which="LA", distribution="rademacher", seed=7) as est:
        assert est.get_param("which") == h.Which.LARGEST_ALGEBRAIC
        assert est.get_param("distribution") == h.ProbeDistribution.RADEMACHER
        assert est.seed == 7
        est.seed = 2**64 - 1
        assert est.seed == 2**64 - 1
        est.set_param("which", "smallest_algebraic")
        assert est.get_param(h.EstimatorParam.WHICH) == h.Which.SMALLEST_ALGEBRAIC
        assert "count=2" in repr(est)
    assert repr(est) == "<Lanczos closed>"
    assert h.estimator_param_bounds(EstimatorKind.LANCZOS, "max_dimension").default == 128


def test_bad_inputs_raise_the_library_message():
    with pytest.raises(h.InvalidArgumentError, match=r"count must be in \[1.0, 65536.0\], got 0.0"):
        h.Lanczos(count=0)
    with pytest.raises(h.InvalidArgumentError, match="count must be an integer, got 1.5"):
        h.Lanczos(count=1.5)
    with pytest.raises(h.UnknownKeyError, match="has no parameter samples"):
        h.Estimator(EstimatorKind.LANCZOS, samples=3)
    with pytest.raises(h.UnknownKeyError, match="unknown estimator parameter 'sampels'"):
        h.Hutchinson().set_param("sampels", 3)
    with pytest.raises(h.InvalidArgumentError, match="which must be one of"):
        h.Lanczos(which="biggest")
    with pytest.raises(h.UnknownMethodError):
        h.Estimator(99)
    with pytest.raises(h.InvalidArgumentError, match="seed must be in"):
        h.Hutchinson(seed=-1)
    a = symmetric(5)
    # Constraints against n are checked when the run starts, before any HVP.
    calls = []

    def hvp(v, out):
        calls.append(1)
        out[:] = a @ v

    with pytest.raises(h.InvalidArgumentError, match=r"count \(k\) must be in 1...5"):
        h.Lanczos(count=6).run_host(5, hvp)
    with pytest.raises(h.InvalidArgumentError, match="matvecs"):
        h.HutchPlusPlus(matvecs=10, sketch_size=5).run_host(5, hvp)
    with pytest.raises(h.InvalidArgumentError, match="offsets"):
        h.Hutchinson(blocks=[0, 2, 4]).run_host(5, hvp)
    assert calls == []
    with pytest.raises(TypeError, match="float32 or float64"):
        h.Hutchinson().run_host(5, hvp, dtype=np.int32)
    est = h.Hutchinson()
    est.close()
    with pytest.raises(h.InvalidHandleError):
        est.run_host(5, hvp)


def test_callback_exception_is_chained_and_results_kept():
    a = symmetric()
    est = h.Hutchinson(samples=5)
    first = est.run_host(N, hvp_of(a))

    def failing(v, out):
        raise KeyError("my bug")

    with pytest.raises(h.CallbackError) as info:
        est.run_host(N, failing)
    assert isinstance(info.value.__cause__, KeyError)
    assert "hvp" in str(info.value)
    # The handle keeps its configuration and the results of its previous run.
    assert est._scalar(h.Result.TRACE) == first.trace
    assert est.get_param("samples") == 5

    def nan(v, out):
        out[:] = np.nan

    with pytest.raises(h.NonFiniteError):
        est.run_host(N, nan)


def test_non_symmetric_operator_is_refused():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(N, N))
    with pytest.raises(h.InvalidArgumentError, match="not symmetric"):
        h.Lanczos(count=2).run_host(N, hvp_of(a))


# -- eigenvalues --------------------------------------------------------------------------------

@pytest.mark.parametrize("which, pick", [
    ("largest_algebraic", lambda ev: ev[::-1][:3]),
    ("smallest_algebraic", lambda ev: ev[:3]),
    ("largest_magnitude", lambda ev: ev[np.argsort(-np.abs(ev), kind="stable")][:3]),
])
def test_lanczos_matches_eigvalsh(which, pick):
    a = symmetric()
    exact = pick(np.linalg.eigvalsh(a))
    result = h.Lanczos(count=3, which=which, tolerance=1e-12, seed=3).run_host(N, hvp_of(a))
    assert result.converged and result.termination in (Termination.CONVERGED, Termination.EXHAUSTED)
    np.testing.assert_allclose(result.eigenvalues, exact, rtol=1e-10, atol=1e-12)
    assert result.hvps == result.iterations <= N
    assert np.all(result.residuals <= 1e-10 * np.abs(result.eigenvalues).max())
    assert result.timing.wall >= result.timing.hvp > 0


@pytest.mark.parametrize("epsilon", [1e-4, 1e-6, 1e-9])
def test_lanczos_eigenvalue_tolerance_meets_the_requested_accuracy(epsilon):
    a = symmetric(seed=7)
    exact = np.linalg.eigvalsh(a)[::-1][:2]
    strict = h.Lanczos(count=2, which="LA", seed=1).run_host(N, hvp_of(a))
    result = h.Lanczos(count=2, which="LA", eigenvalue_tolerance=epsilon, seed=1).run_host(N, hvp_of(a))
    assert result.converged and result.termination == Termination.CONVERGED
    assert result.hvps < strict.hvps
    errors = np.abs(result.eigenvalues - exact)
    assert np.all(errors <= epsilon * np.abs(exact))
    assert np.all(errors <= result.error_bounds + 1e-15 * np.abs(exact))
    assert np.all(result.error_bounds <= result.residuals)
    assert h.Lanczos().params()["eigenvalue_tolerance"] == 0.0


def test_lanczos_float32_and_ops_backends_agree_with_host():
    a = symmetric(seed=5)
    exact = np.linalg.eigvalsh(a)[::-1][:2]
    est = h.Lanczos(count=2, which="LA", tolerance=1e-10, compute_vectors=True, seed=11)
    host = est.run_host(N, hvp_of(a))
    backend = CountingVectors(N, hvp_of(a))
    ops = est.run_ops(backend)
    np.testing.assert_allclose(ops.eigenvalues, host.eigenvalues, rtol=1e-13)
    assert ops.hvps == host.hvps
    assert isinstance(ops.eigenvectors, list) and len(ops.eigenvectors) == 2
    assert backend.live == 2  # the two eigenvectors now belong to the caller; nothing else leaked
    for k in range(2):
        host_vector, ops_vector = host.eigenvectors[k], ops.eigenvectors[k]
        assert abs(abs(host_vector @ ops_vector) - 1) < 1e-10
        np.testing.assert_allclose(a @ ops_vector, exact[k] * ops_vector, atol=1e-8)
    single = est.run_host(N, hvp_of(a), dtype=np.float32)
    np.testing.assert_allclose(single.eigenvalues, exact, rtol=1e-5)
    assert host.eigenvectors.shape == (2, N)


def test_power_iteration_matches_top_eigenvalues():
    a = symmetric(spectrum=np.concatenate([np.linspace(0.0, 1.0, N - 2), [4.0, 8.0]]))
    result = h.PowerIteration(count=2, tolerance=1e-12, max_iterations=500, seed=1).run_host(N, hvp_of(a))
    np.testing.assert_allclose(result.eigenvalues, [8.0, 4.0], rtol=1e-9)
    assert result.converged.tolist() == [True, True]
    assert result.hvps == int(result.iterations.sum())
    default = h.PowerIteration().run_host(N, hvp_of(a))  # PyHessian's rule: relative change < 1e-3
    assert abs(default.eigenvalues[0] - 8.0) / 8.0 < 1e-2


# -- traces -------------------------------------------------------------------------------------

def test_hutchinson_exact_on_diagonal_and_within_errors_on_dense():
    d = np.linspace(-1.0, 4.0, N)
    exact_diag = h.Hutchinson(samples=3).run_host(N, lambda v, out: np.multiply(d, v, out=out))
    assert exact_diag.trace == pytest.approx(d.sum(), rel=1e-13)  # Rademacher: zᵢ² = 1
    a = symmetric()
    offsets = [0, 20, 45, N]
    result = h.Hutchinson(samples=400, seed=9, blocks=offsets).run_host(N, hvp_of(a))
    assert result.hvps == result.samples == 400
    assert abs(result.trace - np.trace(a)) <= 4 * result.standard_error  # 4σ: fails with p < 1e-4
    assert result.block_traces.sum() == pytest.approx(result.trace, rel=1e-12)
    exact_blocks = [np.trace(a[s:e, s:e]) for s, e in zip(offsets[:-1], offsets[1:])]
    assert np.all(np.abs(result.block_traces - exact_blocks) <= 4 * result.block_trace_errors)


def test_hutchinson_adaptive_rule():
    a = symmetric(spectrum=np.linspace(1.0, 2.0, N))  # PSD: small relative variance
    result = h.Hutchinson(samples=10_000, relative_tolerance=0.01, seed=2).run_host(N, hvp_of(a))
    assert result.converged and 10 <= result.samples < 10_000
    assert result.standard_error <= 0.01 * abs(result.trace)
    assert result.relative_standard_error <= 0.01


def test_hutch_plus_plus_exact_with_full_sketch_and_accurate_on_psd():
    a = symmetric(n=20, spectrum=np.linspace(-1.0, 2.0, 20))
    full = h.HutchPlusPlus(matvecs=41, sketch_size=20).run_host(20, hvp_of(a))
    assert full.sketch_rank == 20 and full.trace == pytest.approx(np.trace(a), rel=1e-12, abs=1e-12)
    decaying = 1.0 / np.arange(1, N + 1) ** 2
    b = symmetric(spectrum=decaying)
    plus = h.HutchPlusPlus(matvecs=30, seed=4).run_host(N, hvp_of(b))
    assert plus.hvps == 30 and plus.sketch_rank == 10 and plus.samples == 10
    assert abs(plus.trace - decaying.sum()) / decaying.sum() < 1e-2
    with h.HutchPlusPlus(matvecs=1000, sketch_size=10, relative_tolerance=1e-3, seed=4) as adaptive:
        result = adaptive.run_host(N, hvp_of(b))
    assert result.converged and result.hvps < 1000


def test_xtrace_is_unbiased_and_beats_hutch_plus_plus_on_psd():
    n = 120
    rng = np.random.default_rng(3)
    u, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = (u * (1.0 / (np.arange(n) + 1) ** 1.5)) @ u.T
    exact = np.trace(a)
    x = [h.XTrace(matvecs=30, seed=s).run_host(n, hvp_of(a)) for s in range(40)]
    p = [h.HutchPlusPlus(matvecs=30, seed=s).run_host(n, hvp_of(a)) for s in range(40)]
    assert all(r.hvps == 30 and r.samples == 15 and r.sketch_rank == 15 and r.converged for r in x)
    estimates = np.array([r.trace for r in x])
    assert abs(estimates.mean() - exact) <= 4 * estimates.std(ddof=1) / np.sqrt(40)
    assert np.median(np.abs(estimates - exact)) < np.median([abs(r.trace - exact) for r in p])
    # The reported standard error tracks the spread over seeds (within a factor 2).
    assert 0.5 < np.mean([r.standard_error for r in x]) / estimates.std(ddof=1) < 2
    # Low rank: exact through the fallback, the whole budget spent.
    low = (u[:, :4] * [3.0, 1.0, -0.5, 0.25]) @ u[:, :4].T
    r = h.XTrace(matvecs=20).run_host(n, hvp_of(low))
    assert r.sketch_rank == 4 and abs(r.trace - 3.75) < 1e-12 and r.hvps == 20
    with pytest.raises(h.InvalidArgumentError, match="matvecs"):
        h.XTrace(matvecs=1)


def test_diagonal_exact_for_diagonal_and_close_for_dense():
    d = np.linspace(-1.0, 4.0, N)
    exact = h.Diagonal(samples=1).run_host(N, lambda v, out: np.multiply(d, v, out=out))
    np.testing.assert_array_equal(exact.diagonal, d)
    a = symmetric()
    m = 2000
    result = h.Diagonal(samples=m, seed=3, blocks=[0, 30, N]).run_host(N, hvp_of(a))
    # Per element: variance Σ_{j≠i} a_ij² / m; 5σ bound on the worst of 60 elements.
    sigma = np.sqrt(((a**2).sum(axis=1) - np.diag(a) ** 2) / m)
    assert np.all(np.abs(result.diagonal - np.diag(a)) <= 5 * sigma)
    assert result.trace == pytest.approx(result.diagonal.sum(), rel=1e-10)
    np.testing.assert_allclose(result.block_means, [result.diagonal[:30].mean(), result.diagonal[30:].mean()],
                               rtol=1e-10)


def test_diagonal_ops_requires_mul_acc():
    class NoMulAcc(NumpyVectors):
        mul_acc = None

    with pytest.raises(h.NullPointerError, match="mul_acc"):
        h.Diagonal(samples=2).run_ops(NoMulAcc(N, hvp_of(symmetric())))


def test_xdiag_beats_hutchinson_diagonal_and_is_exact_on_low_rank():
    n = 120
    rng = np.random.default_rng(5)
    u, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = (u * ((-1.0) ** np.arange(n) / (np.arange(n) + 1))) @ u.T
    exact = np.diag(a)

    def error(d):
        return np.linalg.norm(d - exact) / np.linalg.norm(exact)

    x = [h.XDiag(matvecs=40, seed=s).run_host(n, hvp_of(a)) for s in range(10)]
    plain = [h.Diagonal(samples=40, seed=s).run_host(n, hvp_of(a)) for s in range(10)]
    assert all(r.hvps == 40 and r.samples == 20 and r.sketch_rank == 20 and r.max_asymmetry < 1e-10 for r in x)
    # Measured: median relative L2 error 0.245 (XDiag) vs 0.913 (Hutchinson's diagonal), 40 HVPs.
    assert np.median([error(r.diagonal) for r in x]) < 0.5 * np.median([error(r.diagonal) for r in plain])
    assert x[0].trace == pytest.approx(x[0].diagonal.sum(), rel=1e-10)
    # Same estimate through the ops backend and in float32 (up to rounding).
    ops = h.XDiag(matvecs=40, seed=0).run_ops(NumpyVectors(n, hvp_of(a)))
    np.testing.assert_allclose(ops.diagonal, x[0].diagonal, rtol=0, atol=1e-12)
    single = h.XDiag(matvecs=40, seed=0).run_host(n, hvp_of(a), dtype=np.float32)
    np.testing.assert_allclose(single.diagonal, x[0].diagonal, rtol=0, atol=1e-4)
    blocked = h.XDiag(matvecs=40, seed=0, blocks=[0, 50, n]).run_host(n, hvp_of(a))
    np.testing.assert_array_equal(blocked.diagonal, x[0].diagonal)
    np.testing.assert_allclose(blocked.block_means, [x[0].diagonal[:50].mean(), x[0].diagonal[50:].mean()],
                               rtol=1e-12)
    # Block standard errors (the jackknife over leaving one test vector out): finite, positive, and
    # the same through the ops backend.
    assert blocked.block_mean_errors.shape == (2,) and np.all(np.isfinite(blocked.block_mean_errors))
    assert np.all(blocked.block_mean_errors > 0)
    blocked_ops = h.XDiag(matvecs=40, seed=0, blocks=[0, 50, n]).run_ops(NumpyVectors(n, hvp_of(a)))
    np.testing.assert_allclose(blocked_ops.block_mean_errors, blocked.block_mean_errors, rtol=1e-9)
    assert not x[0].exact
    # A budget ≥ 2n: the sketch spans the space, the result is exact and says so.
    small = a[:12, :12] + a[:12, :12].T
    whole = h.XDiag(matvecs=30, blocks=[0, 5, 12]).run_host(12, hvp_of(small))
    assert whole.exact and whole.sketch_rank == 12 and whole.samples == 0
    np.testing.assert_allclose(whole.diagonal, np.diag(small), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(whole.block_mean_errors, [0.0, 0.0])
    # Low rank: exact through the fallback, the whole budget spent.
    low = (u[:, :4] * [3.0, 1.0, -0.5, 0.25]) @ u[:, :4].T
    r = h.XDiag(matvecs=20).run_host(n, hvp_of(low))
    assert r.sketch_rank == 4 and r.hvps == 20
    np.testing.assert_allclose(r.diagonal, np.diag(low), rtol=0, atol=1e-12)
    with pytest.raises(h.InvalidArgumentError, match="matvecs"):
        h.XDiag(matvecs=1)
    with pytest.raises(h.InvalidArgumentError, match="not symmetric"):
        h.XDiag(matvecs=20).run_host(N, hvp_of(np.random.default_rng(1).normal(size=(N, N))))

    class NoMulAcc(NumpyVectors):
        mul_acc = None

    with pytest.raises(h.NullPointerError, match="mul_acc"):
        h.XDiag(matvecs=4).run_ops(NoMulAcc(N, hvp_of(symmetric())))


# -- spectral density ---------------------------------------------------------------------------

def test_spectral_density_quadrature_is_exact_at_full_dimension():
    spectrum = np.concatenate([np.linspace(-1.0, 1.0, 40), [3.0, 6.0]])
    n = spectrum.size
    a = symmetric(n=n, spectrum=spectrum)
    result = h.SpectralDensity(runs=3, steps=n, seed=5).run_host(n, hvp_of(a))
    assert result.runs == 3 and result.hvps <= 3 * n
    for nodes, weights in zip(result.nodes, result.weights):
        assert weights.sum() == pytest.approx(1.0, abs=1e-12)
        assert nodes.min() >= spectrum.min() - 1e-9 and nodes.max() <= spectrum.max() + 1e-9
        np.testing.assert_allclose(nodes, spectrum, atol=1e-8)  # the whole spectrum, exactly
    grid_step = np.diff(result.grid)
    assert np.allclose(grid_step, grid_step[0])
    integral = np.sum(0.5 * (result.density[1:] + result.density[:-1]) * grid_step)
    assert integral == pytest.approx(1.0, abs=1e-9)
    nodes, weights = result.measure()
    assert weights.sum() == pytest.approx(1.0) and np.all(np.diff(nodes) >= 0)
    # Every run's rule integrates polynomials of degree < 2·steps exactly: the mean of θ is vᵀHv/‖v‖².
    assert result.trace == pytest.approx(n * (nodes @ weights), rel=1e-10)


def test_spectral_density_ops_matches_host_and_options():
    a = symmetric()
    est = h.SpectralDensity(runs=2, steps=15, grid_points=200, sigma=0.1, grid_lower=-3, grid_upper=11, seed=8)
    host = est.run_host(N, hvp_of(a))
    backend = CountingVectors(N, hvp_of(a))
    ops = est.run_ops(backend)
    assert backend.live == 0
    for x, y in zip(host.nodes, ops.nodes):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-10)
    assert host.grid[0] == -3 and host.grid[-1] == 11 and host.grid.size == 200 and host.sigma == 0.1
    np.testing.assert_allclose(host.smoothed(host.grid), host.density, rtol=1e-6, atol=1e-9)


# -- ops runs: leaks and failures ---------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: h.Lanczos(count=2, compute_vectors=True),
    lambda: h.PowerIteration(count=2, compute_vectors=True),
    lambda: h.Hutchinson(samples=20, blocks=[0, 10, N]),
    lambda: h.HutchPlusPlus(matvecs=30),
    lambda: h.Diagonal(samples=10),
    lambda: h.XDiag(matvecs=20, blocks=[0, 10, N]),
    lambda: h.SpectralDensity(runs=2, steps=10),
])
def test_ops_runs_leak_nothing_on_success_or_failure(make):
    a = symmetric()
    with make() as est:
        backend = CountingVectors(N, hvp_of(a))
        result = est.run_ops(backend)
        returned = {EstimatorKind.LANCZOS: 2, EstimatorKind.POWER_ITERATION: 2, EstimatorKind.DIAGONAL: 1,
                    EstimatorKind.XDIAG: 1}
        assert backend.live == returned.get(est.kind, 0)
        assert result.hvps == backend.calls
        assert result.timing.vector_ops > 0
        failing = CountingVectors(N, hvp_of(a), fail_at=5)
        with pytest.raises(h.CallbackError) as info:
            est.run_ops(failing)
        assert isinstance(info.value.__cause__, ZeroDivisionError)
        assert failing.live == 0


def test_keyboard_interrupt_in_a_callback_propagates_as_is():
    def interrupted(v, out):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        h.Hutchinson().run_host(N, interrupted)


def test_vector_backend_is_checked():
    class Incomplete:
        n = 3

    with pytest.raises(TypeError, match="lacks"):
        h.Hutchinson().run_ops(Incomplete())


# -- probes and stability helpers ---------------------------------------------------------------

def test_probe_reproduces_the_fill_formula():
    rademacher = h.probe(42, ProbeStream.HUTCHINSON, 3, 1000)
    assert set(np.unique(rademacher).tolist()) == {-1.0, 1.0}
    assert abs(rademacher.mean()) < 0.15
    tail = h.probe(42, ProbeStream.HUTCHINSON, 3, 10, first=990)
    np.testing.assert_array_equal(tail, rademacher[990:])
    gaussian = h.probe(1, 1, 0, 4000, distribution="gaussian")
    assert abs(gaussian.mean()) < 0.1 and abs(gaussian.std() - 1) < 0.05
    np.testing.assert_array_equal(h.probe(1, 1, 0, 8, "gaussian", dtype=np.float32), gaussian[:8].astype(np.float32))


def test_stability_helpers():
    assert h.edge_of_stability(0.1, 30.0) == pytest.approx(1.5)
    assert h.sgd_trace_stability(0.01, 100.0) == pytest.approx(0.5)
    assert h.scaled_lr(0.1, 32, 128, "sqrt") == pytest.approx(0.2)
    assert h.scaled_lr(0.1, 32, 128) == pytest.approx(0.4)
    with pytest.raises(h.InvalidArgumentError, match="lr"):
        h.edge_of_stability(-0.1, 30.0)
    with pytest.raises(h.InvalidArgumentError, match="'linear' or 'sqrt'"):
        h.scaled_lr(0.1, 32, 128, "cubic")


def test_plain_estimator_by_kind_reads_its_results():
    a = symmetric()
    with h.Estimator(EstimatorKind.HUTCHINSON, samples=7, seed=3) as est:
        result = est.run_host(N, hvp_of(a))
    assert isinstance(result, h.TraceResult) and result.samples == 7 and result.sketch_rank is None
    assert result.trace == h.Hutchinson(samples=7, seed=3).run_host(N, hvp_of(a)).trace


def test_symmetry_checks_refuse_a_skewed_operator_and_pass_a_symmetric_one():
    """Power iteration, Hutch++ and XTrace check symmetry for free (on by default); Hutchinson and
    the diagonal on request (symmetry_tolerance finite)."""
    import numpy as np
    import pytest

    import hessianlr as h
    from hessianlr.errors import InvalidArgumentError

    rng = np.random.default_rng(3)
    m = rng.standard_normal((30, 30))
    symmetric = m + m.T
    skewed = symmetric + 0.5 * np.triu(rng.standard_normal((30, 30)), 1)
    makers = [lambda: h.PowerIteration(), lambda: h.HutchPlusPlus(matvecs=30), lambda: h.XTrace(matvecs=30),
              lambda: h.Hutchinson(samples=20, symmetry_tolerance=1e-3),
              lambda: h.Diagonal(samples=20, symmetry_tolerance=1e-3)]
    for make in makers:
        with pytest.raises(InvalidArgumentError, match="not symmetric"):
            make().run_host(30, lambda v, out: np.matmul(skewed, v, out=out))
        result = make().run_host(30, lambda v, out: np.matmul(symmetric, v, out=out))
        assert result.max_asymmetry < 1e-12
    # Off by default for the probe-only kinds: the skewed operator is not detected there.
    assert h.Hutchinson(samples=20).run_host(30, lambda v, out: np.matmul(skewed, v, out=out)).max_asymmetry == 0.0


def test_a_budget_that_spans_the_space_reports_an_exact_trace():
    import numpy as np

    import hessianlr as h

    rng = np.random.default_rng(0)
    m = rng.standard_normal((20, 20))
    a = m + m.T
    for estimator in (h.HutchPlusPlus(matvecs=60), h.XTrace(matvecs=60)):
        result = estimator.run_host(20, lambda v, out: np.matmul(a, v, out=out))
        assert result.exact and result.sketch_rank == 20 and result.samples == 0
        assert abs(result.trace - np.trace(a)) <= 1e-12 * np.abs(a).sum()
    small = h.XTrace(matvecs=10).run_host(20, lambda v, out: np.matmul(a, v, out=out))
    assert not small.exact


def test_a_vector_backend_is_freed_when_its_run_returns():
    """run_ops leaves no reference cycle holding the backend (its callback table referred back
    to the run): with Python's cyclic collector off, the backend (and whatever operator or graph
    it holds) is freed as soon as the caller lets go of it."""
    import gc
    import weakref

    n = 30
    a = np.diag(np.arange(1.0, n + 1))
    gc.collect()
    gc.disable()
    try:
        backend = NumpyVectors(n, hvp_of(a))
        ref = weakref.ref(backend)
        with h.Lanczos(count=2) as est:
            result = est.run_ops(backend)
        del backend
        assert ref() is None, "the vector backend outlived its run"
    finally:
        gc.enable()
    assert result.eigenvalues[0] == pytest.approx(30.0)
