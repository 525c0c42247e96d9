"""Curvature estimators over a Hessian-vector-product operator H (``hlr_estimator_*``).

One class per kind; every parameter left out keeps the library's default (``estimator_params``
lists them with their ranges, from ``hlr_param_info``):

================  =======================================================================
:class:`Lanczos`  k extreme eigenpairs, Lanczos with full reorthogonalisation. Stops when every
                  wanted Ritz pair has |β_m s_{m,i}| ≤ tolerance·max(|θᵢ|, 1e-8·max|θ|); the
                  eigenvalue error is then about residual²/gap. Gaussian start.
:class:`PowerIteration`  top-|λ| pairs with deflation (PyHessian's rule: stop when
                  |λ_t − λ_{t−1}| / (|λ_{t−1}| + 1e-6) < tolerance, or max_iterations HVPs per pair).
:class:`Hutchinson`  tr(H) ≈ (1/m) Σ z_sᵀHz_s, Rademacher z; standard error from the sample
                  variance; per-block traces from the same probes; optional adaptive stop
                  (se ≤ relative_tolerance·|estimate| after ≥ min_samples probes).
:class:`HutchPlusPlus`  Hutch++: Q = orth(HS) with s = m/3 sign columns, tr ≈ tr(QᵀHQ) +
                  mean gᵀ(I−QQᵀ)H(I−QQᵀ)g over the remaining m − 2s probes (m = matvecs HVPs).
:class:`XTrace`  the exchangeable Hutch++ (Epperly, Tropp, Webber 2024): s = m/2 sign test
                  vectors each serve the sketch and the residual, tr ≈ mean of s leave-one-out
                  Hutch++ estimates; se from their spread (m = matvecs HVPs).
:class:`Diagonal`  diag(H) ≈ (1/m) Σ z_s ⊙ Hz_s with true Rademacher z (exact for diagonal H),
                  per-block means.
:class:`XDiag`  the exchangeable diagonal estimator (Epperly, Tropp, Webber 2024), symmetric form:
                  s = m/2 sign test vectors each serve the sketch and the residual; exact
                  diag(H − B_i) plus ω_i ⊙ B_iω_i with B_i the doubly deflated H; per-block means
                  (m = matvecs HVPs).
:class:`SpectralDensity`  stochastic Lanczos quadrature: per run, Ritz values (nodes) and squared
                  first eigenvector components (weights, sum 1); φ(t) = (1/n_v) Σ_r Σ_i w_ri
                  N(t; θ_ri, σ²) on a grid (σ = 1% of the node spread when automatic).
================  =======================================================================

Each estimator is a configuration handle (create, set, run, read). Runs:

- :meth:`Estimator.run_host` ``(n, hvp, dtype=float64)``: the library owns the vectors and calls
  ``hvp(v, out)`` with numpy views (v read-only, out zeroed) — float32 or float64.
- :meth:`Estimator.run_ops` ``(backend)``: the caller's vectors (see :mod:`hessianlr._callbacks`, section 3);
  only scalars cross.
- :meth:`Estimator.run_torch` ``(operator)``: a :class:`hessianlr.torch_curvature.TorchOperator`
  — vectors stay torch tensors on their device.

``hvp_block`` (Hutchinson, HutchPlusPlus, Diagonal, XTrace, XDiag, SpectralDensity; default 1): up
to that many HVPs in one call of a backend that batches them (``hvp_block(vs, outs)``; the torch
operator's is one vmapped double backward): the same estimate as one at a time given the same
products, at about 2·hvp_block more work vectors for the probing estimators; SpectralDensity steps
that many of its runs together (min(hvp_block, runs)·(min(steps, n) + 1) vectors).

Each run returns a result object (:class:`LanczosResult`, :class:`PowerIterationResult`,
:class:`TraceResult`, :class:`DiagonalResult`, :class:`DensityResult`) with the HVP count and a
:class:`Timing` (wall time split into HVP callbacks, the backend's vector callbacks and the
library). Probes come from the library's counter-based generator, so a run is a pure function of
(H, parameters, seed). Errors raise the library's exceptions with its message (a bad parameter
names itself and its value); an exception inside a callback raises
:class:`~hessianlr.CallbackError` chained to it; a failed run keeps the handle's configuration.

Stability helpers: :func:`edge_of_stability` (lr·λ_max/2), :func:`sgd_trace_stability`
(lr·tr(H)/2) and :func:`scaled_lr` (batch-size scaling, linear for SGD, square root for Adam).
"""

from __future__ import annotations

import math
import time
from ctypes import byref, c_double, c_size_t, c_uint64
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Optional, Sequence, Union

import numpy as np

from . import _args, _lib
from ._callbacks import CallbackSession, NumpyVectors, OpsRun, host_probe
from ._lib import OwnedHandle, check
from ._options import ParamBounds, known_params
from .constants import (BatchScaling, EstimatorKind, EstimatorParam, ParamFamily, ProbeDistribution, Result,
                        Termination, Which)
from .errors import InvalidArgumentError, UnknownKeyError, WrongStateError

__all__ = [
    "ProbeStream",
    "Timing",
    "LanczosResult",
    "PowerIterationResult",
    "TraceResult",
    "DiagonalResult",
    "DensityResult",
    "Estimator",
    "Lanczos",
    "PowerIteration",
    "Hutchinson",
    "HutchPlusPlus",
    "XTrace",
    "Diagonal",
    "XDiag",
    "SpectralDensity",
    "NumpyVectors",
    "estimator_param_bounds",
    "estimator_params",
    "probe",
    "edge_of_stability",
    "sgd_trace_stability",
    "scaled_lr",
]

#: Inclusive range and default of one estimator parameter (``hlr_estimator_param_bounds``).


class ProbeStream(IntEnum):
    """The library's probe streams (``fill_probe``'s ``stream`` argument)."""

    LANCZOS_START = 1
    POWER_ITERATION = 2
    HUTCHINSON = 3
    HUTCH_PLUS_PLUS_SKETCH = 4
    HUTCH_PLUS_PLUS_RESIDUAL = 5
    DIAGONAL = 6
    SPECTRAL_DENSITY = 7
    XTRACE = 9
    XDIAG = 10


# -- parameters -------------------------------------------------------------------------------

_CHOICES = {EstimatorParam.WHICH: Which, EstimatorParam.DISTRIBUTION: ProbeDistribution}
_WHICH_ALIASES = {"LM": Which.LARGEST_MAGNITUDE, "LA": Which.LARGEST_ALGEBRAIC, "SA": Which.SMALLEST_ALGEBRAIC}
#: None means "automatic" for these keys; the library's encoding of that.
_NONE_MEANS = {
    EstimatorParam.SKETCH_SIZE: 0.0,
    EstimatorParam.SIGMA: 0.0,
    EstimatorParam.GRID_LOWER: -math.inf,
    EstimatorParam.GRID_UPPER: math.inf,
}


def _param_key(name) -> EstimatorParam:
    if isinstance(name, str):
        return _args.member(EstimatorParam, name, lambda names: UnknownKeyError(
            f"unknown estimator parameter {name!r}; parameters are: {', '.join(names)}"))
    return EstimatorParam(_args.key(name))


def _param_value(key: EstimatorParam, value) -> float:
    if value is None and key in _NONE_MEANS:
        return _NONE_MEANS[key]
    enum = _CHOICES.get(key)
    if enum is not None and isinstance(value, str):
        if key == EstimatorParam.WHICH and value.upper() in _WHICH_ALIASES:
            return float(_WHICH_ALIASES[value.upper()])
        return _args.choice(enum, value, key.name.lower())
    return _args.number(value, key.name.lower())


def estimator_param_bounds(kind: Union[EstimatorKind, int], key) -> ParamBounds:
    """(min, max, default) of parameter ``key`` of ``kind``; UnknownMethodError / UnknownKeyError
    when the pair does not exist."""
    low, high, default = c_double(), c_double(), c_double()
    check(_lib.lib.hlr_estimator_param_bounds(_args.key(kind, "kind"), int(_param_key(key)),
                                              byref(low), byref(high), byref(default)))
    return ParamBounds(low.value, high.value, default.value)


def estimator_params(kind: Union[EstimatorKind, int]) -> dict:
    """Every parameter of ``kind``: {EstimatorParam: ParamBounds}, in key order (as
    ``schedule_params`` and ``method_params``; ``Estimator.params()`` gives values by name)."""
    return {EstimatorParam(i.key): i.bounds for i in known_params(ParamFamily.ESTIMATOR, int(kind), EstimatorParam)}


def probe(seed: int, stream: Union[ProbeStream, int], index: int, n: int,
          distribution: Union[ProbeDistribution, int, str] = ProbeDistribution.RADEMACHER,
          dtype=np.float64, first: int = 0) -> np.ndarray:
    """Elements ``first .. first+n`` of the library's probe vector ``index`` of ``stream`` under
    ``seed`` (``hlr_probe_fill_f32/_f64``): what ``fill_probe`` must reproduce."""
    dist = int(_param_value(EstimatorParam.DISTRIBUTION, distribution))
    return host_probe(_args.step(seed, "seed"), _args.step(stream, "stream"), _args.step(index, "index"),
                      dist, _args.index(n, "n"), dtype, _args.step(first, "first"))


# -- results ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Timing:
    """Where a run's wall time went (seconds): inside the HVP callback, inside the backend's
    other vector callbacks (ops and torch runs; 0 for host runs, whose vector work is the
    library's), and the rest — the library's own work plus the binding's call overhead."""

    wall: float
    hvp: float
    vector_ops: float = 0.0

    @property
    def library(self) -> float:
        return max(self.wall - self.hvp - self.vector_ops, 0.0)

    @property
    def library_share(self) -> float:
        """library / wall (0 for an empty run)."""
        return self.library / self.wall if self.wall > 0 else 0.0


@dataclass(frozen=True)
class _Common:
    hvps: int
    timing: Timing = field(repr=False)


@dataclass(frozen=True)
class LanczosResult(_Common):
    """Lanczos: ``eigenvalues`` in ``which`` order, ``residuals`` ‖Hy − θy‖, ``error_bounds``
    (estimated eigenvalue errors min(r, r²/δ), see :class:`Lanczos`), ``eigenvectors``
    (host: k×n float64 array; ops/torch: list of the backend's vectors; None unless
    ``compute_vectors``), Krylov dimension ``iterations``, ``converged``, ``termination``,
    ``restarts``, ``max_asymmetry``."""

    eigenvalues: np.ndarray = None
    residuals: np.ndarray = None
    error_bounds: np.ndarray = None
    iterations: int = 0
    converged: bool = False
    termination: Termination = Termination.ITERATION_LIMIT
    restarts: int = 0
    max_asymmetry: float = 0.0
    eigenvectors: object = field(default=None, repr=False)


@dataclass(frozen=True)
class PowerIterationResult(_Common):
    """Power iteration: ``eigenvalues`` in the order found, ``residuals`` (from ‖Hv‖² − λ²),
    ``iterations`` and ``converged`` per pair, ``eigenvectors`` as for Lanczos."""

    eigenvalues: np.ndarray = None
    residuals: np.ndarray = None
    iterations: np.ndarray = None
    converged: np.ndarray = None
    eigenvectors: object = field(default=None, repr=False)
    max_asymmetry: float = 0.0


@dataclass(frozen=True)
class TraceResult(_Common):
    """Hutchinson / Hutch++ / XTrace: ``trace``, its ``standard_error`` (Hutch++: of the residual
    part; XTrace: the jackknife's over leaving one test vector out),
    ``samples`` (Hutch++: residual probes), ``converged`` (adaptive rule met, or fixed budget),
    ``sketch_rank`` (Hutch++; None for Hutchinson), per-block ``block_traces`` /
    ``block_trace_errors`` (None without blocks), ``max_asymmetry`` (the largest relative
    asymmetry the symmetry check measured; 0 when it was off)."""

    trace: float = 0.0
    standard_error: float = math.inf
    samples: int = 0
    converged: bool = False
    sketch_rank: Optional[int] = None
    block_traces: Optional[np.ndarray] = None
    block_trace_errors: Optional[np.ndarray] = None
    max_asymmetry: float = 0.0

    @property
    def exact(self) -> bool:
        """True when the sketch spanned the whole space — XTrace with a budget ≥ 2n and
        independent test vectors; Hutch++ with a sketch of n columns (``sketch_size = n`` and a
        budget ≥ 2n, or a budget ≥ 3n with the automatic sketch m/3); either on a low-rank H —
        so no stochastic sample was needed and ``trace`` is exact up to rounding."""
        return self.sketch_rank is not None and self.samples == 0 and self.standard_error == 0.0

    @property
    def relative_standard_error(self) -> float:
        return self.standard_error / abs(self.trace) if self.trace else math.inf


@dataclass(frozen=True)
class DiagonalResult(_Common):
    """Diagonal / XDiag: ``diagonal`` (host: n float64; ops/torch: the backend's vector),
    ``trace`` (Diagonal: mean zᵀHz of the same probes; XDiag: the XTrace estimate of its test
    vectors), ``samples``, ``block_means`` / ``block_mean_errors`` (None without blocks; XDiag's
    errors are the jackknife over leaving one test vector out), XDiag's ``sketch_rank`` (None for
    Diagonal), ``max_asymmetry`` (0 when the check was off)."""

    diagonal: object = field(default=None, repr=False)
    trace: float = 0.0
    samples: int = 0
    block_means: Optional[np.ndarray] = None
    block_mean_errors: Optional[np.ndarray] = None
    sketch_rank: Optional[int] = None
    max_asymmetry: Optional[float] = None

    @property
    def exact(self) -> bool:
        """True when XDiag's sketch spanned the whole space (a budget ≥ 2n and independent test
        vectors): no stochastic sample
        was needed and ``diagonal`` is exact up to rounding (``HLR_RESULT_SKETCH_RANK`` = n with
        ``SAMPLES`` = 0)."""
        return self.sketch_rank is not None and self.samples == 0


@dataclass(frozen=True)
class DensityResult(_Common):
    """Spectral density (SLQ): per-run ``nodes`` and ``weights`` (lists of arrays, each run's
    weights sum to 1), ``trace`` = n·mean vᵀHv, the smoothed ``density`` on ``grid`` (trapezoid
    integral 1) with width ``sigma``, ``max_asymmetry``."""

    nodes: list = field(default=None, repr=False)
    weights: list = field(default=None, repr=False)
    trace: float = 0.0
    grid: np.ndarray = field(default=None, repr=False)
    density: np.ndarray = field(default=None, repr=False)
    sigma: float = 0.0
    max_asymmetry: float = 0.0

    @property
    def runs(self) -> int:
        return len(self.nodes)

    def measure(self) -> tuple[np.ndarray, np.ndarray]:
        """The quadrature measure (1/n_v) Σ_r Σ_i w_ri δ(θ_ri): (nodes ascending, weights summing
        to 1), the estimate of the spectral measure (1/n) Σ_j δ(λ_j)."""
        nodes = np.concatenate(self.nodes)
        weights = np.concatenate(self.weights) / len(self.nodes)
        order = np.argsort(nodes, kind="stable")
        return nodes[order], weights[order]

    def smoothed(self, grid, sigma: Optional[float] = None) -> np.ndarray:
        """φ(t) = Σ w N(t; θ, σ²) of :meth:`measure` at ``grid`` (σ defaults to ``self.sigma``),
        without renormalisation (``hlr_density_smooth``, the library's smoothing)."""
        sigma = self.sigma if sigma is None else float(sigma)
        nodes, weights = self.measure()
        points = np.ascontiguousarray(np.asarray(grid, dtype=np.float64).ravel())
        out = np.empty(points.size, dtype=np.float64)
        check(_lib.lib.hlr_density_smooth(
            _args.double_pointer(nodes), _args.double_pointer(weights), nodes.size,
            _args.double_pointer(points), points.size, sigma, _args.double_pointer(out)))
        return out


# -- the handle -------------------------------------------------------------------------------

class Estimator(OwnedHandle):
    """One ``hlr_estimator`` handle: ``Estimator(kind, *, seed=0, blocks=None, **params)``.

    ``params`` are parameter names (``EstimatorParam`` members in lower case) with values;
    ``which`` and ``distribution`` also take names ("largest_algebraic" or scipy's "LA",
    "rademacher"). A parameter left out or None keeps the library's default
    (:func:`estimator_params` lists them with their ranges; the per-kind classes below write no
    default of their own); for ``sketch_size``, ``sigma``, ``grid_lower`` and ``grid_upper`` that
    default is "automatic", which ``set_param(name, None)`` also restores. ``blocks``: n_blocks + 1 non-decreasing offsets from 0 to n (per-block
    traces / diagonal means), or None. Usable as a context manager; ``close()`` frees it.
    ``pickle`` and ``copy`` give an independent estimator on a new handle with the same kind,
    parameters, seed and blocks (all that determines a run, so its runs give the same results).
    """

    kind: EstimatorKind

    _free_function = "hlr_estimator_free"

    def __init__(self, kind: Union[EstimatorKind, int], *, seed: int = 0, blocks: Optional[Sequence[int]] = None,
                 **params):
        self._create(_lib.lib.hlr_estimator_create, _args.key(kind, "kind"))
        self._blocks = None  # the offsets last set (the library has no getter): copies need them
        with self._closed_on_failure():
            self.kind = self._read_kind()
            for name, value in params.items():
                if value is not None:  # None: the library's default
                    self.set_param(name, value)
            self.seed = seed
            if blocks is not None:
                self.set_blocks(blocks)

    def __repr__(self) -> str:
        if self.closed:
            return f"<{type(self).__name__} closed>"
        shown = ", ".join(f"{k}={v:g}" for k, v in self.params().items())
        return f"<{type(self).__name__} seed={self.seed} {shown}>"

    def _rebuild(self):
        # pickle / copy / deepcopy: an estimator is a configuration handle (kind, parameters,
        # seed, blocks determine every run), so a new handle with the same configuration is an
        # exact copy. The results of the last run stay behind: run_* returns them as Python objects.
        return (_rebuild_estimator, (type(self), int(self.kind), self.params(), self.seed, self._blocks))

    def _read_kind(self):
        return self._read_enum(_lib.lib.hlr_estimator_kind, EstimatorKind)

    # configuration
    def set_param(self, key, value) -> None:
        """Sets one parameter (range-checked by the library; a refusal changes nothing)."""
        key = _param_key(key)
        check(_lib.lib.hlr_estimator_set_param(self._handle, int(key), _param_value(key, value)))

    def get_param(self, key) -> float:
        value = c_double()
        check(_lib.lib.hlr_estimator_get_param(self._handle, int(_param_key(key)), byref(value)))
        return value.value

    def params(self) -> dict:
        """Every parameter of this kind by name."""
        return {key.name.lower(): self.get_param(key) for key in estimator_params(self.kind)}

    @property
    def seed(self) -> int:
        value = c_uint64()
        check(_lib.lib.hlr_estimator_get_seed(self._handle, byref(value)))
        return value.value

    @seed.setter
    def seed(self, value: int) -> None:
        check(_lib.lib.hlr_estimator_set_seed(self._handle, _args.step(value, "seed")))

    def set_blocks(self, offsets: Optional[Sequence[int]]) -> None:
        """Block offsets (n_blocks + 1 values from 0 to n), or None to clear them."""
        if offsets is None:
            check(_lib.lib.hlr_estimator_set_blocks(self._handle, None, 0))
            self._blocks = None
            return
        pointer, count, keep = _args.host_offsets(offsets)
        check(_lib.lib.hlr_estimator_set_blocks(self._handle, pointer, count))
        self._blocks = tuple(int(x) for x in keep) if count else None

    # runs
    def run_host(self, n: int, hvp, *, dtype=np.float64):
        """Runs on library-owned host vectors of ``n`` elements of ``dtype`` (float32/float64),
        calling ``hvp(v, out)`` (v read-only, out zeroed: write H·v into it). v and out are
        Python-owned copies of the library's vectors (:mod:`hessianlr._callbacks`), so ``hvp``
        may keep them."""
        n = _args.index(n, "n")
        dtype = np.dtype(dtype)
        if dtype not in _args.HOST_DTYPES:
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        if not callable(hvp):
            raise TypeError(f"hvp must be callable, got {type(hvp).__name__}")
        clock = time.perf_counter
        spent = [0.0]

        def timed(v, out):
            start = clock()
            try:
                hvp(v, out)
            finally:
                spent[0] += clock() - start

        session = CallbackSession(dtype)
        callback = session.hvp(timed)
        name = session.function_name("hlr_estimator_run_host")
        start = clock()
        code = getattr(_lib.lib, name)(self._handle, n, callback, None)
        wall = clock() - start
        session.check(code, name)
        return self._result(Timing(wall, spent[0]), host_n=n)

    def run_ops(self, backend):
        """Runs on the caller's vectors through a vector backend (see
        :mod:`hessianlr._callbacks`, section 3); vector results come back as the backend's vectors."""
        run = OpsRun(backend)
        start = time.perf_counter()
        try:
            run.run(self._handle)
            wall = time.perf_counter() - start
            result = self._result(Timing(wall, run.hvp_seconds, run.vector_seconds), ops=run)
        finally:
            leaked, run.vectors = run.live, {}
        if leaked:  # the library releases every vector it does not return; say so if it did not
            raise RuntimeError(f"hlr_estimator_run_ops left {leaked} vectors allocated")
        return result

    def run_torch(self, operator):
        """Runs on torch tensors: ``operator`` is a
        :class:`~hessianlr.torch_curvature.TorchOperator` (vectors stay on its device)."""
        from .torch_curvature import TorchVectors  # late: torch is optional

        return self.run_ops(operator if hasattr(operator, "fill_probe") else TorchVectors(operator))

    # results
    def _values(self, key: Result) -> np.ndarray:
        size = c_size_t()
        check(_lib.lib.hlr_estimator_result_size(self._handle, int(key), byref(size)))
        out = np.empty(size.value, dtype=np.float64)
        check(_lib.lib.hlr_estimator_get_result(self._handle, int(key), _args.double_pointer(out), out.size))
        return out

    def _optional(self, key: Result) -> Optional[np.ndarray]:
        size = c_size_t()
        if _lib.lib.hlr_estimator_result_size(self._handle, int(key), byref(size)) != 0:
            return None
        return self._values(key)

    def _scalar(self, key: Result) -> float:
        return float(self._values(key)[0])

    def _vectors(self, key: Result, ops: Optional[OpsRun], host_n: Optional[int], rows: bool):
        size = c_size_t()
        if _lib.lib.hlr_estimator_result_size(self._handle, int(key), byref(size)) != 0:
            return None
        if ops is not None:
            vectors = ops.take(OpsRun.result_handles(self._handle, key))
            return vectors if rows else vectors[0]
        values = self._values(key)
        return values.reshape(-1, host_n) if rows else values

    def _result(self, timing: Timing, ops: Optional[OpsRun] = None, host_n: Optional[int] = None):
        # Overridden per kind; a plain Estimator(kind, ...) reads its results like its kind's class.
        cls = ESTIMATOR_CLASSES.get(self.kind)
        if cls is None:
            raise WrongStateError(f"this binding does not know the results of estimator kind {self.kind}")
        return cls._result(self, timing, ops, host_n)


def _rebuild_estimator(cls, kind: int, params: dict, seed: int, blocks) -> Estimator:
    """The copy ``Estimator.__reduce__`` describes: a fresh handle with the same configuration."""
    estimator = object.__new__(cls)
    Estimator.__init__(estimator, kind, seed=seed, blocks=blocks, **params)
    return estimator


def _common(est: Estimator, timing: Timing) -> dict:
    return dict(hvps=int(est._scalar(Result.HVPS)), timing=timing)


class Lanczos(Estimator):
    """Extreme eigenpairs by Lanczos with full reorthogonalisation (``HLR_ESTIMATOR_LANCZOS``).

    Stopping rule (checked after every HVP), with s = max(|θᵢ|, 1e-8·max_j|θ_j|): every wanted
    Ritz pair has residual r = |β_m s_{m,i}| ≤ tolerance·s, or, with ``eigenvalue_tolerance``
    ε > 0, an estimated eigenvalue error min(r, r²/δ) ≤ ε·s (δ: the distance to the other Ritz
    values less their residuals; an estimate, since the unseen spectrum could be closer) →
    converged; an invariant subspace that no restart probe can leave → exhausted (values exact);
    m = min(max_dimension, n) → iteration limit. Ask for the accuracy you need with
    ``eigenvalue_tolerance`` (e.g. 1e-6) rather than tuning ``tolerance``: the eigenvalue error is
    quadratic in the residual. The default (1e-10, ε off) gives rounding-level values.
    Start vector: probe 0 of stream 1 (Gaussian).
    """

    def __init__(self, count: Optional[int] = None, which: Optional[Union[str, Which, int]] = None,
                 tolerance: Optional[float] = None, max_dimension: Optional[int] = None,
                 distribution: Optional[Union[str, ProbeDistribution, int]] = None,
                 compute_vectors: Optional[bool] = None, symmetry_tolerance: Optional[float] = None,
                 threads: Optional[int] = None, *, eigenvalue_tolerance: Optional[float] = None,
                 seed: int = 0):
        super().__init__(EstimatorKind.LANCZOS, seed=seed, count=count, which=which, tolerance=tolerance,
                         max_dimension=max_dimension, distribution=distribution, compute_vectors=compute_vectors,
                         symmetry_tolerance=symmetry_tolerance, threads=threads,
                         eigenvalue_tolerance=eigenvalue_tolerance)

    def _result(self, timing, ops=None, host_n=None):
        return LanczosResult(
            **_common(self, timing),
            eigenvalues=self._values(Result.EIGENVALUES), residuals=self._values(Result.RESIDUALS),
            error_bounds=self._values(Result.ERROR_BOUNDS),
            iterations=int(self._scalar(Result.ITERATIONS)), converged=bool(self._scalar(Result.CONVERGED)),
            termination=Termination(int(self._scalar(Result.TERMINATION))),
            restarts=int(self._scalar(Result.RESTARTS)), max_asymmetry=self._scalar(Result.MAX_ASYMMETRY),
            eigenvectors=self._vectors(Result.EIGENVECTORS, ops, host_n, rows=True))


class PowerIteration(Estimator):
    """Top-|λ| eigenpairs by power iteration with deflation, PyHessian's method and stopping rule
    (``HLR_ESTIMATOR_POWER_ITERATION``): per pair, stop when |λ_t − λ_{t−1}| / (|λ_{t−1}| + 1e-6)
    < tolerance or after max_iterations HVPs. Converges at rate |λ₂/λ₁| per HVP; kept for
    comparison — :class:`Lanczos` reaches far higher accuracy per HVP."""

    def __init__(self, count: Optional[int] = None, tolerance: Optional[float] = None,
                 max_iterations: Optional[int] = None, distribution: Optional[Union[str, ProbeDistribution,
                 int]] = None, compute_vectors: Optional[bool] = None, threads: Optional[int] = None, *,
                 seed: int = 0, symmetry_tolerance: Optional[float] = None):
        super().__init__(EstimatorKind.POWER_ITERATION, seed=seed, count=count, tolerance=tolerance,
                         max_iterations=max_iterations, distribution=distribution, compute_vectors=compute_vectors,
                         symmetry_tolerance=symmetry_tolerance, threads=threads)

    def _result(self, timing, ops=None, host_n=None):
        return PowerIterationResult(
            **_common(self, timing),
            eigenvalues=self._values(Result.EIGENVALUES), residuals=self._values(Result.RESIDUALS),
            iterations=self._values(Result.ITERATIONS).astype(np.int64),
            converged=self._values(Result.CONVERGED).astype(bool),
            eigenvectors=self._vectors(Result.EIGENVECTORS, ops, host_n, rows=True),
            max_asymmetry=self._scalar(Result.MAX_ASYMMETRY))


def _trace_result(est: Estimator, timing: Timing, hutch_plus_plus: bool) -> TraceResult:
    rank = est._optional(Result.SKETCH_RANK) if hutch_plus_plus else None
    return TraceResult(
        **_common(est, timing), trace=est._scalar(Result.TRACE), standard_error=est._scalar(Result.STANDARD_ERROR),
        samples=int(est._scalar(Result.SAMPLES)), converged=bool(est._scalar(Result.CONVERGED)),
        sketch_rank=None if rank is None else int(rank[0]),
        block_traces=est._optional(Result.BLOCK_TRACES), block_trace_errors=est._optional(Result.BLOCK_TRACE_ERRORS),
        max_asymmetry=est._scalar(Result.MAX_ASYMMETRY))


class Hutchinson(Estimator):
    """Hutchinson's trace estimator tr(H) ≈ (1/m) Σ_s z_sᵀHz_s (``HLR_ESTIMATOR_HUTCHINSON``):
    Rademacher probes (variance 2Σ_{i≠j}H_ij² per probe), standard error from the sample variance,
    per-block traces from the same probes (HAWQ-V2). ``samples`` probes (fixed budget), or with
    ``relative_tolerance`` > 0 at most that many, stopping after ≥ ``min_samples`` once
    se ≤ relative_tolerance·|estimate|. Probe s: probe s of stream 3."""

    def __init__(self, samples: Optional[int] = None, relative_tolerance: Optional[float] = None,
                 min_samples: Optional[int] = None, distribution: Optional[Union[str, ProbeDistribution,
                 int]] = None, threads: Optional[int] = None, *, seed: int = 0,
                 blocks: Optional[Sequence[int]] = None, symmetry_tolerance: Optional[float] = None,
                 hvp_block: Optional[int] = None):
        super().__init__(EstimatorKind.HUTCHINSON, seed=seed, blocks=blocks, samples=samples,
                         relative_tolerance=relative_tolerance, min_samples=min_samples, distribution=distribution,
                         symmetry_tolerance=symmetry_tolerance, threads=threads, hvp_block=hvp_block)

    def _result(self, timing, ops=None, host_n=None):
        return _trace_result(self, timing, hutch_plus_plus=False)


class HutchPlusPlus(Estimator):
    """Hutch++ (Meyer, Musco, Musco, Woodruff 2021; ``HLR_ESTIMATOR_HUTCH_PLUS_PLUS``): with HVP
    budget m and s = m/3 sketch columns (``sketch_size=None``), Q = orth(H·S) and
    tr(H) ≈ tr(QᵀHQ) + mean over the remaining m − 2s probes of gᵀ(I−QQᵀ)H(I−QQᵀ)g. Relative
    error O(1/m) for PSD H (Hutchinson: O(1/√m)). With ``relative_tolerance`` > 0 the residual
    probes stop early (after ≥ ``min_samples``) once se ≤ tol·|estimate|; m is then a cap."""

    def __init__(self, matvecs: Optional[int] = None, sketch_size: Optional[int] = None,
                 relative_tolerance: Optional[float] = None, min_samples: Optional[int] = None,
                 distribution: Optional[Union[str, ProbeDistribution, int]] = None,
                 threads: Optional[int] = None, *, seed: int = 0, blocks: Optional[Sequence[int]] = None,
                 symmetry_tolerance: Optional[float] = None, hvp_block: Optional[int] = None):
        super().__init__(EstimatorKind.HUTCH_PLUS_PLUS, seed=seed, blocks=blocks, matvecs=matvecs,
                         sketch_size=sketch_size, relative_tolerance=relative_tolerance, min_samples=min_samples,
                         distribution=distribution, symmetry_tolerance=symmetry_tolerance, threads=threads,
                         hvp_block=hvp_block)

    def _result(self, timing, ops=None, host_n=None):
        return _trace_result(self, timing, hutch_plus_plus=True)


class XTrace(Estimator):
    """XTrace (Epperly, Tropp, Webber 2024; ``HLR_ESTIMATOR_XTRACE``): s = ⌊m/2⌋ test vectors
    ω_i (probe i of stream 9, Rademacher by default; use Gaussian for tiny n, where sign vectors
    can be dependent), Y = HΩ = QR, Z = HQ (2s HVPs); the estimate
    is the mean over i of the Hutch++ estimate whose sketch is Ω without ω_i and whose residual
    probe is ω_i, all from one QR (3s² + s dot products); ``standard_error`` is the jackknife's
    over the s estimates that each leave one test vector out (O(s³) scalar work, conservative;
    std/√s of the leave-one-out terms under-covers because they are correlated). Unbiased; for PSD H more accurate than Hutch++ at the same budget because no
    HVP serves only one part. Once the test vectors span Rⁿ (m ≥ 2n; n Gaussian ones always) no
    more are drawn and the trace is exact. If HΩ is numerically rank-deficient (rank H < s) it falls back to Hutch++ on Q
    with the HVPs left (exact when Q spans range(H))."""

    def __init__(self, matvecs: Optional[int] = None, distribution: Optional[Union[str, ProbeDistribution,
                 int]] = None, threads: Optional[int] = None, *, seed: int = 0,
                 symmetry_tolerance: Optional[float] = None, hvp_block: Optional[int] = None):
        super().__init__(EstimatorKind.XTRACE, seed=seed, matvecs=matvecs, distribution=distribution,
                         symmetry_tolerance=symmetry_tolerance, threads=threads, hvp_block=hvp_block)

    def _result(self, timing, ops=None, host_n=None):
        return _trace_result(self, timing, hutch_plus_plus=True)


class Diagonal(Estimator):
    """Hutchinson's diagonal estimator diag(H) ≈ (1/m) Σ_s z_s ⊙ Hz_s with true Rademacher z
    (``HLR_ESTIMATOR_DIAGONAL``): unbiased, per-element variance Σ_{j≠i}H_ij²/m, exact for diagonal
    H. ``trace`` comes free from the same probes; ``blocks`` add per-block means (AdaHessian's
    spatial averaging). An ops/torch run needs the backend's ``mul_acc``."""

    def __init__(self, samples: Optional[int] = None, threads: Optional[int] = None, *, seed: int = 0,
                 blocks: Optional[Sequence[int]] = None, symmetry_tolerance: Optional[float] = None,
                 hvp_block: Optional[int] = None):
        super().__init__(EstimatorKind.DIAGONAL, seed=seed, blocks=blocks, samples=samples,
                         symmetry_tolerance=symmetry_tolerance, threads=threads, hvp_block=hvp_block)

    def _result(self, timing, ops=None, host_n=None):
        return DiagonalResult(
            **_common(self, timing), diagonal=self._vectors(Result.DIAGONAL, ops, host_n, rows=False),
            trace=self._scalar(Result.TRACE), samples=int(self._scalar(Result.SAMPLES)),
            block_means=self._optional(Result.BLOCK_MEANS), block_mean_errors=self._optional(Result.BLOCK_MEAN_ERRORS),
            max_asymmetry=self._scalar(Result.MAX_ASYMMETRY))


class XDiag(Estimator):
    """XDiag (Epperly, Tropp, Webber 2024; ``HLR_ESTIMATOR_XDIAG``), the exchangeable diagonal
    estimator in its symmetric form: s = ⌊m/2⌋ test vectors ω_i (probe i of stream 10), HΩ = QR,
    P_i the projector onto range(HΩ) without column i, B_i = (I − P_i)H(I − P_i):
    diag(H) ≈ (1/s) Σ_i [diag(H − B_i) + ω_i ⊙ B_iω_i], 2s HVPs. Unbiased; only the doubly
    deflated remainder is sampled, so it beats the one-sided form of the paper and curvlinops
    (diag(P_iH) + ω_i ⊙ (I − P_i)Hω_i) on symmetric H. ``trace`` is XTrace's estimate from the
    same vectors; ``blocks`` add per-block means and their standard errors (jackknife); QᵀHQ must be symmetric within
    ``symmetry_tolerance`` (free check). Once the test vectors span Rⁿ (m ≥ 2n; n Gaussian ones
    always) no more are drawn and the diagonal is exact. Rank-deficient HΩ (rank H < s): exact on the
    sketch plus Hutchinson on the remainder with the HVPs left. An ops/torch run needs the
    backend's ``mul_acc``."""

    def __init__(self, matvecs: Optional[int] = None, distribution: Optional[Union[str, ProbeDistribution,
                 int]] = None, symmetry_tolerance: Optional[float] = None, threads: Optional[int] = None, *,
                 seed: int = 0, blocks: Optional[Sequence[int]] = None, hvp_block: Optional[int] = None):
        super().__init__(EstimatorKind.XDIAG, seed=seed, blocks=blocks, matvecs=matvecs, distribution=distribution,
                         symmetry_tolerance=symmetry_tolerance, threads=threads, hvp_block=hvp_block)

    def _result(self, timing, ops=None, host_n=None):
        return DiagonalResult(
            **_common(self, timing), diagonal=self._vectors(Result.DIAGONAL, ops, host_n, rows=False),
            trace=self._scalar(Result.TRACE), samples=int(self._scalar(Result.SAMPLES)),
            block_means=self._optional(Result.BLOCK_MEANS), block_mean_errors=self._optional(Result.BLOCK_MEAN_ERRORS),
            sketch_rank=int(self._scalar(Result.SKETCH_RANK)),
            max_asymmetry=self._scalar(Result.MAX_ASYMMETRY))


class SpectralDensity(Estimator):
    """Stochastic Lanczos quadrature (``HLR_ESTIMATOR_SPECTRAL_DENSITY``; PyHessian's ``density``):
    ``runs`` unit Rademacher probes (probe r of stream 7), ``steps`` Lanczos steps each (full
    reorthogonalisation, capped at n); nodes = Ritz values, weights = squared first components of
    T's eigenvectors. The smoothed density uses a Gaussian of width ``sigma`` (None: 1% of the
    node spread) on ``grid_points`` points over [grid_lower, grid_upper] (None: min/max node ∓ 5σ)
    and integrates to 1 (trapezoid). ``hvp_block`` runs step together, one block of HVPs per step."""

    def __init__(self, runs: Optional[int] = None, steps: Optional[int] = None,
                 grid_points: Optional[int] = None, sigma: Optional[float] = None,
                 grid_lower: Optional[float] = None, grid_upper: Optional[float] = None,
                 distribution: Optional[Union[str, ProbeDistribution, int]] = None,
                 symmetry_tolerance: Optional[float] = None, threads: Optional[int] = None, *, seed: int = 0,
                 hvp_block: Optional[int] = None):
        super().__init__(EstimatorKind.SPECTRAL_DENSITY, seed=seed, runs=runs, steps=steps, grid_points=grid_points,
                         sigma=sigma, grid_lower=grid_lower, grid_upper=grid_upper, distribution=distribution,
                         symmetry_tolerance=symmetry_tolerance, threads=threads, hvp_block=hvp_block)

    def _result(self, timing, ops=None, host_n=None):
        lengths = self._values(Result.RUN_STEPS).astype(np.int64)
        cuts = np.cumsum(lengths)[:-1]
        return DensityResult(
            **_common(self, timing), nodes=np.split(self._values(Result.DENSITY_NODES), cuts),
            weights=np.split(self._values(Result.DENSITY_WEIGHTS), cuts), trace=self._scalar(Result.TRACE),
            grid=self._values(Result.GRID), density=self._values(Result.DENSITY), sigma=self._scalar(Result.SIGMA),
            max_asymmetry=self._scalar(Result.MAX_ASYMMETRY))


ESTIMATOR_CLASSES = {
    EstimatorKind.LANCZOS: Lanczos,
    EstimatorKind.POWER_ITERATION: PowerIteration,
    EstimatorKind.HUTCHINSON: Hutchinson,
    EstimatorKind.HUTCH_PLUS_PLUS: HutchPlusPlus,
    EstimatorKind.DIAGONAL: Diagonal,
    EstimatorKind.SPECTRAL_DENSITY: SpectralDensity,
    EstimatorKind.XTRACE: XTrace,
    EstimatorKind.XDIAG: XDiag,
}
__all__.append("ESTIMATOR_CLASSES")


# -- stability helpers ------------------------------------------------------------------------

def edge_of_stability(lr: float, lambda_max: float) -> float:
    """lr·λ_max/2 (``hlr_edge_of_stability``): gradient descent is stable along the top
    eigenvector iff < 1; 1 is the edge of stability."""
    out = c_double()
    check(_lib.lib.hlr_edge_of_stability(float(lr), float(lambda_max), byref(out)))
    return out.value


def sgd_trace_stability(lr: float, trace: float) -> float:
    """lr·tr(H)/2 (``hlr_sgd_trace_stability``): > 1 means SGD cannot stay at this minimum
    (tr(H) ≤ 2/lr is necessary for its linear stability)."""
    out = c_double()
    check(_lib.lib.hlr_sgd_trace_stability(float(lr), float(trace), byref(out)))
    return out.value


def scaled_lr(lr: float, old_batch: float, new_batch: float,
              rule: Union[str, BatchScaling, int] = BatchScaling.LINEAR) -> float:
    """The learning rate for batch size ``new_batch`` given ``lr`` at ``old_batch``
    (``hlr_scaled_lr``): rule "linear" (SGD, lr·new/old) or "sqrt" (Adam, lr·√(new/old))."""
    if isinstance(rule, str):
        rule = _args.member(BatchScaling, rule, lambda _: InvalidArgumentError(
            f"rule must be 'linear' or 'sqrt', got {rule!r}"))
    out = c_double()
    check(_lib.lib.hlr_scaled_lr(float(lr), float(old_batch), float(new_batch), _args.key(rule, "rule"), byref(out)))
    return out.value
