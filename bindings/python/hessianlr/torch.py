"""PyTorch integration (torch is imported only when this module is).

- :class:`LRTuner`: any method (auto, HessianLR, CDAT, GeN, Hi-DLR, Armijo, Constant) drives a
  torch optimizer through the library's need/observe protocol, with HVPs only on the steps that need
  curvature and loss probes by in-place perturbation restored bit for bit
  (:mod:`hessianlr.torch_driver`).
- :class:`HessianLRScheduler`: LRTuner with the seed's HessianLR options (defined here: the
  seed's ``hessianlr.torch`` class).
- :class:`ScheduleLR`: a :class:`~hessianlr.Schedule` as a ``torch.optim.lr_scheduler``
  scheduler (defined here).
- :func:`update_directions` / :func:`register_update_rule`: the optimizer's would-be update
  direction without stepping it (:mod:`hessianlr.torch_directions`): in closed form for SGD,
  Adam, AdamW and registered classes, measured by a dry run of the step for any other
  (:mod:`hessianlr.torch_measured_update`).
"""

from __future__ import annotations

import math
import operator
from typing import Any

import torch

from .errors import HessianLRError
from .schedule import Schedule
from .torch_directions import UnsupportedOptimizerError, register_update_rule, update_directions
from .torch_driver import LRTuner, UnsupportedTrainingError
from .torch_observations import DoubleBackwardError
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


def _checked_lr(value, what: str) -> float:
    """A group's learning rate as a float: finite and ≥ 0, else ValueError naming it."""
    try:
        lr = float(value)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"ScheduleLR: {what} must be a number, got {value!r}") from None
    if not (math.isfinite(lr) and lr >= 0):
        raise ValueError(f"ScheduleLR: {what} is {lr!r}; learning rates must be finite and >= 0")
    return lr


class ScheduleLR(torch.optim.lr_scheduler.LRScheduler):
    """Drives the optimizer's param groups from a schedule as torch's own scheduler drives them:
    group k follows the schedule rescaled to its initial lr L_k (:meth:`Schedule.rescaled`),

        lr_k(t) = schedule.rescaled(initial_lr_k).value(t)

    that is, the group's lr takes the place of the schedule's nominal rate (base_lr, max_lr):
    a group whose initial lr equals ``schedule.nominal`` gets exactly the schedule's values;
    the other rates of the schedule scale with the group, except the cosine kinds' ``eta_min``,
    an absolute floor in torch. For the schedules torch has this is torch's schedule for each
    group (tested side by side with 2 groups over hundreds of steps: CosineAnnealingLR and
    CosineAnnealingWarmRestarts keep eta_min absolute; OneCycleLR and CyclicLR match torch given
    per-group max_lr / base_lr lists in the ratio of the groups' lrs). For LambdaLR-style scaling
    of the whole schedule, eta_min included, use
    ``LambdaLR(optimizer, lambda t: schedule.factor(t))``.

    t is the number of ``step()`` calls (``last_epoch``); use it as any torch scheduler
    (``optimizer.step()`` then ``scheduler.step()``). A private copy of ``schedule`` is kept;
    ``state_dict`` stores it as its snapshot bytes, and ``load_state_dict`` validates everything
    (the snapshot, the groups' base lrs, last_epoch) before it changes anything.

    Every ``step()`` sets each group's lr to the closed form above, so ScheduleLR does not compose
    with other schedulers through ``ChainedScheduler``: it overwrites what a scheduler before it
    set, and a recursive torch scheduler after it (ExponentialLR, StepLR, ...) multiplies this
    step's value once instead of accumulating. Compose in the schedule instead
    (:func:`hessianlr.join`, :func:`hessianlr.warmup`). ``SequentialLR`` of ScheduleLRs works
    (it restarts each piece by its closed form; tested equal to the joined schedule).

    Group learning rates must be finite and ≥ 0: a NaN, ±inf or negative initial lr raises
    ValueError naming the group at construction (and in ``load_state_dict``), and so does a
    group whose lr was set to such a value by the time of a ``step()``.
    """

    def __init__(self, optimizer, schedule: Schedule, last_epoch: int = -1):
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a hessianlr.Schedule, got {type(schedule).__name__}")
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        # What LRScheduler.__init__ will take as base_lrs, checked before it writes initial_lr.
        bases = [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]
        self.schedule = schedule.copy()
        self._rescaled = self._rescale(self.schedule, bases, "initial lr")
        super().__init__(optimizer, last_epoch)

    # -- per-group schedules ---------------------------------------------------------------------

    @staticmethod
    def _rescale(schedule: Schedule, bases, what: str) -> tuple:
        """(the checked base lrs, one rescaled schedule per group); raises before building any
        if a base lr is bad."""
        lrs = tuple(_checked_lr(base, f"param group {k}'s {what}") for k, base in enumerate(bases))
        groups = []
        for k, lr in enumerate(lrs):
            try:
                groups.append(schedule.rescaled(lr))
            except HessianLRError as error:
                raise ValueError(f"ScheduleLR: param group {k}'s {what} {lr!r}: {error}") from error
        return lrs, groups

    def _group_schedules(self) -> list:
        lrs = tuple(float(base) for base in self.base_lrs)
        if self._rescaled[0] != lrs:  # base_lrs changed (by the caller): check and rebuild
            self._rescaled = self._rescale(self.schedule, self.base_lrs, "base lr")
        return self._rescaled[1]

    def get_lr(self) -> list[float]:
        for k, group in enumerate(self.optimizer.param_groups):
            _checked_lr(group["lr"], f"param group {k}'s lr")
        t = max(self.last_epoch, 0)
        return [schedule.value(t) for schedule in self._group_schedules()]

    _get_closed_form_lr = get_lr

    # -- checkpoints -----------------------------------------------------------------------------

    def state_dict(self) -> dict:
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "_rescaled")}
        state["schedule"] = self.schedule.save()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restores ``state_dict()`` output, all or nothing: a corrupt schedule snapshot
        (SnapshotCorruptError, ...), a bad base lr or last_epoch (ValueError) raise before
        anything changes."""
        state = dict(state_dict)
        blob = state.pop("schedule", None)
        state.pop("_rescaled", None)
        if blob is None:
            schedule = self.schedule
        elif isinstance(blob, Schedule):
            schedule = blob.copy()
        else:
            schedule = Schedule.load(blob)
        if "last_epoch" in state:
            try:
                last_epoch = operator.index(state["last_epoch"])
            except TypeError:
                raise ValueError(f"ScheduleLR: last_epoch must be an integer, got {state['last_epoch']!r}") from None
            if last_epoch < -1:
                raise ValueError(f"ScheduleLR: last_epoch must be >= -1, got {last_epoch}")
        bases = state.get("base_lrs", self.base_lrs)
        if len(bases) != len(self.optimizer.param_groups):
            raise ValueError(f"ScheduleLR: the state has {len(bases)} base lrs, the optimizer "
                             f"{len(self.optimizer.param_groups)} param groups")
        rescaled = self._rescale(schedule, bases, "base lr")
        # Whether this scheduler drives the groups now: they hold the rates it last set.
        driving = [group["lr"] for group in self.optimizer.param_groups] == list(self._last_lr)
        super().load_state_dict(state)
        self.schedule = schedule
        self._rescaled = rescaled
        t = max(self.last_epoch, 0)
        self._last_lr = [group_schedule.value(t) for group_schedule in rescaled[1]]
        if driving:
            # A ScheduleLR built after the optimizer's state was loaded has set every group to
            # value(0); the first optimizer.step() after resuming must use the restored step's
            # rate. Groups holding other rates (the optimizer's state loaded after this scheduler
            # was built: the checkpoint's rates; or another scheduler's, in a SequentialLR) are
            # left as they are.
            for group, lr in zip(self.optimizer.param_groups, self._last_lr):
                group["lr"] = lr
