""":class:`LRTuner`: any libhessianlr method drives a torch optimizer's learning rates.

One library group per optimizer param group. Each ``step`` runs the general protocol of the
library (``need`` → compute → ``observe``, until the step needs nothing) with torch doing the
work on the tensors' device and only scalars crossing to the host; see :class:`LRTuner`.
"""

from __future__ import annotations

import math
import sys
import weakref
from typing import Any, Callable, Union

from .constants import Direction, Method, Need, Param
from .errors import CallbackError, NonFiniteError
from .torch_observations import TorchStepBackend
from .torch_directions import is_plain_sgd, update_directions, update_rule
from .tuner import Tuner, method_params
from .tuners import make_tuner, method_of

__all__ = ["LRTuner", "UnsupportedTrainingError"]


class UnsupportedTrainingError(RuntimeError):
    """A training setup :class:`LRTuner` recognises but cannot serve correctly yet: data-parallel
    or sharded training (torch.distributed with more than one process, FSDP / DTensor
    parameters) and gradients written into ``p.grad`` by someone else between its steps
    (``loss.backward()``, gradient accumulation). Raised before anything changes."""


def _world_size(torch) -> int:
    """torch.distributed's world size, 1 when it is unavailable or not initialised."""
    dist = getattr(torch, "distributed", None)
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return 1
    return int(dist.get_world_size())


def _sharded(p) -> str | None:
    """What makes ``p`` a sharded parameter (FSDP's FlatParameter, a DTensor), or None. Only
    modules already imported are consulted: without them no such parameter can exist."""
    flat = sys.modules.get("torch.distributed.fsdp._flat_param")
    if flat is not None and isinstance(p, getattr(flat, "FlatParameter", ())):
        return "an FSDP FlatParameter (FullyShardedDataParallel)"
    tensor = sys.modules.get("torch.distributed.tensor")
    if tensor is not None and isinstance(p, getattr(tensor, "DTensor", ())):
        return "a DTensor (FSDP2 fully_shard, tensor or sequence parallelism)"
    return None


def _torch():
    import torch  # lazy: torch is an optional dependency

    return torch


def _direction(value) -> Direction:
    if isinstance(value, str):
        try:
            return Direction[value.upper()]
        except KeyError:
            raise ValueError(f"direction must be 'gradient' or 'update', got {value!r}") from None
    return Direction(int(value))


class LRTuner:
    """Learning rates from a libhessianlr tuner for a torch optimizer, every method supported.

    ``LRTuner(optimizer, tuner="hessianlr", *, direction=None, **options)``: ``tuner`` is a
    :class:`~hessianlr.Tuner` with one group per param group, or a method (``"cdat"``,
    ``Method.GEN``, ``hessianlr.HiDLR``, ...) built here with ``options`` (the library's option
    names) and, unless given, ``initial_lr`` from each group's ``initial_lr`` (set to its ``lr``
    as torch schedulers do). Armijo's single ``initial_lr`` is the groups' common lr.

    The loop (do not call ``loss.backward()`` yourself: ``step`` computes the gradient, so it can
    ask for the double-backward graph only on the steps that need curvature, and writes it into
    ``p.grad``, replacing it; parameters the loss does not reach get ``p.grad = None``)::

        driver = LRTuner(optimizer, "gen", update_period=4)
        for x, y in loader:
            closure = lambda: loss_fn(model(x), y)      # forward only, same batch
            driver.step(closure=closure)                # gradient, observations, rates
            optimizer.step()                            # w ← w − lr_k·u with the rates just set

    What ``step(loss=None, closure=None)`` does at its step t (0-based, one per call):

    1. ``need = tuner.need(t)``. ``loss`` is the step's loss with its graph; when it is None,
       ``closure()`` computes it (with grad enabled). Methods that need losses (GeN, Hi-DLR,
       Armijo) need ``closure``: it is checked before anything changes.
    2. ``g = autograd.grad(loss, params, create_graph=(need is CURVATURE))``; ``p.grad = g``.
    3. The direction d per parameter: g, or u, the optimizer's would-be update computed from its
       state without stepping it (:mod:`hessianlr.torch_directions`: SGD with any momentum,
       dampening, nesterov, weight decay, maximize; Adam/AdamW with amsgrad, weight decay
       (coupled or decoupled), maximize; plain SGD's u is g itself).
    4. The library's step driver (``hlr_tuner_step``, the same loop, observations and failure
       policy as every other language and host mode) runs the step to completion over
       :class:`~hessianlr.torch_observations.TorchStepBackend`: CURVATURE → [g_kᵀd_k,
       d_kᵀHd_k] with one HVP per group; SLOPE → [L(w), g_kᵀd_k]; LOSSES → the closure's loss
       at w − Σ_k ξ_jk·d_k for each probe row (or ``probe_closure``'s, on an independent batch,
       for every row: GeN, Hi-DLR), the weights perturbed in place under no_grad and restored
       bit for bit. A NaN/±Inf trial loss is a failed observation (GeN, Hi-DLR: rate ×
       fit_failure_decay; Armijo: backtrack; counted in ``failed_observation_count``); a
       NaN/±Inf loss at w, slope or curvature raises NonFiniteError. Only scalars cross to the
       host. If anything fails the tuner is unchanged, the weights are restored, the step is
       not counted (call ``step`` again to retry) and the error propagates.
    5. Each ``param_group['lr']`` is set to the tuner's rate for step t.

    Direction: by default the optimizer's update u (what it will step along: SGD's momentum
    buffer with Nesterov and weight decay, Adam's and AdamW's preconditioned step), and the
    gradient only for plain SGD (where u = g); ``direction="gradient"`` with an optimizer other
    than SGD is refused (ValueError): g'g/g'Hg is an SGD-scale rate, meaningless for Adam.
    HessianLR and CDAT take it as their ``direction`` option; GeN, Hi-DLR and Armijo probe
    along it. Direction update with an optimizer other than SGD, Adam, AdamW raises
    UnsupportedOptimizerError at construction.

    Memory: on a step with loss probes the perturbed parameters are saved once (one copy of
    them on their device) and restored from that copy; curvature steps keep the double-backward
    graph until the group HVPs are done.

    Closure: a deterministic forward pass on the step's batch returning the loss (a scalar
    tensor or float). It runs under ``torch.no_grad()``; modules with side effects in train mode
    (BatchNorm running statistics, dropout) make probes noisy and update buffers: evaluate
    probes with such modules in eval mode, or accept it.

    Not supported yet, refused with :class:`UnsupportedTrainingError` (at construction and at
    every ``step``, before anything changes) rather than trained wrongly:

    - data-parallel and sharded training: torch.distributed initialised with more than one
      process (DistributedDataParallel, FSDP, ...), or FSDP / DTensor parameters. ``step``
      computes the gradient with ``torch.autograd.grad`` and writes it into ``p.grad``, which
      bypasses DDP's gradient all-reduce: every process would step on its local gradient and
      the processes' rates would differ.
    - gradients written into ``p.grad`` by someone else since the previous ``step`` (a
      ``loss.backward()``, gradient accumulation over micro-batches): ``step`` would replace
      them silently. Detected when ``p.grad`` is another tensor than the one ``step`` wrote (or
      None replaced by a tensor); changes in place (``zero_grad(set_to_none=False)``, gradient
      clipping, ``GradScaler.unscale_``) are fine. Before the first ``step`` nothing is known,
      so nothing is checked.

    Copies: ``pickle`` / ``copy.deepcopy`` copy the optimizer with the driver (as for torch's
    own schedulers) and the tuner through its snapshot (a new, independent handle); copy the
    model, optimizer and driver in one call to keep them connected. For checkpoints use
    ``state_dict`` / ``load_state_dict``.
    """

    def __init__(
        self,
        optimizer,
        tuner: Union[Tuner, Method, int, str, type] = "hessianlr",
        *,
        direction: Union[str, Direction, int, None] = None,
        **options: Any,
    ):
        torch = _torch()
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self._written_grads: dict = {}  # id(p) → (weakref to p, weakref to the grad step wrote or None)
        self._check_supported(torch, "LRTuner")
        groups = len(optimizer.param_groups)
        initial = []
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", float(group["lr"]))
            initial.append(float(group["initial_lr"]))
        if isinstance(tuner, Tuner):
            if options:
                raise TypeError("options are for a tuner built here; configure the given tuner instead")
            if tuner.groups != groups:
                raise ValueError(f"the tuner has {tuner.groups} groups, the optimizer {groups} param groups")
            self.tuner = tuner
        else:
            direction = self._default_direction(torch, optimizer, direction, options)
            self.tuner = self._build(method_of(tuner), groups, initial, direction, options)
        self.direction = self._resolve_direction(direction)
        if self.direction == Direction.GRADIENT and not isinstance(optimizer, torch.optim.SGD):
            raise ValueError(
                f"direction 'gradient' with {type(optimizer).__name__}: a rate measured along g (g'g/g'Hg) "
                "is an SGD-scale rate, meaningless for an optimizer that steps along its own update; "
                "use direction='update' (the default for it; hessianlr.torch_directions.register_update_rule "
                "teaches the driver the update of another optimizer class)")
        if self.direction == Direction.UPDATE:
            update_rule(optimizer)  # fail now, not at the first step
        self._step = 0
        #: Hessian-vector products computed so far (one per group with a gradient, per curvature).
        self.hvp_count = 0
        #: Forward passes of the closure for loss probes so far.
        self.probe_count = 0
        #: Observations fed to the tuner so far (failed ones included).
        self.observation_count = 0
        #: Loss observations reported as failed (a NaN/±Inf probe loss) so far.
        self.failed_observation_count = 0
        self._last_lr = self.tuner.lrs(0)
        self._apply(self._last_lr)

    # -- construction --------------------------------------------------------------------------

    @staticmethod
    def _default_direction(torch, optimizer, direction, options):
        """The direction the rates are measured along, unless the caller chose one: the
        optimizer's own update (momentum's buffer, Adam's preconditioned step: what it will step
        along, see `OptimizerDynamics` in the core), and g only for plain SGD, where u = g."""
        if direction is not None or "direction" in options:
            return direction
        if isinstance(optimizer, torch.optim.SGD) and all(is_plain_sgd(optimizer, g) for g in optimizer.param_groups):
            return None  # u = g: the tuner's own default
        return Direction.UPDATE

    @staticmethod
    def _build(method, groups, initial, direction, options) -> Tuner:
        params = method_params(method)
        options = dict(options)
        if "initial_lr" not in options and Param.INITIAL_LR in params:
            if method == Method.ARMIJO:
                if len(set(initial)) != 1:
                    raise ValueError(f"armijo has one rate for all groups; the param groups' lrs differ "
                                     f"({initial}): pass initial_lr")
                options["initial_lr"] = initial[0]
            else:
                options["initial_lr"] = initial
        if direction is not None and Param.DIRECTION in params:
            options.setdefault("direction", _direction(direction))
        return make_tuner(method, groups, **options)

    def _resolve_direction(self, direction) -> Direction:
        if Param.DIRECTION in method_params(self.tuner.method):
            own = Direction(int(self.tuner.get_param(Param.DIRECTION)))
            if direction is not None and _direction(direction) != own:
                raise ValueError(f"direction={direction!r} disagrees with the tuner's direction option ({own.name.lower()})")
            return own
        return Direction.UPDATE if direction is None else _direction(direction)

    # -- what is not supported yet ---------------------------------------------------------------

    def _check_supported(self, torch, where: str) -> None:
        world = _world_size(torch)
        if world > 1:
            raise UnsupportedTrainingError(
                f"{where}: torch.distributed is initialised with {world} processes; data-parallel training "
                "(DistributedDataParallel, FSDP) is not supported yet: LRTuner computes the gradient with "
                "torch.autograd.grad and writes it into p.grad, bypassing DDP's gradient all-reduce, so every "
                "process would step on its own local gradient with its own rates. Train in one process for now.")
        for k, group in enumerate(self.optimizer.param_groups):
            for i, p in enumerate(group["params"]):
                what = _sharded(p)
                if what is not None:
                    raise UnsupportedTrainingError(
                        f"{where}: parameter {i} of param group {k} is {what}; sharded training is not "
                        "supported yet (the gradient LRTuner computes would be the local shard's, without the "
                        "reduce-scatter).")

    def _check_gradients_untouched(self, params_by_group) -> None:
        """Raises if a p.grad this driver wrote at its previous step was replaced since."""
        written = self._written_grads
        if not written:
            return
        for k, ps in enumerate(params_by_group):
            for i, p in enumerate(ps):
                entry = written.get(id(p))
                if entry is None or entry[0]() is not p:
                    continue  # a parameter this driver has not written yet
                expected = None if entry[1] is None else entry[1]()
                if p.grad is not None and p.grad is not expected:
                    raise UnsupportedTrainingError(
                        f"LRTuner.step: the gradient of parameter {i} of param group {k} was written by something "
                        "else since the previous step (loss.backward()? gradient accumulation over micro-batches?). "
                        "step computes the gradient of its own loss and replaces p.grad, so those gradients would "
                        "be discarded silently; gradient accumulation is not supported yet. Call driver.step(loss) "
                        "instead of loss.backward() once per optimizer step (optimizer.zero_grad() before it if "
                        "another backward pass ran).")

    def __getstate__(self):  # pickle / deepcopy: the weak references of the last step stay behind
        state = dict(self.__dict__)
        state["_written_grads"] = {}
        return state

    def _record_written(self, params) -> None:
        self._written_grads = {
            id(p): (weakref.ref(p), None if p.grad is None else weakref.ref(p.grad)) for p in params
        }

    # -- queries -------------------------------------------------------------------------------

    @property
    def step_count(self) -> int:
        """Steps taken so far (the step the next ``step`` call will be)."""
        return self._step

    def need(self) -> tuple[Need, int]:
        """What the next ``step`` will need first."""
        return self.tuner.need(self._step)

    def wants_curvature(self) -> bool:
        """Whether the next ``step`` will compute curvature (and build the graph)."""
        return self.tuner.need(self._step)[0] == Need.CURVATURE

    def get_last_lr(self) -> list[float]:
        """The rates last set on the optimizer's param groups, one per group."""
        return list(self._last_lr)

    # -- the step ------------------------------------------------------------------------------

    def _apply(self, lrs) -> None:
        torch = _torch()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            if isinstance(group["lr"], torch.Tensor):
                group["lr"].fill_(lr)
            else:
                group["lr"] = lr

    def _directions(self, groups, grads_by_group):
        detached = [[None if g is None else g.detach() for g in grads] for grads in grads_by_group]
        if self.direction == Direction.GRADIENT:
            return detached, detached
        if all(is_plain_sgd(self.optimizer, group) for group in groups):
            return detached, detached
        return detached, update_directions(self.optimizer, groups, detached)

    def step(self, loss=None, closure: Callable | None = None, probe_closure: Callable | None = None) -> list[float]:
        """One training step's gradient and learning rates (see the class docstring); returns the
        rates set on the optimizer.

        ``probe_closure`` (GeN, Hi-DLR only): a forward-only loss on an independent batch, used for
        every loss probe (the zero row included) instead of ``closure``. GeN's reference probes
        the next batch: the fit then estimates the expected loss along the step rather than the
        step's own batch loss, whose slope gᵀg is biased upwards by the gradient noise."""
        torch = _torch()
        self._check_supported(torch, "LRTuner.step")
        groups = self.optimizer.param_groups
        params_by_group = [[p for p in group["params"] if p.requires_grad] for group in groups]
        self._check_gradients_untouched(params_by_group)
        t = self._step
        need, _ = self.tuner.need(t)
        if probe_closure is not None and self.tuner.method not in (Method.GEN, Method.HIDLR):
            raise ValueError(
                f"probe_closure is for GeN and Hi-DLR; {self.tuner.method.name.lower()} compares its probe "
                "losses with the step's own loss and slope, so they must come from the same batch")
        measures_with_closure = need == Need.SLOPE or (need == Need.LOSSES and probe_closure is None)
        if measures_with_closure and closure is None:
            raise ValueError(f"step {t} needs {need.name.lower()} of the loss at probe weights: pass closure=")
        if loss is None:
            if closure is None:
                raise TypeError("step needs the loss (with its graph) or a closure computing it")
            with torch.enable_grad():
                loss = closure()
        params = [p for ps in params_by_group for p in ps]
        if not params:
            raise ValueError("the optimizer has no parameters that require grad")
        graph = need == Need.CURVATURE
        grads = torch.autograd.grad(loss, params, create_graph=graph, allow_unused=True)
        for p, g in zip(params, grads):
            p.grad = None if g is None else g.detach()
        self._record_written(params)
        grads_by_group, start = [], 0
        for ps in params_by_group:
            grads_by_group.append(list(grads[start : start + len(ps)]))
            start += len(ps)
        if need != Need.NOTHING:
            self._observe(torch, t, loss, closure, probe_closure, groups, params_by_group, grads_by_group, graph)
        del grads, grads_by_group  # frees the double-backward graph
        lrs = self.tuner.lrs(t)
        self._apply(lrs)
        self._last_lr = lrs
        self._step = t + 1
        return list(lrs)

    def _observe(self, torch, t, loss, closure, probe_closure, groups, params_by_group, grads_by_group,
                 graph) -> None:
        """Runs the rest of step t through the library's step driver (``hlr_tuner_step``): the
        loop, the observations and the failure policy are the library's; this binding only
        supplies the tensor operations (:class:`~hessianlr.torch_observations.TorchStepBackend`).
        With ``probe_closure`` every loss probe (the zero row too) runs on its batch, so the
        step's own loss is not passed as L(w)."""
        device = next(p.device for ps in params_by_group for p in ps)
        detached, dirs = self._directions(groups, grads_by_group)
        backend = TorchStepBackend(
            torch, params_by_group, grads_by_group if graph else detached, dirs,
            closure=closure if probe_closure is None else probe_closure, graph=graph, device=device)
        current = None
        if probe_closure is None:
            current = float(loss.detach().reshape(()).to(torch.float64).cpu())
            if not math.isfinite(current):
                raise NonFiniteError(
                    f"LRTuner.step: the loss at the current weights is {current} at step {t}; no learning rate "
                    "can be measured there (diverged weights or a bad batch?)")
        try:
            result = self.tuner.run_step(t, backend, current)
        except CallbackError as error:
            if error.__cause__ is not None:  # the closure's or torch's own exception, as it was raised
                raise error.__cause__ from None
            raise
        self.hvp_count += backend.hvp_count
        self.probe_count += backend.loss_count
        self.observation_count += result.rounds
        self.failed_observation_count += result.failures

    # -- checkpoints ---------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """The library snapshot (bytes: options, state, schedule) plus the step counter and the
        counters; pair it with the optimizer's state_dict."""
        return {
            "tuner": self.tuner.save(),
            "step": self._step,
            "hvp_count": self.hvp_count,
            "probe_count": self.probe_count,
            "observation_count": self.observation_count,
            "failed_observation_count": self.failed_observation_count,
            "last_lr": list(self._last_lr),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restores ``state_dict()`` output: the tuner continues bit-identically."""
        self.tuner.restore(state["tuner"])
        self._step = int(state["step"])
        self.hvp_count = int(state.get("hvp_count", 0))
        self.probe_count = int(state.get("probe_count", 0))
        self.observation_count = int(state.get("observation_count", 0))
        self.failed_observation_count = int(state.get("failed_observation_count", 0))
        self._last_lr = list(state.get("last_lr", self.tuner.lrs(self._step)))

    def close(self) -> None:
        """Frees the library handle now (otherwise when the driver is collected)."""
        self.tuner.close()
