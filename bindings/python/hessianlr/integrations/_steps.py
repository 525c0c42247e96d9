"""One optimizer step of a framework-driven loop, collected micro-batch by micro-batch and handed
to :meth:`LRTuner.after_backward <hessianlr.torch.LRTuner.after_backward>` once (shared by the
Transformers and Lightning callbacks).

The framework runs the forward and backward pass of each micro-batch; the callback records, per
micro-batch, a closure that recomputes the loss exactly as it was backpropagated (the same inputs,
the same scaling for accumulation) and the value of that scaled loss. Before the optimizer step
the closures (whose losses add up to the step's loss, as ``after_backward`` expects) and the sum
of the values go to the driver, which reads ``p.grad`` and sets the rates.
"""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Sequence

from .logging import StepMetrics, step_metrics

__all__ = ["OptimizerStep", "TunedSteps"]


class OptimizerStep:
    """Micro-batches of the optimizer step in progress, then the driver call and the loggers."""

    def __init__(self, loggers: Sequence = (), *, where: str):
        self.loggers = list(loggers)
        self.where = where
        #: True while the driver runs the recorded closures (their forward passes are not new
        #: micro-batches: the callbacks' hooks ignore them).
        self.replaying = False
        #: The metrics of the last optimizer step, or None before the first.
        self.last: StepMetrics | None = None
        #: Optimizer steps finished, and the wall time of their driver calls added up (seconds).
        self.steps = 0
        self.tuner_seconds = 0.0
        self._closures: list[Callable] = []
        self._losses: list[float] = []
        self._started: float | None = None

    def start(self) -> None:
        """The wall clock of the step starts (its first micro-batch), unless already started."""
        if self._started is None:
            self._started = time.perf_counter()

    def add(self, closure: Callable, scaled_loss: float) -> None:
        """One micro-batch: a closure returning its loss as backpropagated, and that loss's value."""
        self.start()
        self._closures.append(closure)
        self._losses.append(float(scaled_loss))

    @property
    def micro_batches(self) -> int:
        return len(self._closures)

    @contextlib.contextmanager
    def replay(self):
        self.replaying = True
        try:
            yield
        finally:
            self.replaying = False

    def finish(self, driver) -> StepMetrics | None:
        """``driver.after_backward`` on the recorded micro-batches; the rates are then set on the
        optimizer for the step about to run. Logs the step's metrics and starts the next step.
        A step without any micro-batch and without any gradient (Lightning's training_step
        returned None: the optimizer steps over no gradient, nothing moves) is not tuned or
        counted: None, the rates kept."""
        if not self._closures and not any(p.grad is not None for group in driver.optimizer.param_groups
                                          for p in group["params"]):
            self._closures, self._losses, self._started = [], [], None
            return None
        if not self._closures:
            raise RuntimeError(
                f"{self.where}: the optimizer is about to step but no micro-batch of this step was recorded (no "
                "forward pass with a loss was seen since the previous step), so there is nothing to measure the "
                "learning rate on")
        closures, loss = list(self._closures), sum(self._losses)
        t = driver.step_count
        began = time.perf_counter()
        with self.replay():
            driver.after_backward(closures, loss=loss)
        ended = time.perf_counter()
        step_seconds = None if self._started is None else ended - self._started
        metrics = step_metrics(driver, t, tuner_seconds=ended - began, step_seconds=step_seconds,
                               micro_batches=len(closures), loss=loss)
        self.last = metrics
        self.steps += 1
        self.tuner_seconds += metrics.tuner_seconds
        self._closures, self._losses, self._started = [], [], None
        for logger in self.loggers:
            logger.log(metrics)
        return metrics

    def close_loggers(self) -> None:
        for logger in self.loggers:
            logger.close()


class TunedSteps:
    """What a callback holding an :class:`OptimizerStep` in ``self._step`` reports."""

    _step: OptimizerStep

    @property
    def last_metrics(self):
        """The :class:`~hessianlr.integrations.logging.StepMetrics` of the last optimizer step."""
        return self._step.last

    @property
    def steps(self) -> int:
        """Optimizer steps tuned so far."""
        return self._step.steps

    @property
    def tuner_seconds(self) -> float:
        """Wall time of the driver calls so far, added up (seconds)."""
        return self._step.tuner_seconds
