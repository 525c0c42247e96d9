""":class:`ScheduleLR`: a library :class:`~hessianlr.Schedule` as a torch LR scheduler."""

from __future__ import annotations

import torch

from .schedule import Schedule

__all__ = ["ScheduleLR"]


class ScheduleLR(torch.optim.lr_scheduler.LRScheduler):
    """Drives the optimizer's param groups from a schedule, like ``LambdaLR`` with
    λ(t) = schedule.value(t) / schedule.nominal on each group's ``initial_lr``:

        lr_k(t) = schedule.value(t) · (initial_lr_k / nominal)

    so a group whose initial lr equals the schedule's nominal rate (its base_lr / max_lr) gets
    exactly the schedule's values, and other groups keep their ratio to it. t is the number of
    ``step()`` calls (``last_epoch``); use it as any torch scheduler (``optimizer.step()`` then
    ``scheduler.step()``). A private copy of ``schedule`` is kept; ``state_dict`` stores it as
    its snapshot bytes.
    """

    def __init__(self, optimizer, schedule: Schedule, last_epoch: int = -1):
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a hessianlr.Schedule, got {type(schedule).__name__}")
        self.schedule = schedule.copy()
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        value = self.schedule.value(max(self.last_epoch, 0))
        nominal = self.schedule.nominal
        if nominal <= 0:
            return [0.0 for _ in self.base_lrs]
        return [value * (float(base) / nominal) for base in self.base_lrs]

    _get_closed_form_lr = get_lr

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["schedule"] = self.schedule.save()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        blob = state.pop("schedule", None)
        super().load_state_dict(state)
        if blob is not None:
            self.schedule = Schedule.load(blob) if not isinstance(blob, Schedule) else blob.copy()
