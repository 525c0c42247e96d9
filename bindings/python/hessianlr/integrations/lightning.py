"""Lightning: automatic optimization runs the forward and backward passes, the library sets the
learning rate before each optimizer step.

:class:`HessianLRCallback` is a ``lightning.pytorch.Callback``::

    from hessianlr.integrations.lightning import HessianLRCallback

    trainer = pl.Trainer(max_steps=100, accumulate_grad_batches=2,
                         callbacks=[HessianLRCallback("cdat", update_period=4)])
    trainer.fit(module, loader)       # configure_optimizers returns one optimizer, no scheduler

Lightning calls ``on_before_optimizer_step`` after the backward pass of the step's last
micro-batch; there the callback clips the gradients as Lightning is about to (so the tuner
measures the gradient the optimizer steps on; Lightning's own clipping afterwards then changes
nothing) and calls :meth:`LRTuner.after_backward <hessianlr.torch.LRTuner.after_backward>`,
which reads ``p.grad`` and sets each param group's ``lr``. One driver step per optimizer step,
whatever ``accumulate_grad_batches`` is. Curvature and loss probes replay the step's micro-batches
through the module's own ``training_step(batch, batch_idx)`` divided by
``accumulate_grad_batches`` (Lightning's scaling before backward), in the precision plugin's
training context (autocast for ``"bf16-mixed"``), with ``self.log`` muted;
curvature by central finite differences of the gradient (Lightning builds no double-backward
graph). ``training_step`` should therefore be a deterministic function of the batch and weights
(dropout is replayed with the same random numbers within each finite difference).

Refused with a message naming the problem: manual optimization (call
``LRTuner.after_backward`` yourself between ``manual_backward`` and ``opt.step()``; several
optimizers need it, Lightning refuses them in automatic optimization), a learning-rate scheduler from ``configure_optimizers`` (it would overwrite the
tuner's rates: use the library's ``schedule=`` option), ``precision="16-mixed"`` (a GradScaler
leaves ``p.grad`` scaled when the callback runs), and more than one process.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any, Sequence

try:  # the standalone package (pinned in requirements-integrations.txt), else the unified one
    from pytorch_lightning import Callback
    from pytorch_lightning import LightningModule as _LightningModule
except ImportError:  # pragma: no cover - depends on which package is installed
    from lightning.pytorch import Callback
    from lightning.pytorch import LightningModule as _LightningModule

from ..torch_driver import LRTuner
from ._steps import OptimizerStep, TunedSteps

__all__ = ["HessianLRCallback"]

_WHERE = "HessianLRCallback"


def _step_loss(output):
    return output.get("loss") if isinstance(output, dict) else output


@contextlib.contextmanager
def _muted(module):
    """``module.log`` / ``log_dict`` do nothing while replayed micro-batches run (their losses are
    at trial weights, not the training curve)."""
    module.log = module.log_dict = lambda *args, **kwargs: None
    try:
        yield
    finally:
        del module.log, module.log_dict


def _replayed_loss(module, precision, batch, batch_idx, factor):
    """training_step's loss on the micro-batch, in the precision plugin's training context (autocast
    for "bf16-mixed"), scaled as Lightning scaled it before backward."""
    with _muted(module), precision.train_step_context():
        loss = _step_loss(module.training_step(batch, batch_idx))
    if loss is None:
        raise RuntimeError(f"{_WHERE}: training_step returned no loss when the micro-batch was replayed")
    return loss * factor


class HessianLRCallback(Callback, TunedSteps):
    """Sets the learning rate of a LightningModule's optimizer from a libhessianlr tuner.

    ``HessianLRCallback(method="hessianlr", *, loggers=(), **options)``: ``method`` and
    ``options`` as in :class:`~hessianlr.torch.LRTuner` (``curvature`` defaults to
    ``"finite_difference"``); the driver is built on the optimizer when training starts.
    ``loggers``: objects with ``log(StepMetrics)`` and ``close()``
    (:mod:`hessianlr.integrations.logging`). The driver's state is saved in Lightning's
    checkpoints (``state_dict`` / ``load_state_dict``).

    After training: ``driver``, ``steps`` (optimizer steps tuned), ``micro_batches``,
    ``tuner_seconds``, ``last_metrics``.
    """

    def __init__(self, method: Any = "hessianlr", *, loggers: Sequence = (), **options: Any):
        self.method = method
        self.options = dict(options)
        self.options.setdefault("curvature", "finite_difference")  # Lightning's backward builds no graph
        self.driver: LRTuner | None = None
        self.micro_batches = 0
        self._step = OptimizerStep(loggers, where=_WHERE)
        self._batch = None  # (batch, batch_idx) of the micro-batch in progress
        self._restored: dict | None = None

    def on_train_start(self, trainer, pl_module) -> None:
        if not pl_module.automatic_optimization:
            raise ValueError(
                f"{_WHERE}: {type(pl_module).__name__} uses manual optimization (automatic_optimization = False): "
                "the callback cannot tell where the optimizer steps; build hessianlr.torch.LRTuner(optimizer, ...) in "
                "the module and call driver.after_backward(closure, loss=loss) between self.manual_backward(loss) "
                "and opt.step()")
        if trainer.lr_scheduler_configs:
            names = ", ".join(type(c.scheduler).__name__ for c in trainer.lr_scheduler_configs)
            raise ValueError(f"{_WHERE}: configure_optimizers returned a learning-rate scheduler ({names}), which "
                             "would overwrite the tuner's rates; return the optimizer alone (warmup and decay: the "
                             "library's schedule= option)")
        if str(trainer.precision) in ("16-mixed", "16"):
            raise ValueError(f"{_WHERE}: precision='16-mixed' trains with a GradScaler, so p.grad is still scaled "
                             "when the callback reads it; use 'bf16-mixed' or 32-bit")
        if trainer.world_size > 1:
            raise ValueError(f"{_WHERE}: {trainer.world_size} processes are not supported yet (the replayed "
                             "micro-batches bypass the strategy's DistributedDataParallel wrapper); use "
                             "hessianlr.torch.LRTuner(optimizer, ..., ddp=ddp_model) with after_backward in your own loop")
        optimizer = trainer.optimizers[0]
        if self.driver is not None and self.driver.optimizer is not optimizer:
            # A second fit (Lightning calls configure_optimizers again) or the callback reused in
            # another Trainer: the tuner continues on the new optimizer (before, it kept setting
            # the rates of the first one while the new one trained at its initial lr).
            self._restored = self.driver.state_dict()
            self.driver = None
        if self.driver is None:
            self.driver = LRTuner(optimizer, self.method, **self.options)
            if self._restored is not None:
                self.driver.load_state_dict(self._restored)
                self._restored = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if not self._step.replaying:
            self._step.start()
            self._batch = (batch, batch_idx)

    def on_before_backward(self, trainer, pl_module, loss) -> None:
        if self._step.replaying or self._batch is None:
            return
        batch, batch_idx = self._batch
        self._batch = None
        factor = 1.0 / trainer.accumulate_grad_batches  # Lightning's closure_loss / accumulate_grad_batches
        replay = functools.partial(_replayed_loss, pl_module, trainer.strategy.precision_plugin, batch, batch_idx, factor)
        self._step.add(replay, float(loss.detach()))
        self.micro_batches += 1

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        # Clip as Lightning will right after this hook, so the tuner reads the gradient the optimizer
        # steps on (clipping twice changes nothing): with gradient_clip_val, or a module's own
        # configure_gradient_clipping (Lightning calls it whether or not gradient_clip_val is set).
        own = type(pl_module).configure_gradient_clipping is not _LightningModule.configure_gradient_clipping
        if trainer.gradient_clip_val or own:
            pl_module.configure_gradient_clipping(optimizer, gradient_clip_val=trainer.gradient_clip_val,
                                                  gradient_clip_algorithm=trainer.gradient_clip_algorithm)
        self._step.finish(self.driver)

    def on_train_end(self, trainer, pl_module) -> None:
        self._step.close_loggers()

    def on_exception(self, trainer, pl_module, exception) -> None:
        """A fit that raises closes the loggers too (a TensorBoard writer, an owned W&B run)."""
        self._step.close_loggers()

    def state_dict(self) -> dict:
        return {} if self.driver is None else {"driver": self.driver.state_dict()}

    def load_state_dict(self, state_dict: dict) -> None:
        if "driver" not in state_dict:
            return
        if self.driver is None:
            self._restored = state_dict["driver"]  # applied when the driver is built
        else:
            self.driver.load_state_dict(state_dict["driver"])
