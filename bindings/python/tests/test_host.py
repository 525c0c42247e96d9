"""Host mode: numpy buffers passed without copying, a Python HVP callback, groups, failures."""

from __future__ import annotations

import numpy as np
import pytest

import hessianlr as h
from hessianlr import Flag, Info

WIDE = dict(smoothing_factor=0.0, lr_bounds=(1e-12, 1e12), lr_min=0.0, lr_max=1e12)


def random_spd(n, rng, dtype):
    a = rng.normal(size=(n, n))
    return (a @ a.T / n + np.eye(n)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_single_group_zero_copy(dtype):
    rng = np.random.default_rng(0)
    n = 50
    H = random_spd(n, rng, dtype)
    g = rng.normal(size=n).astype(dtype)
    seen = []

    def hvp(v, out):
        assert v.dtype == dtype and out.dtype == dtype and v.shape == (n,) and out.shape == (n,)
        assert not v.flags.writeable and out.flags.writeable
        assert not out.any()  # zeroed by the library
        seen.append((v.ctypes.data, np.shares_memory(v, g), np.shares_memory(out, g)))
        with pytest.raises(ValueError):
            v[0] = 1  # read-only view
        np.matmul(H, v, out=out)

    with h.HessianLR(initial_lr=1.0, **WIDE) as tuner:
        tuner.observe_host(0, g, hvp)
        assert seen == [(g.ctypes.data, True, False)]  # v IS the caller's gradient buffer
        s = float(np.dot(g.astype(np.float64), g.astype(np.float64)))
        c = float(np.dot(g.astype(np.float64), (H @ g).astype(np.float64)))
        rel = 1e-5 if dtype == np.float32 else 1e-12
        assert tuner.info(Info.LAST_SLOPE) == pytest.approx(s, rel=rel)
        assert tuner.info(Info.LAST_CURVATURE) == pytest.approx(c, rel=rel)
        assert tuner.lr(0) == pytest.approx(s / c, rel=rel)


def test_2d_contiguous_buffer_is_flattened_without_copy():
    g = np.arange(1.0, 7.0).reshape(2, 3)
    addresses = []

    def hvp(v, out):
        addresses.append(v.ctypes.data)
        out[:] = 2 * v

    with h.HessianLR(initial_lr=1.0, **WIDE) as tuner:
        tuner.observe_host(0, g, hvp)
        assert addresses == [g.ctypes.data] and tuner.lr(0) == 0.5


def test_buffer_checks():
    hvp = lambda v, out: None  # noqa: E731
    with h.HessianLR() as tuner:
        with pytest.raises(TypeError, match="numpy.ndarray"):
            tuner.observe_host(0, [1.0, 2.0], hvp)
        with pytest.raises(TypeError, match="int64"):
            tuner.observe_host(0, np.arange(3), hvp)
        with pytest.raises(ValueError, match="C-contiguous"):
            tuner.observe_host(0, np.ones(6)[::2], hvp)
        with pytest.raises(TypeError, match="callable"):
            tuner.observe_host(0, np.ones(3), None)
        with pytest.raises(h.InvalidArgumentError, match="n must be"):
            tuner.observe_host(0, np.ones(0), hvp)
        with pytest.raises(h.InvalidArgumentError, match="direction is 'gradient'"):
            tuner.observe_host(0, np.ones(3), hvp, update=np.ones(3))
    with h.HessianLR(direction="update") as tuner:
        with pytest.raises(TypeError, match="must match"):
            tuner.observe_host(0, np.ones(3), hvp, update=np.ones(3, dtype=np.float32))
        with pytest.raises(ValueError, match="elements"):
            tuner.observe_host(0, np.ones(3), hvp, update=np.ones(4))
    with h.HessianLR(groups=2) as tuner:
        with pytest.raises(h.NullPointerError, match="group_offsets"):
            tuner.observe_host(0, np.ones(3), hvp)
        with pytest.raises(h.InvalidArgumentError, match="n_offsets"):
            tuner.observe_host(0, np.ones(3), hvp, group_offsets=[0, 3])
        with pytest.raises(h.InvalidArgumentError, match="must not decrease"):
            tuner.observe_host(0, np.ones(3), hvp, group_offsets=[0, 2, 1])
        with pytest.raises(h.InvalidArgumentError, match="non-negative"):
            tuner.observe_host(0, np.ones(3), hvp, group_offsets=[0, -1, 3])
        with pytest.raises(TypeError, match="integers"):
            tuner.observe_host(0, np.ones(3), hvp, group_offsets=[0, 1.5, 3])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multi_group_offsets(dtype):
    rng = np.random.default_rng(1)
    offsets = [0, 3, 3, 7, 12]  # group 1 is empty
    n = offsets[-1]
    H = random_spd(n, rng, np.float64)
    g = rng.normal(size=n).astype(dtype)
    masks = []

    def hvp(v, out):
        masks.append(np.flatnonzero(v).tolist())
        out[:] = (H @ v.astype(np.float64)).astype(dtype)

    with h.HessianLR(groups=4, initial_lr=1.0, **WIDE) as tuner:
        tuner.observe_host(0, g, hvp, group_offsets=offsets)
        live = [k for k in range(4) if offsets[k + 1] > offsets[k]]
        assert masks == [list(range(offsets[k], offsets[k + 1])) for k in live]  # one HVP per non-empty group
        rel = 1e-5 if dtype == np.float32 else 1e-12
        for k in range(4):
            part = slice(offsets[k], offsets[k + 1])
            gk = g[part].astype(np.float64)
            s = float(gk @ gk)
            c = float(gk @ (H[part, part] @ gk))
            assert tuner.info(Info.LAST_SLOPE, k) == pytest.approx(s, rel=rel)
            assert tuner.info(Info.LAST_CURVATURE, k) == pytest.approx(c, rel=rel)
            if s == 0:
                assert Flag(int(tuner.info(Info.LAST_FLAGS, k))) == Flag.ZERO_GRADIENT
                assert tuner.lr(0, k) == 1.0
            else:
                assert tuner.lr(0, k) == pytest.approx(s / c, rel=rel)


def test_direction_update():
    H = np.diag([2.0, 8.0])
    g = np.array([1.0, 1.0])
    u = np.array([0.0, 0.5])
    seen = []

    def hvp(v, out):
        seen.append(v.ctypes.data)
        np.matmul(H, v, out=out)

    with h.HessianLR(initial_lr=1.0, direction="update", **WIDE) as tuner:
        tuner.observe_host(0, g, hvp, update=u)
        assert seen == [u.ctypes.data]
        assert tuner.info(Info.LAST_SLOPE) == 0.5 and tuner.info(Info.LAST_CURVATURE) == 2.0
        assert tuner.lr(0) == 0.25


def test_callback_exception_leaves_state_unchanged():
    g = np.ones(5)
    with h.HessianLR(update_period=1) as tuner:
        tuner.observe_host(0, g, lambda v, out: np.multiply(v, 3.0, out=out))
        before = tuner.save()

        class Boom(Exception):
            pass

        def hvp(v, out):
            out[:] = 1.0
            raise Boom("inside the hvp")

        with pytest.raises(h.CallbackError) as info:
            tuner.observe_host(1, g, hvp)
        assert isinstance(info.value.__cause__, Boom)
        assert "callback" in info.value.message
        assert tuner.save() == before
        tuner.observe_host(1, g, lambda v, out: np.multiply(v, 3.0, out=out))  # step 1 still open
        assert tuner.info(Info.UPDATES) == 2


def test_keyboard_interrupt_in_callback_propagates_as_is():
    def hvp(v, out):
        raise KeyboardInterrupt

    with h.HessianLR() as tuner:
        before = tuner.save()
        with pytest.raises(KeyboardInterrupt):
            tuner.observe_host(0, np.ones(2), hvp)
        assert tuner.save() == before


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_callback_output_leaves_state_unchanged(bad):
    with h.HessianLR() as tuner:
        before = tuner.save()

        def hvp(v, out):
            out[:] = v
            out[1] = bad

        with pytest.raises(h.NonFiniteError, match="dᵀHd"):
            tuner.observe_host(0, np.ones(3, dtype=np.float32), hvp)
        assert tuner.save() == before
        with pytest.raises(h.NonFiniteError, match="gᵀd"):
            tuner.observe_host(0, np.array([1.0, bad]), lambda v, out: None)
        assert tuner.save() == before


def test_callback_may_call_the_library_on_the_same_handle():
    with h.HessianLR(initial_lr=0.5) as tuner:
        rates = []

        def hvp(v, out):
            rates.append(tuner.lr(0))
            out[:] = 4 * v

        tuner.observe_host(0, np.ones(2), hvp)
        assert rates == [0.5] and tuner.info(Info.UPDATES) == 1
