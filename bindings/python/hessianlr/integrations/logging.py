"""What the tuner did at each optimizer step, as scalars for TensorBoard and W&B.

:func:`step_metrics` reads a :class:`~hessianlr.torch.LRTuner` right after its
``after_backward`` / ``step`` (the library's diagnostics, ``Tuner.info``) into a
:class:`StepMetrics`; :class:`TensorBoardLogger` (``torch.utils.tensorboard.SummaryWriter``)
and :class:`WandbLogger` (``wandb``) write its :meth:`StepMetrics.scalars` at the optimizer step.
The callbacks of :mod:`hessianlr.integrations.transformers` and
:mod:`hessianlr.integrations.lightning` take a list of loggers; in a plain loop::

    logger = TensorBoardLogger("runs/tuner")
    for x, y in loader:
        ...; loss.backward()
        began = time.perf_counter()
        driver.after_backward(closure, loss=loss)
        logger.log(step_metrics(driver, driver.step_count - 1, tuner_seconds=time.perf_counter() - began))
        optimizer.step()
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..constants import Info
from ..errors import UnknownKeyError

__all__ = ["StepMetrics", "step_metrics", "TensorBoardLogger", "WandbLogger"]


def _per_group(tuner, key) -> tuple[float, ...]:
    """``Tuner.info(key, k)`` per group; NaN for every group when the method has no such key."""
    try:
        return tuple(tuner.info(key, k) for k in range(tuner.groups))
    except UnknownKeyError:
        return tuple(math.nan for _ in range(tuner.groups))


@dataclass(frozen=True)
class StepMetrics:
    """One optimizer step t of a driver, one value per param group where per group.

    ``lrs``: the rates set for step t (what the optimizer steps with). ``observed``: whether step t
    made an observation (``Info.LAST_STEP == t``); ``curvature`` (dᵀHd, ``Info.LAST_CURVATURE``)
    and ``slope`` (gᵀd, ``Info.LAST_SLOPE``) are those of the observation made AT step t, NaN on
    steps that observed nothing or for methods without these diagnostics (the library's
    ``UnknownKeyError``).
    ``edge_of_stability``: lr·λ_max (``Info.EDGE_OF_STABILITY``; 2 is the edge of stability of
    gradient descent on a quadratic), known only when a sharpness λ_max was given to the tuner
    (CDAT's ``sharpness`` option), else NaN; ``sharpness`` = edge_of_stability / lr then.
    ``tuner_seconds``: wall time of the driver call (the overhead the tuner added to the step);
    ``step_seconds``: wall time of the step from its first micro-batch's forward to the end of
    the driver call (None where not measured). ``hvp_count``, ``probe_count``, ``gradient_count``:
    the driver's counters after the step (Hessian-vector products, loss probes, extra forward and
    backward passes)."""

    step: int
    lrs: tuple[float, ...]
    observed: bool
    curvature: tuple[float, ...]
    slope: tuple[float, ...]
    edge_of_stability: tuple[float, ...]
    sharpness: tuple[float, ...]
    tuner_seconds: float
    step_seconds: float | None
    hvp_count: int
    probe_count: int
    gradient_count: int
    micro_batches: int = 1
    loss: float | None = None

    def scalars(self, prefix: str = "hessianlr") -> dict[str, float]:
        """The finite values as ``{prefix}/{name}`` (per group ``{prefix}/{name}/group_{k}``):
        lr, curvature, slope, edge_of_stability, sharpness, tuner_seconds, step_seconds,
        overhead_fraction (tuner_seconds / step_seconds), loss, hvp_count, probe_count,
        gradient_count, micro_batches."""
        out: dict[str, float] = {}
        for name in ("lrs", "curvature", "slope", "edge_of_stability", "sharpness"):
            label = "lr" if name == "lrs" else name
            for k, value in enumerate(getattr(self, name)):
                if math.isfinite(value):
                    out[f"{prefix}/{label}/group_{k}"] = float(value)
        singles = {"tuner_seconds": self.tuner_seconds, "step_seconds": self.step_seconds, "loss": self.loss,
                   "hvp_count": self.hvp_count, "probe_count": self.probe_count,
                   "gradient_count": self.gradient_count, "micro_batches": self.micro_batches}
        if self.step_seconds:
            singles["overhead_fraction"] = self.tuner_seconds / self.step_seconds
        for name, value in singles.items():
            if value is not None and math.isfinite(float(value)):
                out[f"{prefix}/{name}"] = float(value)
        return out


def step_metrics(driver, step: int, *, tuner_seconds: float, step_seconds: float | None = None,
                 micro_batches: int = 1, loss: float | None = None) -> StepMetrics:
    """The :class:`StepMetrics` of ``driver`` (an LRTuner) for its step ``step``, read right after
    the driver call of that step."""
    tuner = driver.tuner
    observed = _per_group(tuner, Info.LAST_STEP)[0] == step
    nan = tuple(math.nan for _ in range(tuner.groups))
    lrs = tuple(float(v) for v in driver.get_last_lr())
    eos = _per_group(tuner, Info.EDGE_OF_STABILITY)
    sharpness = tuple(e / lr if math.isfinite(e) and lr > 0 else math.nan for e, lr in zip(eos, lrs))
    return StepMetrics(
        step=step, lrs=lrs, observed=observed,
        curvature=_per_group(tuner, Info.LAST_CURVATURE) if observed else nan,
        slope=_per_group(tuner, Info.LAST_SLOPE) if observed else nan,
        edge_of_stability=eos, sharpness=sharpness, tuner_seconds=float(tuner_seconds),
        step_seconds=None if step_seconds is None else float(step_seconds),
        hvp_count=driver.hvp_count, probe_count=driver.probe_count, gradient_count=driver.gradient_count,
        micro_batches=micro_batches, loss=loss)


class TensorBoardLogger:
    """Writes each step's :meth:`StepMetrics.scalars` with ``SummaryWriter.add_scalar`` at the
    optimizer step (``global_step`` = t). ``log_dir``: a directory for a new writer (closed by
    :meth:`close`), or ``writer``: an existing ``SummaryWriter`` (flushed, not closed)."""

    def __init__(self, log_dir: str | None = None, *, writer=None, prefix: str = "hessianlr"):
        if (log_dir is None) == (writer is None):
            raise ValueError("TensorBoardLogger needs exactly one of log_dir= (a new SummaryWriter) and writer=")
        if writer is None:
            from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

            writer = SummaryWriter(log_dir=log_dir)
        self.writer, self.prefix, self._owns = writer, prefix, log_dir is not None

    def log(self, metrics: StepMetrics) -> None:
        for name, value in metrics.scalars(self.prefix).items():
            self.writer.add_scalar(name, value, global_step=metrics.step)

    def close(self) -> None:
        if self._owns:
            self.writer.close()
        else:
            self.writer.flush()


class WandbLogger:
    """Logs each step's :meth:`StepMetrics.scalars` to a W&B run against its own x axis,
    ``{prefix}/step`` = t (``define_metric``), so it never conflicts with the step counter of
    another logger writing to the same run (the Trainer's, Lightning's). ``run``: an existing run
    (not finished by :meth:`close`), or ``init``: keyword arguments of ``wandb.init`` for a new one
    (finished by :meth:`close`; pass ``mode="offline"`` to write only to ``dir``)."""

    def __init__(self, run=None, *, prefix: str = "hessianlr", **init):
        import wandb

        if run is not None and init:
            raise ValueError("WandbLogger takes an existing run or wandb.init arguments, not both")
        self._owns = run is None
        self.run = wandb.init(**init) if run is None else run
        self.prefix = prefix
        self.run.define_metric(f"{prefix}/step")
        self.run.define_metric(f"{prefix}/*", step_metric=f"{prefix}/step")

    def log(self, metrics: StepMetrics) -> None:
        self.run.log({f"{self.prefix}/step": metrics.step, **metrics.scalars(self.prefix)})

    def close(self) -> None:
        if self._owns:
            self.run.finish()
