"""PyTorch integration (torch is imported only when this module is).

- :class:`LRTuner`: any method (HessianLR, CDAT, GeN, Hi-DLR, Armijo, Constant) drives a torch
  optimizer through the library's need/observe protocol, with HVPs only on the steps that need
  curvature and loss probes by in-place perturbation restored bit for bit
  (:mod:`hessianlr.torch_driver`).
- :class:`HessianLRScheduler`: LRTuner with the seed's HessianLR options (defined here: the
  seed's ``hessianlr.torch`` class).
- :class:`ScheduleLR`: a :class:`~hessianlr.Schedule` as a ``torch.optim.lr_scheduler``
  scheduler (:mod:`hessianlr.torch_schedule`).
- :func:`update_directions` / :func:`register_update_rule`: the optimizer's would-be update
  direction without stepping it (:mod:`hessianlr.torch_directions`).
"""

from __future__ import annotations

from typing import Any

from .torch_directions import UnsupportedOptimizerError, register_update_rule, update_directions
from .torch_driver import LRTuner, UnsupportedTrainingError, _torch
from .torch_observations import DoubleBackwardError
from .torch_schedule import ScheduleLR
from .tuners import HessianLR

__all__ = [
    "DoubleBackwardError",
    "LRTuner",
    "HessianLRScheduler",
    "ScheduleLR",
    "UnsupportedOptimizerError",
    "UnsupportedTrainingError",
    "register_update_rule",
    "update_directions",
]


class HessianLRScheduler(LRTuner):
    """HessianLR learning rates for a torch optimizer, one library group per param group.

    The loop::

        optimizer = torch.optim.SGD(model.parameters(), lr=0.03)
        scheduler = HessianLRScheduler(optimizer, update_period=10)
        for x, y in loader:
            loss = loss_fn(model(x), y)
            scheduler.step(loss)   # p.grad = ∂loss/∂p; curvature on wanted steps; sets each lr
            optimizer.step()       # the update w ← w − lr·d with the rates just set

    Do not call ``loss.backward()`` yourself: ``step`` replaces ``p.grad``. On the steps where
    the tuner wants curvature (t ≥ W, (t − W) % update_period == 0) the gradient is built with
    ``create_graph=True`` and, per param group k, s_k = g_kᵀd_k and c_k = d_kᵀH d_k are computed
    with one Hessian-vector product per group; the 2·G scalars reach the host in one transfer.
    On every other step no double-backward graph is built. See :class:`LRTuner` for the details.

    ``hessianlr_options`` are the keyword arguments of :class:`hessianlr.HessianLR` except
    ``groups`` and ``initial_lr`` (taken from the optimizer's param groups): ``update_period``,
    ``num_warmup_steps``, ``lr_bounds``, ``lr_min``, ``lr_max`` (default 1.0: larger optimizer
    LRs are clamped), ``smoothing_factor``, ``negative_curvature_decay``, ``direction``
    (``"gradient"``, the exact quadratic model of plain SGD, or ``"update"``: d = the optimizer's
    update u, for SGD with momentum / weight decay and Adam/AdamW), ``schedule``.

    ``curvature``, ``ddp``, ``process_group`` and ``scaler`` are :class:`LRTuner`'s: where the
    curvature comes from (``"auto"``, ``"graph"``, ``"finite_difference"``), the
    DistributedDataParallel module or the process group the observations are averaged over, and
    the ``torch.amp.GradScaler`` whose skipped steps the driver skips too; with them call
    :meth:`~LRTuner.after_backward` after your own backward pass (see :class:`LRTuner`).
    """

    def __init__(self, optimizer, *, curvature: str = "auto", ddp=None, process_group=None, scaler=None,
                 **hessianlr_options: Any):
        torch = _torch()
        for name in ("groups", "initial_lr"):
            if name in hessianlr_options:
                raise TypeError(f"{name} is taken from the optimizer's param groups; do not pass it")
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        initial = []
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", float(group["lr"]))
            initial.append(float(group["initial_lr"]))
        tuner = HessianLR(groups=len(initial), initial_lr=initial, **hessianlr_options)
        try:
            super().__init__(optimizer, tuner, curvature=curvature, ddp=ddp, process_group=process_group,
                             scaler=scaler)
        except BaseException:
            tuner.close()
            raise
