"""PyTorch integration (torch is imported only when this module is).

- :class:`LRTuner`: any method (HessianLR, CDAT, GeN, Hi-DLR, Armijo, Constant) drives a torch
  optimizer through the library's need/observe protocol, with HVPs only on the steps that need
  curvature and loss probes by in-place perturbation restored bit for bit
  (:mod:`hessianlr.torch_driver`).
- :class:`HessianLRScheduler`: LRTuner with the seed's HessianLR options
  (:mod:`hessianlr.torch_scheduler`).
- :class:`ScheduleLR`: a :class:`~hessianlr.Schedule` as a ``torch.optim.lr_scheduler``
  scheduler (:mod:`hessianlr.torch_schedule`).
- :func:`update_directions` / :func:`register_update_rule`: the optimizer's would-be update
  direction without stepping it (:mod:`hessianlr.torch_directions`).
"""

from __future__ import annotations

from .torch_directions import UnsupportedOptimizerError, register_update_rule, update_directions
from .torch_driver import LRTuner, UnsupportedTrainingError
from .torch_observations import DoubleBackwardError
from .torch_schedule import ScheduleLR
from .torch_scheduler import HessianLRScheduler

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
