"""Every status code reaches Python as its own exception, with a message naming the bad value."""

from __future__ import annotations

import ctypes
import math
import struct
import zlib

import numpy as np
import pytest

import hessianlr as h
from hessianlr import Param, Status, _lib
from hessianlr.errors import error_class
from hessianlr._lib import check


def test_classes_and_codes():
    pairs = {
        h.NullPointerError: Status.NULL_POINTER,
        h.InvalidHandleError: Status.INVALID_HANDLE,
        h.InvalidArgumentError: Status.INVALID_ARGUMENT,
        h.UnknownMethodError: Status.UNKNOWN_METHOD,
        h.UnknownKeyError: Status.UNKNOWN_KEY,
        h.NonFiniteError: Status.NONFINITE,
        h.CallbackError: Status.CALLBACK,
        h.WrongStateError: Status.WRONG_STATE,
        h.BufferTooSmallError: Status.BUFFER_TOO_SMALL,
        h.SnapshotCorruptError: Status.SNAPSHOT_CORRUPT,
        h.SnapshotVersionError: Status.SNAPSHOT_VERSION,
        h.SnapshotMismatchError: Status.SNAPSHOT_MISMATCH,
    }
    assert len(pairs) == len(Status) - 1
    for cls, code in pairs.items():
        assert issubclass(cls, h.HessianLRError) and error_class(code) is cls
        error = cls("some message")
        assert error.code == code and error.message == "some message" and str(error) == "some message"
    assert issubclass(h.InvalidArgumentError, ValueError)
    assert error_class(99) is h.HessianLRError
    check(0)
    for code in Status:
        assert _lib.strerror(code)
    assert _lib.strerror(99) == "unknown status code"


def expect(cls, function, *needles):
    with pytest.raises(cls) as info:
        function()
    error = info.value
    assert error.code == cls.status
    for needle in needles:
        assert needle in error.message, f"{needle!r} not in {error.message!r}"
    return error


def test_null_pointer():
    with h.HessianLR(direction="update") as tuner:
        g = np.ones(3)
        expect(h.NullPointerError, lambda: tuner.observe_host(0, g, lambda v, out: None), "update", "NULL")
        handle = ctypes.c_void_p(tuner._handle)
        with pytest.raises(h.NullPointerError) as info:
            check(_lib.lib.hlr_tuner_get_param(handle, Param.SMOOTHING, None))
        assert "hlr_tuner_get_param" in info.value.message and "value is NULL" in info.value.message


def test_invalid_handle():
    tuner = h.HessianLR()
    tuner.close()
    tuner.close()  # idempotent
    expect(h.InvalidHandleError, lambda: tuner.lr(0), "handle is NULL")
    bogus = ctypes.c_void_p(0x1234560)
    value = ctypes.c_double()
    with pytest.raises(h.InvalidHandleError) as info:
        check(_lib.lib.hlr_tuner_get_param(bogus, Param.SMOOTHING, ctypes.byref(value)))
    assert "0x1234560" in info.value.message
    with pytest.raises(h.InvalidHandleError) as info:
        check(_lib.lib.hlr_tuner_free(bogus))
    assert "not a live tuner" in info.value.message
    assert "closed" in repr(tuner)


def test_invalid_argument():
    with h.HessianLR() as tuner:
        error = expect(h.InvalidArgumentError, lambda: tuner.set_param(Param.SMOOTHING, 1.5), "smoothing", "1.5")
        assert isinstance(error, ValueError)
        expect(h.InvalidArgumentError, lambda: tuner.set_param(Param.UPDATE_PERIOD, 2.5), "2.5")
        expect(h.InvalidArgumentError, lambda: tuner.set_param(Param.LR_MIN, 2.0), "2")
        expect(h.InvalidArgumentError, lambda: tuner.lr(0, group=3), "group 3")
        expect(h.InvalidArgumentError, lambda: tuner.observe_curvature(0, [1.0, 2.0, 3.0]), "got 3")
        expect(h.InvalidArgumentError, lambda: tuner.observe_curvature(0, [-1.0, 2.0]), "-1")
        expect(h.InvalidArgumentError, lambda: tuner.reset(7), "got 7")
        # checked by the binding before ctypes could wrap a negative value
        expect(h.InvalidArgumentError, lambda: tuner.lr(-1), "-1")
    expect(h.InvalidArgumentError, lambda: h.Tuner(h.Method.HESSIANLR, 0), "groups", "got 0")
    expect(h.InvalidArgumentError, lambda: h.HessianLR(direction="sideways"), "sideways")
    expect(h.InvalidArgumentError, lambda: h.HessianLR(direction=5), "5")
    with pytest.raises(TypeError):
        h.Tuner(h.Method.HESSIANLR, 1.5)


def test_unknown_method_and_key():
    expect(h.UnknownMethodError, lambda: h.Tuner(99), "99")
    expect(h.UnknownMethodError, lambda: h.param_bounds(77, Param.SMOOTHING), "77")
    expect(h.UnknownKeyError, lambda: h.param_bounds(h.Method.HESSIANLR, 99), "99")
    with h.HessianLR() as tuner:
        expect(h.UnknownKeyError, lambda: tuner.set_param(99, 1.0), "99")
        expect(h.UnknownKeyError, lambda: tuner.get_param(0), "0")
        expect(h.UnknownKeyError, lambda: tuner.info(42), "42")


def test_nonfinite():
    with h.HessianLR() as tuner:
        before = tuner.save()
        expect(h.NonFiniteError, lambda: tuner.observe_curvature(0, [math.nan, 1.0]), "nan")
        expect(h.NonFiniteError, lambda: tuner.observe_curvature(0, [1.0, math.inf]), "inf")
        assert tuner.save() == before


def test_callback():
    def broken(v, out):
        raise RuntimeError("boom 42")

    with h.HessianLR() as tuner:
        error = expect(h.CallbackError, lambda: tuner.observe_host(0, np.ones(4), broken), "callback")
        assert isinstance(error.__cause__, RuntimeError) and "boom 42" in str(error.__cause__)


def test_wrong_state():
    with h.HessianLR(update_period=10) as tuner:
        expect(h.WrongStateError, lambda: tuner.observe_curvature(3, [1.0, 1.0]), "step 3", "10")
        tuner.observe_curvature(0, [1.0, 1.0])
        expect(h.WrongStateError, lambda: tuner.observe_curvature(0, [1.0, 1.0]), "step 0")
        calls = []
        expect(h.WrongStateError, lambda: tuner.observe_host(5, np.ones(2), lambda v, out: calls.append(1)), "step 5")
        assert calls == []  # no HVP spent on a step that wants none


def test_buffer_too_small():
    with h.HessianLR() as tuner:
        size = tuner.snapshot_size()
        error = expect(h.BufferTooSmallError, lambda: tuner.save_into(bytearray(4)), "capacity 4", str(size))
        assert error.needed == size
        buffer = np.zeros(size + 10, dtype=np.uint8)
        assert tuner.save_into(buffer) == size
        assert bytes(buffer[:size]) == tuner.save()


def test_snapshot_errors():
    with h.HessianLR(groups=2) as two, h.HessianLR(groups=1) as one:
        blob = two.save()
        before = one.save()
        expect(h.SnapshotMismatchError, lambda: one.restore(blob), "2 groups")
        expect(h.SnapshotCorruptError, lambda: one.restore(blob[:10]), "10 bytes")
        expect(h.SnapshotCorruptError, lambda: one.restore(b""), "0 bytes")
        expect(h.SnapshotCorruptError, lambda: one.restore(b"XXXX" + blob[4:]), "magic")
        newer = bytearray(before)
        newer[4:6] = struct.pack("<H", 7)
        newer[-4:] = struct.pack("<I", zlib.crc32(bytes(newer[:-4])))
        expect(h.SnapshotVersionError, lambda: one.restore(bytes(newer)), "version 7")
        assert one.save() == before
