"""Hugging Face Transformers: the ``Trainer`` runs its own forward and backward passes, the library
sets the learning rates.

:class:`HessianLRCallback` is a ``TrainerCallback``. Before each optimizer step (the Trainer's
``on_pre_optimizer_step``: after the backward pass of every micro-batch, gradient clipping
included) it calls :meth:`LRTuner.after_backward <hessianlr.torch.LRTuner.after_backward>`, which
reads ``p.grad`` and sets each param group's ``lr``; the Trainer then steps. One driver step per
optimizer step, whatever ``gradient_accumulation_steps`` is. Two ways to plug it in::

    from hessianlr.integrations.transformers import HessianLRCallback, hessianlr_scheduler

    # 1. The Trainer's own optimizer (args.optim); its scheduler follows the tuner's rates (and
    #    carries the tuner's state in the Trainer's checkpoints).
    trainer = Trainer(model, args, train_dataset=data, callbacks=[HessianLRCallback("cdat", update_period=4)])

    # 2. Your optimizer and the library's scheduler (checkpointed with the Trainer's checkpoints).
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    trainer = Trainer(model, args, train_dataset=data, callbacks=[HessianLRCallback()],
                      optimizers=(optimizer, hessianlr_scheduler(optimizer, "cdat", update_period=4)))

Curvature and loss probes need the step's loss at other weights: the callback records, for each
micro-batch, the model's inputs (a forward hook on the model) and the factor the Trainer scaled
the model's ``loss`` output by before its backward pass (read from the gradient that reaches that
output: 1/gradient_accumulation_steps, or 1 when the model normalises by ``num_items_in_batch``),
and replays ``factor · model(**inputs).loss`` as the driver's micro-batch closures. Curvature comes
from a central finite difference of the gradient (``curvature="finite_difference"``: the Trainer
builds no double-backward graph, and torch's fused attention kernels have no second derivative).

Refused with a message naming the problem: a model whose forward returns no ``loss`` while
training (label smoothing or ``compute_loss_func`` compute it outside the model), ``fp16``
(GradScaler: ``p.grad`` may be scaled or overflowed when the callback runs), several processes,
a Trainer scheduler that is not a ``LambdaLR`` (the callback makes a ``LambdaLR`` follow the
tuner's rates; the Trainer's warmup and decay are then the tuner's: use the library's
``schedule=`` option), and options given both to the callback and to
:func:`hessianlr_scheduler`.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Sequence

import torch
from transformers import SchedulerType, TrainerCallback

from ..torch_driver import LRTuner
from ._steps import OptimizerStep, TunedSteps

__all__ = ["HessianLRCallback", "TunerLRScheduler", "hessianlr_scheduler"]

_WHERE = "HessianLRCallback"
#: The entry of the Trainer's scheduler state that carries the tuner (the callback's own-optimizer path).
_CHECKPOINT_KEY = "hessianlr_driver"


def _build_driver(optimizer, method, options) -> LRTuner:
    options = dict(options)
    options.setdefault("curvature", "finite_difference")  # the Trainer's backward builds no graph
    return LRTuner(optimizer, method, **options)


class TunerLRScheduler(torch.optim.lr_scheduler.LRScheduler):
    """A ``torch.optim.lr_scheduler`` that owns an :class:`~hessianlr.torch.LRTuner` and follows
    its rates: ``step()`` (called by the Trainer after each optimizer step) leaves the rates the
    callback set, ``get_last_lr()`` reports them (the Trainer logs them), and ``state_dict`` /
    ``load_state_dict`` carry the driver's state, so the Trainer's checkpoints save and restore
    the tuner. Build it with :func:`hessianlr_scheduler`."""

    def __init__(self, optimizer, method: Any = "hessianlr", **options: Any):
        self.driver = _build_driver(optimizer, method, options)  # sets the rates of step 0
        super().__init__(optimizer)
        self._tuned = self.driver.step_count  # driver steps seen at the last step(); see step()

    def step(self, epoch=None) -> None:
        """Called by the Trainer after each optimizer step: the rates stay; RuntimeError if the
        optimizer stepped without the driver (no HessianLRCallback in the Trainer's callbacks)."""
        tuned = getattr(self, "_tuned", None)  # None during LRScheduler.__init__'s first step
        if tuned is not None and self.driver.step_count == tuned:
            raise RuntimeError("hessianlr_scheduler: the optimizer stepped but the tuner did not run: add "
                               "HessianLRCallback() to the Trainer's callbacks (it runs the tuner before each "
                               "optimizer step)")
        super().step(epoch)
        if tuned is not None:
            self._tuned = self.driver.step_count

    def get_lr(self) -> list[float]:
        return [float(group["lr"]) for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The tuner's rates for the step in progress (the Trainer logs them between the optimizer
        step and the scheduler step)."""
        return self.driver.get_last_lr()

    def state_dict(self) -> dict:
        return {"last_epoch": self.last_epoch, "driver": self.driver.state_dict()}

    def load_state_dict(self, state_dict: dict) -> None:
        self.last_epoch = int(state_dict["last_epoch"])
        self.driver.load_state_dict(state_dict["driver"])
        self._tuned = self.driver.step_count


def hessianlr_scheduler(optimizer, method: Any = "hessianlr", **options: Any) -> TunerLRScheduler:
    """The scheduler half of ``Trainer(optimizers=(optimizer, scheduler))``: a
    :class:`TunerLRScheduler` over an :class:`~hessianlr.torch.LRTuner` built on ``optimizer``
    with ``method`` and ``options`` (LRTuner's; ``curvature`` defaults to
    ``"finite_difference"``). Pass ``HessianLRCallback()`` in ``callbacks`` too: it runs the
    driver before each optimizer step."""
    return TunerLRScheduler(optimizer, method, **options)


def _model_loss(output):
    loss = output.get("loss") if isinstance(output, dict) else getattr(output, "loss", None)
    if loss is None and isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor) \
            and output[0].dim() == 0:
        loss = output[0]
    return loss


def _replayed_loss(model, args, kwargs, factor):
    """The micro-batch's loss as the Trainer backpropagated it: factor · model(*args, **kwargs).loss."""
    loss = _model_loss(model(*args, **kwargs))
    if loss is None:
        raise RuntimeError(f"{_WHERE}: the model returned no loss when the micro-batch was replayed")
    return loss * factor


class HessianLRCallback(TrainerCallback, TunedSteps):
    """Sets the Trainer's learning rates from a libhessianlr tuner before each optimizer step.

    ``HessianLRCallback(method=None, *, loggers=(), **options)``: ``method`` and ``options`` as in
    :class:`~hessianlr.torch.LRTuner` (``curvature`` defaults to ``"finite_difference"``), for a
    driver built on the Trainer's optimizer when training begins; leave both out when the Trainer
    was given :func:`hessianlr_scheduler` (its driver is used). ``loggers``: objects with
    ``log(StepMetrics)`` and ``close()`` (:mod:`hessianlr.integrations.logging`), called after
    every optimizer step and at the end of training.

    After training: ``driver`` (the :class:`~hessianlr.torch.LRTuner`), ``steps`` (optimizer steps
    tuned), ``micro_batches`` (micro-batches seen), ``tuner_seconds``, ``last_metrics``.
    """

    def __init__(self, method: Any = None, *, loggers: Sequence = (), **options: Any):
        self.method, self.options = method, options
        self.driver: LRTuner | None = None
        self.micro_batches = 0
        self._step = OptimizerStep(loggers, where=_WHERE)
        self._hook = None
        self._model = None
        self._pending: list = []  # (replay entry, loss value) per micro-batch of the step in progress
        self._follower = None  # the Trainer's LambdaLR made to follow the tuner, if any

    # -- setup -----------------------------------------------------------------------------------

    def on_train_begin(self, args, state, control, model=None, optimizer=None, lr_scheduler=None, **kwargs):
        if getattr(args, "fp16", False):
            raise ValueError(f"{_WHERE}: fp16=True trains with a GradScaler, so p.grad may still be scaled (or have "
                             "overflowed) when the callback reads it; use bf16=True or float32")
        if getattr(args, "world_size", 1) > 1:
            raise ValueError(f"{_WHERE}: {args.world_size} processes: the callback cannot reach the Trainer's "
                             "DistributedDataParallel module, so the processes' rates could differ; use "
                             "hessianlr.torch.LRTuner(optimizer, ..., ddp=ddp_model) with after_backward in your own loop")
        if model is None or optimizer is None:
            raise ValueError(f"{_WHERE}: the Trainer passed no model or optimizer to on_train_begin")
        optimizer = getattr(optimizer, "optimizer", optimizer)  # accelerate's AcceleratedOptimizer wraps it
        self.driver = self._driver_for(args, optimizer, lr_scheduler)
        self._model = model
        self._hook = model.register_forward_hook(self._record, with_kwargs=True)

    def _driver_for(self, args, optimizer, lr_scheduler) -> LRTuner:
        given = self.method is not None or bool(self.options)
        if isinstance(lr_scheduler, TunerLRScheduler):
            if given:
                raise ValueError(f"{_WHERE}: the Trainer's scheduler is hessianlr_scheduler(...), which holds the "
                                 "tuner, and the callback was given a method or options too: give them in one place")
            if lr_scheduler.optimizer is not optimizer:
                raise ValueError(f"{_WHERE}: hessianlr_scheduler was built on another optimizer than the Trainer's")
            return lr_scheduler.driver
        if not isinstance(lr_scheduler, torch.optim.lr_scheduler.LambdaLR):
            raise ValueError(
                f"{_WHERE}: the Trainer's scheduler is a {type(lr_scheduler).__name__}, which would overwrite the "
                "tuner's rates after each step; pass optimizers=(optimizer, hessianlr_scheduler(optimizer, ...)) "
                "or a lr_scheduler_type whose scheduler is a LambdaLR (constant, linear, cosine, ...)")
        if getattr(args, "lr_scheduler_type", "constant") not in ("constant", SchedulerType.CONSTANT):
            warnings.warn(f"{_WHERE}: the tuner sets the learning rate; the Trainer's lr_scheduler_type="
                          f"{str(getattr(args.lr_scheduler_type, 'value', args.lr_scheduler_type))!r} schedule (and its "
                          "warmup) is not applied (the library's schedule= option gives warmup and decay)", UserWarning,
                          stacklevel=2)
        driver = _build_driver(optimizer, "hessianlr" if self.method is None else self.method, self.options)
        # A checkpoint's tuner (see _keep_for_checkpoint): the Trainer loaded scheduler.pt into its LambdaLR
        # before on_train_begin, and LambdaLR.load_state_dict puts every saved entry into its __dict__.
        saved = lr_scheduler.__dict__.pop(_CHECKPOINT_KEY, None)
        if saved is not None:
            driver.load_state_dict(saved)
        # The Trainer's LambdaLR now follows the tuner: lr = base_lr · (rate / base_lr) after each step.
        base = list(lr_scheduler.base_lrs)
        lr_scheduler.lr_lambdas = [functools.partial(_follow, driver, k, base[k]) for k in range(len(base))]
        self._follower = lr_scheduler
        return driver

    def _keep_for_checkpoint(self, control) -> None:
        """On a step or epoch after which the Trainer saves a checkpoint (``control.should_save``,
        set by its DefaultFlowCallback, which runs first): the driver's state as an entry of the
        Trainer's LambdaLR, whose ``state_dict`` holds every entry of its ``__dict__`` (torch's
        documented behaviour), so it lands in the checkpoint's scheduler.pt; a Trainer resumed
        from it loads the entry back, and ``on_train_begin`` hands it to the new driver. The
        entry is dropped once saved (``on_save``). With :func:`hessianlr_scheduler` the
        scheduler's own ``state_dict`` carries the driver."""
        if self._follower is not None and control.should_save:
            self._follower.__dict__[_CHECKPOINT_KEY] = self.driver.state_dict()

    def on_step_end(self, args, state, control, **kwargs):
        self._keep_for_checkpoint(control)

    def on_epoch_end(self, args, state, control, **kwargs):
        self._keep_for_checkpoint(control)

    def on_save(self, args, state, control, **kwargs):
        if self._follower is not None:
            self._follower.__dict__.pop(_CHECKPOINT_KEY, None)

    # -- the steps -------------------------------------------------------------------------------

    def _record(self, module, args, kwargs, output):
        """Forward hook: one training micro-batch (grad enabled, train mode, not a replay)."""
        if self._step.replaying or not module.training or not torch.is_grad_enabled():
            return
        loss = _model_loss(output)
        if loss is None or not isinstance(loss, torch.Tensor) or not loss.requires_grad:
            raise ValueError(
                f"{_WHERE}: the model's forward returned no loss with a gradient while training (label smoothing or "
                "compute_loss_func compute the loss outside the model): the callback replays the model's own loss "
                "output; pass labels to the model and leave label_smoother_factor=0 and compute_loss_func unset")
        value = float(loss.detach())
        entry = {"args": args, "kwargs": dict(kwargs)}

        def scaled(grad, entry=entry):  # the factor the Trainer scaled this loss by before backward
            entry["factor"] = float(grad.reshape(()))

        loss.register_hook(scaled)
        self._pending.append((entry, value))

    def on_step_begin(self, args, state, control, **kwargs):
        self._step.start()

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        pending, self._pending = self._pending, []
        for entry, value in pending:
            if "factor" not in entry:
                raise RuntimeError(f"{_WHERE}: the loss the model returned in a training forward pass was not "
                                   "backpropagated before the optimizer step (a compute_loss override that computes "
                                   "its own loss from the outputs?); the callback replays the model's loss output "
                                   "and cannot tell how the gradient in p.grad was made")
            closure = functools.partial(_replayed_loss, self._model, entry["args"], entry["kwargs"], entry["factor"])
            self._step.add(closure, value * entry["factor"])
        self.micro_batches += len(pending)
        self._step.finish(self.driver)
        if self._follower is not None:  # what the Trainer logs before its scheduler steps: torch's last-rate field
            self._follower._last_lr = self.driver.get_last_lr()

    def on_train_end(self, args, state, control, **kwargs):
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        self._step.close_loggers()


def _follow(driver, k, base_lr, _epoch) -> float:
    """LambdaLR's factor that makes it report (and set) the tuner's last rate of group k."""
    return driver.get_last_lr()[k] / base_lr if base_lr else 0.0
