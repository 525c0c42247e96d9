"""The lifetime of one library handle, shared by :class:`~hessianlr.Tuner`,
:class:`~hessianlr.Schedule` and :class:`~hessianlr.Estimator`.

A subclass names its ``hlr_*_free`` function in ``_free_function`` and keeps the handle in
``self._handle`` (None once freed). ``close()`` frees it and is idempotent; the object is a
context manager; ``__del__`` frees a handle that was never closed. Calls on a closed object pass
a NULL handle to the library, which answers InvalidHandleError.

Copies (``pickle``, ``copy.copy``, ``copy.deepcopy``, ``torch.save``, multiprocessing) never
share the handle: ``__reduce__`` rebuilds the object on a new, independent handle from what the
subclass's ``_rebuild()`` returns (a callable and its arguments: a snapshot for tuners and
schedules, the configuration for estimators), so the copy continues bit-identically and closing
one never frees the other. A raw handle value means nothing in another process, so it is never
pickled. A subclass without ``_rebuild`` refuses to be copied with a TypeError; a closed object
refuses with InvalidHandleError. Attributes other than the handle (``__dict__``) are copied as
Python copies them.

``revision`` counts the calls that may have changed the handle's state (the methods decorated
with :func:`mutating`): a caller that keeps something it read from the library (the torch
driver keeps a step's rates, see ``Tuner.plan``) knows it is still valid while the revision is
the one it read at.
"""

from __future__ import annotations

import functools

from . import _lib
from .errors import InvalidHandleError, check

__all__ = ["OwnedHandle", "mutating"]


def mutating(method):
    """Marks a method that may change the handle's state: it advances ``revision`` before the
    call (also when the call fails, which changes nothing: a conservative count)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        self._revision += 1
        return method(self, *args, **kwargs)

    return wrapper


class OwnedHandle:
    #: Name of the library function that frees this kind of handle, e.g. "hlr_tuner_free".
    _free_function: str = ""
    _handle = None
    _revision = 0

    @property
    def revision(self) -> int:
        """Advances at every call that may have changed the handle's state (see the module)."""
        return self._revision

    def close(self) -> None:
        """Frees the handle (the class's ``hlr_*_free``); later calls raise InvalidHandleError."""
        handle, self._handle = self._handle, None
        self._revision += 1  # nothing read before stays valid
        if handle is not None:
            check(getattr(_lib.lib, self._free_function)(handle))

    @property
    def closed(self) -> bool:
        return self._handle is None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _rebuild(self):
        """(callable, args) building an independent equal object on a new handle; subclasses
        that can be copied override this."""
        raise TypeError(f"{type(self).__name__} objects cannot be pickled or copied")

    def __reduce__(self):
        if self._handle is None:
            raise InvalidHandleError(f"cannot pickle or copy a closed {type(self).__name__}")
        rebuild, args = self._rebuild()
        state = {name: value for name, value in self.__dict__.items() if name != "_handle"}
        return (rebuild, args, state or None)

    def __del__(self):
        handle = getattr(self, "_handle", None)
        if handle is None:
            return
        self._handle = None
        try:
            getattr(_lib.lib, self._free_function)(handle)
        except Exception:  # interpreter shutdown: modules may already be torn down
            pass
