"""The lifetime of one library handle, shared by :class:`~hessianlr.Tuner`,
:class:`~hessianlr.Schedule` and :class:`~hessianlr.Estimator`.

A subclass names its ``hlr_*_free`` function in ``_free_function`` and keeps the handle in
``self._handle`` (None once freed). ``close()`` frees it and is idempotent; the object is a
context manager; ``__del__`` frees a handle that was never closed. Calls on a closed object pass
a NULL handle to the library, which answers InvalidHandleError.
"""

from __future__ import annotations

from . import _lib
from .errors import check

__all__ = ["OwnedHandle"]


class OwnedHandle:
    #: Name of the library function that frees this kind of handle, e.g. "hlr_tuner_free".
    _free_function: str = ""
    _handle = None

    def close(self) -> None:
        """Frees the handle (the class's ``hlr_*_free``); later calls raise InvalidHandleError."""
        handle, self._handle = self._handle, None
        if handle is not None:
            check(getattr(_lib.lib, self._free_function)(handle))

    @property
    def closed(self) -> bool:
        return self._handle is None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self):
        handle = getattr(self, "_handle", None)
        if handle is None:
            return
        self._handle = None
        try:
            getattr(_lib.lib, self._free_function)(handle)
        except Exception:  # interpreter shutdown: modules may already be torn down
            pass
