"""Counting forward passes of a model (a forward pre-hook), only while `active` is set."""

from __future__ import annotations


class ForwardCounter:
    """`count` grows by one per call of `model` while `active` is true; `remove()` drops the hook."""

    def __init__(self, model):
        self.count, self.active = 0, False
        self._handle = model.register_forward_pre_hook(self._hook)

    def _hook(self, module, args):
        if self.active:
            self.count += 1

    def remove(self):
        self._handle.remove()
