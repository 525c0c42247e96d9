"""PyTorch integration: :class:`HessianLRScheduler` drives a torch optimizer's learning rates.

torch is imported only when a scheduler is created or stepped, so ``import hessianlr`` works
without it.
"""

from __future__ import annotations

from typing import Any

from .constants import Direction
from .tuner import HessianLR, _direction

__all__ = ["HessianLRScheduler"]


def _torch():
    import torch  # lazy: torch is an optional dependency

    return torch


class HessianLRScheduler:
    """HessianLR learning rates for a torch optimizer, one library group per param group.

    The scheduler computes the gradients itself (so it can ask for the double-backward graph only
    on the steps where the tuner wants curvature) and writes them into ``p.grad``. The loop::

        optimizer = torch.optim.SGD(model.parameters(), lr=0.03)
        scheduler = HessianLRScheduler(optimizer, update_period=10)
        for x, y in loader:
            loss = loss_fn(model(x), y)
            scheduler.step(loss)   # p.grad = ∂loss/∂p; curvature on wanted steps; sets each lr
            optimizer.step()       # the update w ← w − lr·g with the rates just set

    Do not call ``loss.backward()`` yourself: ``step`` replaces ``p.grad`` (no accumulation;
    parameters the loss does not reach get ``p.grad = None``).

    What ``step(loss)`` does at its step t (counted from 0, one per call):

    1. ``wants = tuner.wants_curvature(t)``.
    2. ``g = torch.autograd.grad(loss, params, create_graph=wants)``: the graph of the gradient
       is built only on wanted steps.
    3. On wanted steps, per param group k: s_k = g_k·g_k ([loss²/w²]... i.e. ‖g_k‖²) and
       c_k = g_kᵀ H g_k (one Hessian-vector product per group: a second ``autograd.grad`` of the
       group's gradients with ``grad_outputs = g_k``, restricted to the group's parameters,
       which equals g_kᵀ(H ĝ_k) with ĝ_k = g on group k and 0 elsewhere). Computed on the
       tensors' device; the 2·G scalars reach the host in ONE transfer and are observed as
       float64.
    4. Each ``param_group['lr']`` is set to the tuner's rate for step t (it includes the
       observation of step t).

    ``hessianlr_options`` are the keyword arguments of :class:`hessianlr.HessianLR` except
    ``groups`` and ``initial_lr`` (taken from the optimizer's param groups) — e.g.
    ``update_period``, ``num_warmup_steps``, ``lr_bounds``, ``lr_min``, ``lr_max`` (default
    1.0: larger optimizer LRs are clamped), ``smoothing_factor``, ``negative_curvature_decay``.
    The direction is the gradient (the exact quadratic model of plain SGD); with momentum or
    adaptive optimizers the rate is a heuristic.

    Errors from the library propagate (e.g. NonFiniteError for a NaN loss on a wanted step); the
    step is then not counted, so calling ``step`` again retries the same step.
    """

    def __init__(self, optimizer, **hessianlr_options: Any):
        torch = _torch()
        for name in ("groups", "initial_lr"):
            if name in hessianlr_options:
                raise TypeError(f"{name} is taken from the optimizer's param groups; do not pass it")
        direction = hessianlr_options.get("direction", "gradient")
        if _direction(direction) != Direction.GRADIENT:
            raise ValueError(f"HessianLRScheduler measures along the gradient; direction={direction!r} is not supported")
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        initial = []
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", float(group["lr"]))
            initial.append(float(group["initial_lr"]))
        self.tuner = HessianLR(groups=len(initial), initial_lr=initial, **hessianlr_options)
        self._step = 0
        #: Hessian-vector products computed so far (one per group on each wanted step).
        self.hvp_count = 0
        self._last_lr = self.tuner.lrs(0)
        self._apply(self._last_lr)

    # -- queries -------------------------------------------------------------------------------

    @property
    def step_count(self) -> int:
        """Steps taken so far (the step the next ``step(loss)`` call will be)."""
        return self._step

    def wants_curvature(self) -> bool:
        """Whether the next ``step(loss)`` will measure curvature (and build the graph)."""
        return self.tuner.wants_curvature(self._step)

    def get_last_lr(self) -> list[float]:
        """The rates last set on the optimizer's param groups, one per group."""
        return list(self._last_lr)

    # -- the step ------------------------------------------------------------------------------

    def _apply(self, lrs) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr

    def _observation(self, torch, groups, grads):
        """[s_0, c_0, s_1, c_1, ...] on the device, then one transfer to the host."""
        device = next(p.device for ps in groups for p in ps)
        accumulate = torch.float32 if device.type == "mps" else torch.float64
        zero = torch.zeros((), dtype=accumulate, device=device)
        pending = []  # per group: (params with a gradient, their gradients)
        start = 0
        for params in groups:
            pairs = [(p, g) for p, g in zip(params, grads[start : start + len(params)]) if g is not None]
            start += len(params)
            pending.append(pairs)
        last_hvp = max((k for k, pairs in enumerate(pending) if any(g.requires_grad for _, g in pairs)), default=-1)
        scalars = []
        for k, pairs in enumerate(pending):
            slope = zero
            for _, g in pairs:
                flat = g.detach().reshape(-1)
                slope = slope + torch.dot(flat, flat).to(device=device, dtype=accumulate)
            curvature = zero
            live = [(p, g) for p, g in pairs if g.requires_grad]
            if live:
                vectors = [g.detach() for _, g in live]
                products = torch.autograd.grad(
                    [g for _, g in live],
                    [p for p, _ in live],
                    grad_outputs=vectors,
                    retain_graph=k < last_hvp,
                    allow_unused=True,
                )
                self.hvp_count += 1
                for v, hv in zip(vectors, products):
                    if hv is not None:
                        curvature = curvature + torch.dot(v.reshape(-1), hv.reshape(-1)).to(device=device, dtype=accumulate)
            scalars += [slope, curvature]
        return torch.stack(scalars).cpu().to(torch.float64).numpy()

    def step(self, loss) -> list[float]:
        """One training step's gradient and learning rates (see the class docstring); returns the
        rates set on the optimizer."""
        torch = _torch()
        step = self._step
        wants = self.tuner.wants_curvature(step)
        groups = [[p for p in group["params"] if p.requires_grad] for group in self.optimizer.param_groups]
        params = [p for ps in groups for p in ps]
        if not params:
            raise ValueError("the optimizer has no parameters that require grad")
        grads = torch.autograd.grad(loss, params, create_graph=wants, allow_unused=True)
        for p, g in zip(params, grads):
            p.grad = None if g is None else g.detach()
        if wants:
            values = self._observation(torch, groups, grads)
            del grads  # frees the double-backward graph
            self.tuner.observe_curvature(step, values)
        lrs = self.tuner.lrs(step)
        self._apply(lrs)
        self._last_lr = lrs
        self._step = step + 1
        return list(lrs)

    # -- checkpoints ---------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """The library snapshot (bytes) plus the step counter; pair it with the optimizer's."""
        return {
            "tuner": self.tuner.save(),
            "step": self._step,
            "hvp_count": self.hvp_count,
            "last_lr": list(self._last_lr),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restores ``state_dict()`` output: the tuner continues bit-identically."""
        self.tuner.restore(state["tuner"])
        self._step = int(state["step"])
        self.hvp_count = int(state.get("hvp_count", 0))
        self._last_lr = list(state.get("last_lr", self.tuner.lrs(self._step)))

    def close(self) -> None:
        """Frees the library handle now (otherwise when the scheduler is collected)."""
        self.tuner.close()
