"""Exceptions for the library's status codes.

Every failing C call becomes one :class:`HessianLRError` subclass per ``HLR_ERR_*`` code, carrying
``.code`` (the status) and ``.message`` (``hlr_last_error()``, which names the function, the bad
argument and its value, e.g. ``"hlr_tuner_set_param: smoothing must be in [0, …], got 1.5"``).
``str(error)`` is the message. A failed call changes nothing in the handle.
"""

from __future__ import annotations

from .constants import Status

__all__ = [
    "HessianLRError",
    "NullPointerError",
    "InvalidHandleError",
    "InvalidArgumentError",
    "UnknownMethodError",
    "UnknownKeyError",
    "NonFiniteError",
    "CallbackError",
    "WrongStateError",
    "BufferTooSmallError",
    "SnapshotCorruptError",
    "SnapshotVersionError",
    "SnapshotMismatchError",
    "error_class",
]


class HessianLRError(Exception):
    """A call into libhessianlr failed. ``code`` is the ``HLR_ERR_*`` status, ``message`` the
    library's ``hlr_last_error()`` text (or the binding's own, for checks done before the call)."""

    #: The status code this class stands for (None on the base class).
    status: Status | None = None

    def __init__(self, message: str, code: int | None = None):
        if code is None:
            code = int(self.status) if self.status is not None else -1
        super().__init__(message, code)
        self.code = int(code)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, message={self.message!r})"


class NullPointerError(HessianLRError):
    """``HLR_ERR_NULL_POINTER``: a required pointer argument is NULL."""

    status = Status.NULL_POINTER


class InvalidHandleError(HessianLRError):
    """``HLR_ERR_INVALID_HANDLE``: the handle is NULL, freed or foreign (e.g. a closed Tuner)."""

    status = Status.INVALID_HANDLE


class InvalidArgumentError(HessianLRError, ValueError):
    """``HLR_ERR_INVALID_ARGUMENT``: out of range, not finite, not an integer, inconsistent."""

    status = Status.INVALID_ARGUMENT


class UnknownMethodError(HessianLRError):
    """``HLR_ERR_UNKNOWN_METHOD``: method id not implemented by this library."""

    status = Status.UNKNOWN_METHOD


class UnknownKeyError(HessianLRError):
    """``HLR_ERR_UNKNOWN_KEY``: parameter or info key this method does not have."""

    status = Status.UNKNOWN_KEY


class NonFiniteError(HessianLRError):
    """``HLR_ERR_NONFINITE``: an observation or callback output is NaN or ±Inf; state unchanged."""

    status = Status.NONFINITE


class CallbackError(HessianLRError):
    """``HLR_ERR_CALLBACK``: a callback (HVP, loss) failed; state unchanged. When the callback
    raised a Python exception, it is this error's ``__cause__``."""

    status = Status.CALLBACK


class WrongStateError(HessianLRError):
    """``HLR_ERR_WRONG_STATE``: a valid call at the wrong moment (an observation the step does not
    need, a step already done, the tuner changed by another call during a host step)."""

    status = Status.WRONG_STATE


class BufferTooSmallError(HessianLRError):
    """``HLR_ERR_BUFFER_TOO_SMALL``: ``needed`` holds the required size in bytes when known."""

    status = Status.BUFFER_TOO_SMALL
    needed: int | None = None


class SnapshotCorruptError(HessianLRError):
    """``HLR_ERR_SNAPSHOT_CORRUPT``: truncated, bit-flipped or not a snapshot."""

    status = Status.SNAPSHOT_CORRUPT


class SnapshotVersionError(HessianLRError):
    """``HLR_ERR_SNAPSHOT_VERSION``: written by a newer or a retired snapshot format."""

    status = Status.SNAPSHOT_VERSION


class SnapshotMismatchError(HessianLRError):
    """``HLR_ERR_SNAPSHOT_MISMATCH``: snapshot of another method or group count."""

    status = Status.SNAPSHOT_MISMATCH


_BY_CODE = {
    cls.status.value: cls
    for cls in (
        NullPointerError,
        InvalidHandleError,
        InvalidArgumentError,
        UnknownMethodError,
        UnknownKeyError,
        NonFiniteError,
        CallbackError,
        WrongStateError,
        BufferTooSmallError,
        SnapshotCorruptError,
        SnapshotVersionError,
        SnapshotMismatchError,
    )
}


def error_class(code: int) -> type[HessianLRError]:
    """The exception class of a status code (the base class for codes this binding does not know)."""
    return _BY_CODE.get(int(code), HessianLRError)
