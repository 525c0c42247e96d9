"""The estimator section of the ABI through the raw ctypes prototypes: a host run, the same run
through an ``hlr_vector_ops`` table of numpy-backed vectors (checks the struct mirror), and the
scalar diagnostics."""

from __future__ import annotations

import ctypes
from ctypes import byref, c_double, c_int, c_size_t, c_uint64, c_void_p

import numpy as np
import pytest

import hessianlr as h
from hessianlr import EstimatorKind, EstimatorParam, Result, _lib
from hessianlr._lib import check

from reference import lib_dot

lib = _lib.lib
N = 40
EIGENVALUES = np.linspace(-3.0, 7.0, N) ** 1  # a symmetric (diagonal) operator with known spectrum


def results(estimator, key):
    size = c_size_t()
    check(lib.hlr_estimator_result_size(estimator, key, byref(size)))
    out = (c_double * size.value)()
    check(lib.hlr_estimator_get_result(estimator, key, out, size.value))
    return list(out)


def make(kind, **params):
    handle = c_void_p()
    check(lib.hlr_estimator_create(kind, byref(handle)))
    for key, value in params.items():
        check(lib.hlr_estimator_set_param(handle, EstimatorParam[key.upper()], float(value)))
    check(lib.hlr_estimator_set_seed(handle, 12345))
    return handle


def test_vector_ops_layout():
    fields = _lib.VectorOps._fields_
    assert ctypes.sizeof(_lib.VectorOps) == len(fields) * ctypes.sizeof(c_void_p)
    for i, (name, _) in enumerate(fields):
        assert getattr(_lib.VectorOps, name).offset == i * ctypes.sizeof(c_void_p), name


def host_run(estimator):
    def hvp(_ctx, v, out, n):
        for i in range(n):
            out[i] = EIGENVALUES[i] * v[i]
        return 0

    callback = _lib.HVP_F64(hvp)
    check(lib.hlr_estimator_run_host_f64(estimator, N, callback, None))


def ops_run(estimator):
    vectors, counter = {}, [100]

    def alloc(_ctx, out):
        counter[0] += 1
        vectors[counter[0]] = np.zeros(N)
        out[0] = counter[0]
        return 0

    def release(_ctx, v):
        vectors.pop(v)

    def copy(_ctx, src, dst):
        vectors[dst][:] = vectors[src]
        return 0

    def dot(_ctx, x, y, out):
        out[0] = lib_dot(vectors[x], vectors[y])
        return 0

    def axpy(_ctx, a, x, y):
        vectors[y] += a * vectors[x]
        return 0

    def scale(_ctx, a, x):
        vectors[x] *= a
        return 0

    def fill_probe(_ctx, v, seed, stream, index, distribution):
        target = vectors[v]
        return lib.hlr_probe_fill_f64(seed, stream, index, distribution, 0,
                                      target.ctypes.data_as(ctypes.POINTER(c_double)), N)

    def hvp(_ctx, v, out):
        vectors[out][:] = EIGENVALUES * vectors[v]
        return 0

    V = _lib.VectorOps
    table = V(ctypes.sizeof(V), N, V.ALLOC(alloc), V.RELEASE(release), V.COPY(copy), V.DOT(dot),
              V.AXPY(axpy), V.SCALE(scale), V.FILL_PROBE(fill_probe), V.HVP(hvp), V.MUL_ACC(), V.BLOCK_DOTS())
    check(lib.hlr_estimator_run_ops(estimator, byref(table), None))
    assert vectors == {}  # every vector the run allocated was released


@pytest.mark.parametrize("kind, params, key, expected", [
    (EstimatorKind.LANCZOS, dict(count=2, which=h.Which.LARGEST_ALGEBRAIC), Result.EIGENVALUES, [7.0, EIGENVALUES[-2]]),
    (EstimatorKind.POWER_ITERATION, dict(count=1, tolerance=1e-10, max_iterations=2000), Result.EIGENVALUES, [7.0]),
    (EstimatorKind.HUTCHINSON, dict(samples=50), Result.TRACE, None),
    (EstimatorKind.HUTCH_PLUS_PLUS, dict(), Result.TRACE, [EIGENVALUES.sum()]),
    (EstimatorKind.SPECTRAL_DENSITY, dict(steps=20), Result.DENSITY_NODES, None),
])
def test_host_and_ops_runs(kind, params, key, expected):
    host = make(kind, **params)
    ops = make(kind, **params)
    try:
        host_run(host)
        ops_run(ops)
        ours, theirs = results(host, key), results(ops, key)
        assert ours == theirs  # the header's promise: same reductions in the same order, same bits
        if kind == EstimatorKind.HUTCHINSON:  # Rademacher probes on a diagonal operator: exact
            assert ours[0] == pytest.approx(EIGENVALUES.sum(), rel=1e-12)
        elif kind == EstimatorKind.SPECTRAL_DENSITY:
            assert min(ours) >= -3.0 - 1e-9 and max(ours) <= 7.0 + 1e-9
        else:
            assert np.allclose(ours, expected, rtol=1e-2 if kind == EstimatorKind.HUTCH_PLUS_PLUS else 1e-6)
        assert results(host, Result.HVPS)[0] >= 1
        kind_out = c_int()
        check(lib.hlr_estimator_kind(host, byref(kind_out)))
        assert kind_out.value == kind
        seed = c_uint64()
        check(lib.hlr_estimator_get_seed(host, byref(seed)))
        assert seed.value == 12345
    finally:
        check(lib.hlr_estimator_free(host))
        check(lib.hlr_estimator_free(ops))


def test_errors_and_diagnostics():
    low, high, default = c_double(), c_double(), c_double()
    check(lib.hlr_estimator_param_bounds(EstimatorKind.LANCZOS, EstimatorParam.MAX_DIMENSION, byref(low), byref(high),
                                         byref(default)))
    assert default.value == 128
    with pytest.raises(h.UnknownMethodError):
        check(lib.hlr_estimator_create(99, byref(c_void_p())))
    out = c_double()
    check(lib.hlr_scaled_lr(0.1, 32.0, 128.0, h.BatchScaling.SQRT, byref(out)))
    assert out.value == pytest.approx(0.2, rel=1e-15)
    check(lib.hlr_edge_of_stability(0.1, 30.0, byref(out)))
    assert out.value == pytest.approx(1.5)
    check(lib.hlr_sgd_trace_stability(0.01, 100.0, byref(out)))
    assert out.value == pytest.approx(0.5)
    with pytest.raises(h.InvalidArgumentError):
        check(lib.hlr_edge_of_stability(-0.1, 30.0, byref(out)))
    probes = np.zeros(8, dtype=np.float32)
    check(lib.hlr_probe_fill_f32(1, 3, 0, h.ProbeDistribution.RADEMACHER, 0,
                                 probes.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), 8))
    assert set(probes.tolist()) <= {-1.0, 1.0}
