""":class:`LRTuner`: any libhessianlr method drives a torch optimizer's learning rates.

One library group per optimizer param group. Each optimizer step runs the general protocol of
the library (``need`` → compute → ``observe``, until the step needs nothing) through its step
driver, with torch doing the work on the tensors' device and only scalars crossing to the host;
see :class:`LRTuner`.
"""

from __future__ import annotations

import functools
import math
import sys
import warnings
import weakref
from typing import Any, Callable, Sequence, Union

from .constants import Direction, Info, Method, Need, Param
from .errors import CallbackError, NonFiniteError
from .torch_directions import (UnsupportedOptimizerError, builds_fresh_tensors, is_measured, is_plain_sgd,
                               optimizer_options, update_directions, update_rule)
from .torch_measured_update import own_step_size
from .torch_observations import DoubleBackwardError, TorchStepBackend, _closures, accumulation_dtype, _scalar_loss
from .tuner import Tuner, method_params
from .tuners import make_tuner, method_of

__all__ = ["LRTuner", "UnsupportedTrainingError", "DoubleBackwardError"]

#: The curvature sources of ``LRTuner(curvature=...)``.
CURVATURE_SOURCES = ("auto", "graph", "finite_difference")

#: Relative tolerance of the check that every process holds the same gradient and direction
#: (DDP's all-reduce gives every process the same bits; unreduced local gradients differ at O(1)).
_SAME_ACROSS_PROCESSES = 1e-6

Closure = Union[Callable, Sequence[Callable], None]


class UnsupportedTrainingError(RuntimeError):
    """A training setup :class:`LRTuner` recognises but cannot serve correctly: sharded training
    (FSDP / DTensor parameters), ``step``'s own gradient under torch.distributed with more than
    one process, more than one process without the process group the gradients are averaged over,
    gradients that differ between the processes, and gradients written into ``p.grad`` by someone
    else between ``step`` calls. Raised before anything changes."""


@functools.lru_cache(maxsize=None)
def _distributed(torch):
    """torch.distributed, or None where this torch build has none (a property of the build: looked
    up once)."""
    dist = getattr(torch, "distributed", None)
    return dist if dist is not None and dist.is_available() else None


def _world_size(torch) -> int:
    """torch.distributed's world size, 1 when it is unavailable or not initialised."""
    dist = _distributed(torch)
    if dist is None or not dist.is_initialized():
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


_TORCH = None


#: Framework wrappers around the user's optimizer, (class name, top-level module): the driver works on
#: the optimizer inside (``.optimizer``). Lightning's ``self.optimizers()`` in manual optimization
#: is one (a class deriving from the wrapped one's, with its own step, which counts a Lightning
#: step: the dry run of a measured update through it advanced trainer.global_step).
_WRAPPERS = {("LightningOptimizer", "lightning"), ("LightningOptimizer", "pytorch_lightning"),
             ("AcceleratedOptimizer", "accelerate")}


def _unwrapped(optimizer):
    """``optimizer``, or the optimizer a framework's wrapper (``_WRAPPERS``) holds."""
    if any((cls.__name__, cls.__module__.split(".")[0]) in _WRAPPERS for cls in type(optimizer).__mro__):
        return _unwrapped(optimizer.optimizer)
    return optimizer


def _count_optimizer_step(driver_ref, optimizer, args, kwargs) -> None:
    """The optimizer's step post-hook of an LRTuner (a weak reference: the hook does not keep the
    driver alive): counts optimizer.step() calls for :meth:`LRTuner._check_stepped`."""
    driver = driver_ref()
    if driver is not None:
        driver._optimizer_steps += 1


def _torch():
    """The torch module, imported at the first call (torch is an optional dependency) and kept:
    an ``import`` statement at every step costs more than a global's lookup."""
    global _TORCH
    if _TORCH is None:
        import torch

        _TORCH = torch
    return _TORCH


class _Layout:
    """The optimizer's param groups as the driver last checked them (no parameter sharded): the
    ``param_groups`` list, and per group its dict, its ``params`` list and that list's length.

    :meth:`matches` compares identities and lengths, O(groups), so each step finds out cheaply
    whether the groups changed since: ``add_param_group`` (a longer list), ``load_state_dict``
    of the optimizer (a new list of new dicts), a group dict or ``params`` list replaced, a
    parameter appended to or removed from a group's list. Not seen: a parameter replaced in place
    in a group's ``params`` list at the same length (torch never does that). Which parameters
    are trainable (``requires_grad``) and their gradients are read at every step, not kept."""

    __slots__ = ("param_groups", "entries", "flat")

    def __init__(self, param_groups):
        self.param_groups = param_groups
        #: (group dict, its params list, that list's length) per group.
        self.entries = tuple((group, group["params"], len(group["params"])) for group in param_groups)
        #: Every group's parameters in order, for the steady steps' scan of p.grad.
        self.flat = tuple(p for group in param_groups for p in group["params"])

    def matches(self, param_groups) -> bool:
        """Whether ``param_groups`` is the checked list, unchanged (see the class docstring)."""
        if param_groups is not self.param_groups or len(param_groups) != len(self.entries):
            return False
        for group, (checked, params, count) in zip(param_groups, self.entries):
            if group is not checked:
                return False
            now = group["params"]
            if now is not params or len(now) != count:
                return False
        return True


def _direction(value) -> Direction:
    if isinstance(value, str):
        try:
            return Direction[value.upper()]
        except KeyError:
            raise ValueError(f"direction must be 'gradient' or 'update', got {value!r}") from None
    return Direction(int(value))


def _curvature(value) -> str:
    if value not in CURVATURE_SOURCES:
        raise ValueError(f"curvature must be one of {', '.join(map(repr, CURVATURE_SOURCES))}, got {value!r}")
    return value


def _same_parameters(kept, dirs) -> bool:
    """Whether directions kept at the previous step are over the parameters of ``dirs`` (per
    param group, the trainable parameters): the same count per group and the same shape where
    both have one. A layer frozen or unfrozen in between (``requires_grad``) changes that."""
    return len(kept) == len(dirs) and all(
        len(a) == len(b) and all(x is None or y is None or x.shape == y.shape for x, y in zip(a, b))
        for a, b in zip(kept, dirs))


class LRTuner:
    """Learning rates from a libhessianlr tuner for a torch optimizer, every method supported.

    ``LRTuner(optimizer, tuner="hessianlr", *, direction=None, curvature="auto", ddp=None,
    process_group=None, scaler=None, **options)``: ``tuner`` is a :class:`~hessianlr.Tuner` with one group
    per param group, or a method (``"cdat"``, ``Method.GEN``, ``hessianlr.HiDLR``, ...) built
    here with ``options`` (the library's option names) and, unless given, ``initial_lr`` from
    each group's ``initial_lr`` (set to its ``lr`` as torch schedulers do). Armijo's single
    ``initial_lr`` is the groups' common lr.

    Call it once per OPTIMIZER step, between the backward pass and ``optimizer.step()``: it reads
    the gradient in ``p.grad`` as the optimizer will (after DDP's all-reduce, gradient
    accumulation, clipping, ``GradScaler.unscale_``), measures what the step needs along the
    direction the optimizer will step along, and sets each ``param_group['lr']``::

        driver = LRTuner(optimizer, "cdat", update_period=4)
        for x, y in loader:
            closure = lambda: loss_fn(model(x), y)          # the step's loss, same batch
            optimizer.zero_grad()
            loss = closure()
            loss.backward(create_graph=driver.wants_curvature())  # the graph only when needed
            driver.after_backward(closure, loss=loss)       # observations, rates
            optimizer.step()                                # w ← w − lr_k·u with the rates just set

    Curvature (HessianLR, CDAT) needs one Hessian-vector product per param group on the steps
    where ``driver.wants_curvature()``. ``curvature=`` chooses where it comes from:

    - ``"graph"``: the double-backward graph ``loss.backward(create_graph=True)`` left in
      ``p.grad`` (exact, one extra backward pass per group; not under DDP, which cannot
      backward with ``create_graph``; not through kernels without a second derivative, such as
      torch's fused ``scaled_dot_product_attention``: :class:`DoubleBackwardError` says so).
    - ``"finite_difference"``: no graph; a central difference of the gradient on the same batch,
      c_k = d_kᵀ(∇L(w + ε_k d_k) − ∇L(w − ε_k d_k)) / (2ε_k), from two forward and backward
      passes of ``closure`` per param group at weights perturbed in place and restored bit for
      bit (ε_k: :func:`~hessianlr.torch_observations.finite_difference_step`; relative error
      ~1e-5 to 1e-4 in float32, ~1e-11 to 1e-9 in float64 on the tests' models). Works for
      every model and under DDP; both passes
      replay the same random numbers (dropout masks) and leave the caller's generators as they
      were.
    - ``"auto"`` (default): the graph when ``p.grad`` carries one, else finite differences
      through ``closure``; neither is ValueError naming both.

    Under DistributedDataParallel (torch.distributed, one process per replica): pass the DDP
    module; every process gets the same rates and, with DDP's averaged gradients, the same
    parameters. Each process measures its own batch (losses, curvature by finite differences in
    ``ddp.no_sync()``, gradients with ``torch.autograd.grad``, so no gradient all-reduce runs)
    and the library averages each observation's scalars over the processes
    (``torch.distributed.all_reduce`` of a few float64 values): the observations are those of
    the global batch (equal per-process batches, mean losses)::

        ddp = DistributedDataParallel(model)
        optimizer = torch.optim.AdamW(ddp.parameters(), lr=1e-3)
        driver = LRTuner(optimizer, "cdat", ddp=ddp)     # curvature: finite differences
        for x, y in loader:                                # this process's shard of the batch
            closure = lambda: loss_fn(ddp(x), y)
            optimizer.zero_grad()
            loss = closure()
            loss.backward()                                # DDP averages p.grad over processes
            driver.after_backward(closure, loss=loss)      # the same rates on every process
            optimizer.step()

    Gradient accumulation (one driver call per optimizer step, after the last micro-batch; under
    DDP ``no_sync`` on the others, as usual). ``closure`` is then a list with one closure per
    micro-batch, each scaled as in its backward, their losses adding up to the step's loss (a
    single closure computing that sum works too, holding every micro-batch's graph at once in
    the finite-difference passes)::

        for batches in loader:                             # micro-batches of one optimizer step
            closures = [lambda x=x, y=y: loss_fn(ddp(x), y) / len(batches) for x, y in batches]
            optimizer.zero_grad()
            for i, micro in enumerate(closures):
                with ddp.no_sync() if i < len(closures) - 1 else contextlib.nullcontext():
                    micro().backward()
            driver.after_backward(closures)                # loss= omitted: computed when needed
            optimizer.step()

    Mixed precision with ``torch.amp.GradScaler``: pass it, ``LRTuner(..., scaler=scaler)``, and
    call ``scaler.unscale_(optimizer)`` before the driver, so that ``p.grad`` is the true
    gradient (ValueError otherwise). On a step whose gradients overflowed the scaler skips
    ``optimizer.step()``, and the driver skips it too: it neither observes nor counts the step
    and returns the rates already set (``skipped_steps`` counts those calls), so its steps stay
    the optimizer's. Curvature from the graph of ``scaler.scale(loss).backward(create_graph=True)``
    (the graph of S·g; ``unscale_`` divides only the values) is divided by the scale S. Run the
    closure's forward under the same ``torch.autocast`` as the step's::

        scaler = torch.amp.GradScaler("cuda")            # or "cpu"
        driver = LRTuner(optimizer, "cdat", scaler=scaler)
        closure = lambda: loss_fn(model(x), y)           # with torch.autocast(...) inside
        with torch.autocast("cuda", dtype=torch.float16):
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward(create_graph=driver.wants_curvature())
        scaler.unscale_(optimizer)
        driver.after_backward(closure, loss=loss)        # nothing on a step the scaler skips
        scaler.step(optimizer)
        scaler.update()

    The finite-difference passes backpropagate the closure's loss unscaled (float16 gradients
    that underflow there make that curvature inexact; bfloat16 has float32's range). Without
    ``scaler=``, skip the driver yourself on the steps the scaler skips (an overflowed gradient
    on a step that observes raises NonFiniteError, changing nothing; on another step the driver
    would count a step the optimizer did not take).

    What ``after_backward(closure=None, *, loss=None, probe_closure=None)`` does at its step t
    (0-based, one per call):

    1. ``need``: nothing when the plan read at an earlier step still holds (below), else
       ``tuner.plan(t)``'s; checks, before anything changes: the gradient is in ``p.grad``;
       ``closure`` is there if the step needs losses (GeN, Hi-DLR, Armijo: unless
       ``probe_closure``) or finite-difference curvature; on a step that observes, that the
       direction is finite (NonFiniteError: an overflowed gradient); under several processes,
       that every process holds the same gradient, direction, step and rates (one
       ``all_reduce`` of twelve scalars: UnsupportedTrainingError if not, e.g. ``no_sync``
       around the last micro-batch too, or a model not wrapped in DDP) and that ``loss`` and
       the direction are finite everywhere (NonFiniteError on every process if not). With
       ``scaler=``: that ``scaler.unscale_(optimizer)`` ran (ValueError if not); if the scaler
       found an overflow, nothing more: the step is not observed or counted, ``p.grad`` is
       detached if it carried a graph, and the rates already set are returned.
    2. The direction d per parameter: g = ``p.grad``, or u, the optimizer's would-be update
       computed from its state without stepping it (:mod:`hessianlr.torch_directions`: SGD with
       any momentum, dampening, nesterov, weight decay; Adam/AdamW with amsgrad, weight decay
       (coupled or decoupled); plain SGD's u is g itself). A param group with ``maximize=True``
       is refused at construction (ValueError) by every method but ``constant``: the tuners
       minimise the closure's loss; return −J and keep ``maximize=False`` to maximise J.
    3. The library's step driver (``hlr_tuner_step``, the same loop, observations and failure
       policy as every other language and host mode) runs the step to completion over
       :class:`~hessianlr.torch_observations.TorchStepBackend`: CURVATURE → [g_kᵀd_k,
       d_kᵀHd_k]; SLOPE → [L(w), g_kᵀd_k]; LOSSES → the closure's loss at w − Σ_k ξ_jk·d_k for
       each probe row (or ``probe_closure``'s, on an independent batch, for every row: GeN,
       Hi-DLR), the weights perturbed in place under no_grad and restored bit for bit; under
       several processes every probe row is evaluated on every process (so every process makes
       the same number of forward calls: DDP's forward may broadcast buffers) and each
       observation is averaged over them. A NaN/±Inf trial loss is a failed observation (GeN,
       Hi-DLR: rate × fit_failure_decay; Armijo: backtrack; counted in
       ``failed_observation_count``); a NaN/±Inf loss at w, slope or curvature raises
       NonFiniteError. Only scalars cross to the host. If anything fails the tuner is
       unchanged, the weights are restored, ``p.grad`` is as it was (its graph kept), the step is
       not counted (call again to retry) and the error propagates.
    4. ``p.grad`` is detached if it carried a graph (this breaks the parameter ↔ gradient
       reference cycle ``backward(create_graph=True)`` creates and frees the graph); each
       ``param_group['lr']`` is set to the tuner's rate for step t.

    Kept between calls: the param groups as last checked (their parameters are checked for
    sharding again only when the groups changed: see ``_Layout``; a param group added after
    construction is refused, ValueError, nothing changed), the tuner's method, and the step's
    plan (``Tuner.plan``, ``hlr_tuner_plan``: need, rates and ``steady_until``, the first step
    at which either may change). Until that step, with the tuner unchanged (its ``revision``:
    any ``set_param``, ``restore``, observation ... advances it, and another tuner assigned to
    ``driver.tuner`` is read afresh), a step needs nothing and its rates are the plan's, so the
    steps between observations make no library call. Which parameters require grad and
    ``p.grad`` are read at every call.

    ``loss``: the step's loss at w on this process (a tensor or a number; with accumulation the
    sum of the scaled micro-batch losses); it saves a forward pass on steps that need L(w), and
    when it is None the closure computes it there. ``closure``: a deterministic forward pass on
    the step's batch returning the loss (a scalar tensor, with its graph when it serves finite
    differences: the driver enables grad for those passes and runs the probes under no_grad),
    or a list of such closures whose losses add up (micro-batches).

    The all-in-one ``step(loss=None, closure=None, probe_closure=None)`` serves plain loops in
    one process without a backward pass of your own: it computes the gradient itself with
    ``torch.autograd.grad`` (``create_graph`` only on curvature steps, unless
    ``curvature="finite_difference"``), writes it into ``p.grad`` (replacing it; parameters the
    loss does not reach get ``p.grad = None``), then runs steps 2 to 4 above::

        driver = LRTuner(optimizer, "gen", update_period=4)
        for x, y in loader:
            closure = lambda: loss_fn(model(x), y)      # forward only, same batch
            driver.step(closure=closure)                # gradient, observations, rates
            optimizer.step()

    Direction: by default the optimizer's update u (what it will step along: SGD's momentum
    buffer with Nesterov and weight decay, Adam's and AdamW's preconditioned step), and the
    gradient only for plain SGD (where u = g); ``direction="gradient"`` with an optimizer other
    than SGD is refused (ValueError): g'g/g'Hg is an SGD-scale rate, meaningless for Adam.
    HessianLR and CDAT take it as their ``direction`` option; GeN, Hi-DLR and Armijo probe
    along it. SGD's, Adam's and AdamW's update is computed in closed form; any other optimizer's
    (RMSprop, Adagrad, NAdam, RAdam, Adamax, other packages') is measured by a dry run of its own
    step, without its step hooks, everything restored (:mod:`hessianlr.torch_measured_update`:
    one more optimizer step and a transient copy of the parameters and state per measurement);
    an optimizer whose step needs a closure (LBFGS) raises UnsupportedOptimizerError at
    construction.

    Memory: on a step with loss probes or finite-difference curvature the perturbed parameters
    are saved once (one copy of them on their device) and restored from that copy; graph
    curvature keeps the double-backward graph until the group HVPs are done.

    Closures run forward passes at trial weights: modules with side effects in train mode
    (BatchNorm running statistics) update their buffers there too; evaluate such modules in
    eval mode, or accept it. Under several processes an exception on one process (in a closure,
    say) leaves the others waiting in the next collective, as any collective code does.

    Distributed arguments: ``ddp``, the DistributedDataParallel module the optimizer's
    parameters belong to (its process group averages the observations, its ``no_sync`` wraps
    the finite-difference passes); or ``process_group``, the group the gradients are averaged
    over, for data parallelism without DDP (gradients all-reduced by hand); given with ``ddp``
    it replaces DDP's group. Under several processes ``curvature="graph"`` is refused
    (ValueError) and ``"auto"`` means finite differences.

    Refused with :class:`UnsupportedTrainingError` (at construction and at every call, before
    anything changes) rather than trained wrongly:

    - sharded training: FSDP / DTensor parameters (the gradient in ``p.grad`` is a shard's).
    - torch.distributed initialised with more than one process and neither ``ddp`` nor
      ``process_group``: the driver would not know which processes average their gradients.
    - ``step`` (its own gradient) under more than one process: ``torch.autograd.grad`` bypasses
      DDP's gradient all-reduce; use ``loss.backward()`` and ``after_backward``.
    - ``step``, when ``p.grad`` was written by someone else since its previous call (a
      ``loss.backward()``, accumulation): ``step`` would replace it silently; use
      ``after_backward``. Detected when ``p.grad`` is another tensor than the one ``step``
      wrote (or None replaced by a tensor); changes in place (``zero_grad(set_to_none=False)``,
      clipping, ``GradScaler.unscale_``) are fine.

    Warned about (UserWarning, once per driver): ``after_backward`` called again when the
    optimizer has not stepped since the previous call (the driver counts optimizer steps, through
    a step post-hook it registers on the optimizer; a GradScaler's skipped steps are known to it
    with ``scaler=``).

    Copies: ``pickle`` / ``copy.deepcopy`` copy the optimizer with the driver (as for torch's
    own schedulers) and the tuner through its snapshot (a new, independent handle); copy the
    model, optimizer and driver in one call to keep them connected. A driver with ``ddp`` or
    ``process_group`` is not copied (TypeError: process groups cannot be). For checkpoints use
    ``state_dict`` / ``load_state_dict``.
    """

    def __init__(
        self,
        optimizer,
        tuner: Union[Tuner, Method, int, str, type] = "hessianlr",
        *,
        direction: Union[str, Direction, int, None] = None,
        curvature: str = "auto",
        ddp=None,
        process_group=None,
        scaler=None,
        **options: Any,
    ):
        torch = _torch()
        optimizer = _unwrapped(optimizer)
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        #: Where curvature comes from: "auto", "graph" or "finite_difference".
        self.curvature = _curvature(curvature)
        self._written_grads: dict = {}  # id(p) → (weakref to p, weakref to the grad step wrote or None)
        self._layout: _Layout | None = None  # the param groups as last checked (_check_supported)
        self._method_of = None  # (weakref to the tuner, its method, ...): see _method_facts
        self._plan = None  # (weakref to the tuner, its revision, the step, its Plan, whether it needs nothing): _kept_plan
        self._ddp, self._process_group = self._distribution(torch, optimizer, ddp, process_group)
        #: The ``torch.amp.GradScaler`` of the loop (``scaler=``), or None.
        self.scaler = self._grad_scaler(torch, scaler)
        if self._process_group is not None and self.curvature == "graph":
            raise ValueError(
                "curvature='graph' with a process group: DistributedDataParallel cannot backward with "
                "create_graph=True, and p.grad holds the averaged gradient, not the graph of this process's; "
                "use curvature='finite_difference' (or 'auto')")
        self._check_supported(torch, "LRTuner", own_gradient=False)
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
            for k, rate in enumerate(initial):
                if not (math.isfinite(rate) and rate > 0) and "initial_lr" not in options:
                    raise ValueError(
                        f"param group {k} has lr {rate}: the tuner starts each group from its lr, which must be "
                        "positive and finite (to freeze a group's parameters, set requires_grad=False on them; or "
                        "pass initial_lr=)")
            direction = self._default_direction(torch, optimizer, direction, options)
            self.tuner = self._build(method_of(tuner), groups, initial, direction, options, optimizer)
        self.direction = self._resolve_direction(direction)
        maximizing = [k for k, group in enumerate(optimizer.param_groups) if group.get("maximize", False)]
        if maximizing and self.tuner.method != Method.CONSTANT:
            raise ValueError(
                f"param group {maximizing[0]} has maximize=True: the tuner minimises the loss its closures return "
                "(probe losses, slopes and curvature along p.grad), while a maximising optimizer climbs it, so every "
                "rate would be for the wrong problem; to maximise J, return -J from the closure and backward it with "
                "maximize=False (the same training)")
        if self.direction == Direction.GRADIENT and not isinstance(optimizer, torch.optim.SGD):
            raise ValueError(
                f"direction 'gradient' with {type(optimizer).__name__}: a rate measured along g (g'g/g'Hg) "
                "is an SGD-scale rate, meaningless for an optimizer that steps along its own update; "
                "use direction='update' (the default for it: the update is computed for SGD, Adam and AdamW and "
                "measured by a dry run of the step for other optimizers)")
        if self.direction == Direction.UPDATE:
            update_rule(optimizer)  # fail now, not at the first step
        if own_step_size(optimizer) is not None:
            warnings.warn(f"{own_step_size(optimizer)} estimates its own step size, which the rate this driver sets "
                          "multiplies while both keep adapting: use it alone, or a plain optimizer (SGD, Adam, ...) "
                          "with the driver", UserWarning, stacklevel=2)
        self._step = 0
        self._previous_update = None  # auto: (step, the kept update or weights, None or their rates): _remember_update
        self._scratch = {}  # the step backends' trial-weight work buffers (TorchStepBackend scratch=)
        self._stepped_watch = None  # the optimizer's step count after a step: _check_stepped
        self._warned_unstepped = False
        #: optimizer.step() calls seen by the hook (not the dry runs of a measured update, which
        #: run below torch's hook wrapper)
        self._optimizer_steps = 0
        self._step_hook = optimizer.register_step_post_hook(
            functools.partial(_count_optimizer_step, weakref.ref(self)))
        #: Hessian-vector products computed so far (one per group with a gradient, per curvature;
        #: from the graph or by finite differences).
        self.hvp_count = 0
        #: Losses at probe points evaluated so far (forward passes of the closure, or of each of
        #: its micro-batch closures).
        self.probe_count = 0
        #: Forward and backward passes of the closure (of each micro-batch closure) for
        #: finite-difference curvature so far: two per param group and curvature.
        self.gradient_count = 0
        #: Observations fed to the tuner so far (failed ones included).
        self.observation_count = 0
        #: Loss observations reported as failed (a NaN/±Inf probe loss) so far.
        self.failed_observation_count = 0
        #: after_backward calls on steps the GradScaler skips (``scaler=``): not counted as steps.
        self.skipped_steps = 0
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
    def _build(method, groups, initial, direction, options, optimizer) -> Tuner:
        params = method_params(method)
        options = dict(options)
        if Param.OPTIMIZER in params:  # the method models the optimizer's dynamics: copy them
            for key, value in optimizer_options(optimizer).items():
                options.setdefault(key, value)
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

    @staticmethod
    def _distribution(torch, optimizer, ddp, process_group):
        """(the DDP module or None, the process group the observations are averaged over or None)."""
        if ddp is not None:
            parallel = getattr(getattr(torch, "nn", None), "parallel", None)
            cls = getattr(parallel, "DistributedDataParallel", None)
            if cls is None or not isinstance(ddp, cls):
                raise TypeError(f"ddp must be a torch.nn.parallel.DistributedDataParallel module, got {type(ddp).__name__}")
            own = {id(p) for p in ddp.parameters()}
            for k, group in enumerate(optimizer.param_groups):
                for i, p in enumerate(group["params"]):
                    if p.requires_grad and id(p) not in own:
                        raise ValueError(f"parameter {i} of param group {k} is not a parameter of the ddp module: "
                                         "its gradient would not be averaged over the processes")
            if process_group is None:
                process_group = ddp.process_group
        if process_group is not None:
            dist = getattr(torch, "distributed", None)
            if dist is None or not dist.is_available() or not dist.is_initialized():
                raise ValueError("process_group given but torch.distributed is not initialised "
                                 "(torch.distributed.init_process_group first)")
        return ddp, process_group

    @staticmethod
    def _grad_scaler(torch, scaler):
        """``scaler`` checked: None or a ``torch.amp.GradScaler`` (``torch.cuda.amp.GradScaler``
        included)."""
        if scaler is None:
            return None
        cls = getattr(getattr(torch, "amp", None), "GradScaler", None)
        if cls is None or not isinstance(scaler, cls):
            raise TypeError(f"scaler must be a torch.amp.GradScaler, got {type(scaler).__name__}")
        return scaler

    def _scaler_skips(self, t) -> bool:
        """With ``scaler=``: whether the GradScaler found an overflow (Inf/NaN) in this step's
        gradients, so that ``scaler.step`` will skip ``optimizer.step()``. ValueError, changing
        nothing, unless ``scaler.unscale_(optimizer)`` ran in this iteration (``p.grad`` would
        hold the scaled gradient). Reads the scaler's record of this optimizer
        (``_per_optimizer_states``: the stage and ``found_inf_per_device``, what ``scaler.step``
        reads); False for a disabled scaler."""
        scaler = self.scaler
        if not scaler.is_enabled():
            return False
        from torch.amp.grad_scaler import OptState

        state = scaler._per_optimizer_states.get(id(self.optimizer))
        if state is None or state["stage"] is not OptState.UNSCALED:
            raise ValueError(f"step {t}: LRTuner(scaler=...) reads the unscaled gradient: call "
                             "scaler.unscale_(optimizer) after the backward pass and before driver.after_backward")
        return sum(v.item() for v in state["found_inf_per_device"].values()) > 0

    def _graph_scale(self, graph: bool) -> float:
        """The factor p.grad's double-backward graph carries: the GradScaler's scale (see
        TorchStepBackend's ``graph_scale``), 1 without one."""
        if not graph or self.scaler is None or not self.scaler.is_enabled():
            return 1.0
        return float(self.scaler.get_scale())

    # -- what is not supported -------------------------------------------------------------------

    def _check_supported(self, torch, where: str, *, own_gradient: bool, observing: bool = True) -> _Layout:
        """Raises UnsupportedTrainingError for what the driver cannot serve (several processes
        without the process group; ``step``'s own gradient under several processes; a sharded
        parameter); returns the checked :class:`_Layout` of the optimizer's param groups. The
        processes are asked when the step observes or computes its own gradient (``observing``):
        a step that observes nothing takes its rates from the plan, which only observations
        change, so processes cannot drift apart there (and every method observes at its first
        step or never). The parameters are checked only when the param groups changed since the
        last check (:meth:`_Layout.matches`)."""
        if own_gradient or (observing and self._process_group is None):  # otherwise nothing below can fail
            world = _world_size(torch)
            if world > 1 and own_gradient:
                raise UnsupportedTrainingError(
                    f"{where}: torch.distributed is initialised with {world} processes; step computes the gradient "
                    "itself with torch.autograd.grad and writes it into p.grad, bypassing DistributedDataParallel's "
                    "gradient all-reduce, so every process would step on its own local gradient. Let DDP's backward "
                    "run and call the driver after it: loss.backward(); driver.after_backward(closure, loss=loss); "
                    "optimizer.step(), with LRTuner(optimizer, ..., ddp=<the DDP module>).")
            if world > 1 and self._process_group is None:
                raise UnsupportedTrainingError(
                    f"{where}: torch.distributed is initialised with {world} processes, but the driver does not know "
                    "which processes average their gradients, so their rates could differ: pass LRTuner(optimizer, "
                    "..., ddp=<the DistributedDataParallel module>) (or process_group=, the group the gradients are "
                    "averaged over) and call driver.after_backward(...) after loss.backward().")
        param_groups = self.optimizer.param_groups
        layout = self._layout
        if layout is not None and layout.matches(param_groups):
            return layout
        tuner = self.__dict__.get("tuner")  # None while the constructor checks (it compares the counts itself)
        if tuner is not None and len(param_groups) != tuner.groups:
            raise ValueError(
                f"{where}: the optimizer has {len(param_groups)} param groups, the tuner {tuner.groups} (one per "
                "param group when the driver was built; optimizer.add_param_group since?): build the driver after "
                "the last param group is added")
        for k, group in enumerate(param_groups):
            for i, p in enumerate(group["params"]):
                what = _sharded(p)
                if what is not None:
                    raise UnsupportedTrainingError(
                        f"{where}: parameter {i} of param group {k} is {what}; sharded training is not "
                        "supported yet (p.grad holds a shard's gradient, and the tensor work of the driver would "
                        "need the shards' sums).")
        self._layout = _Layout(param_groups)
        return self._layout

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
                        "be discarded silently. With your own backward pass (accumulation, DDP, AMP, clipping) call "
                        "driver.after_backward(closure, loss=loss) after it instead of step; or call "
                        "optimizer.zero_grad() before step.")

    def __getstate__(self):  # pickle / deepcopy: the weak references of the last step stay behind
        if self._ddp is not None or self._process_group is not None:
            raise TypeError("an LRTuner with ddp= or process_group= cannot be copied (process groups cannot be); "
                            "save state_dict() and load it into a driver built in the new process")
        state = dict(self.__dict__)
        state["_written_grads"] = {}
        state["_layout"] = None  # the copy checks its own optimizer's param groups afresh
        state["_method_of"] = None  # weak references cannot be copied
        state["_plan"] = None
        state["_scratch"] = {}  # work buffers: the copy allocates its own
        state["_stepped_watch"] = None
        state["_step_hook"] = None  # the copy's optimizer has no hook of this driver
        return state

    def __setstate__(self, state):
        state.setdefault("curvature", "auto")
        state.setdefault("gradient_count", 0)
        state.setdefault("_ddp", None)
        state.setdefault("_process_group", None)
        state.setdefault("_layout", None)
        state.setdefault("scaler", None)
        state.setdefault("skipped_steps", 0)
        state.setdefault("_method_of", None)
        state.setdefault("_plan", None)
        state.setdefault("_scratch", {})
        state.setdefault("_stepped_watch", None)
        state.setdefault("_warned_unstepped", False)
        state.setdefault("_optimizer_steps", 0)
        state.setdefault("_step_hook", None)
        kept = state.get("_previous_update")
        if kept is not None and len(kept) == 2:  # pickled before kept weights existed: (step, update)
            state["_previous_update"] = (kept[0], kept[1], None)
        self.__dict__.update(state)

    def _record_written(self, params) -> None:
        self._written_grads = {
            id(p): (weakref.ref(p), None if p.grad is None else weakref.ref(p.grad)) for p in params
        }

    # -- queries -------------------------------------------------------------------------------

    @property
    def step_count(self) -> int:
        """Optimizer steps taken so far (the step the next call will be)."""
        return self._step

    def need(self) -> tuple[Need, int]:
        """What the next step will need first."""
        plan = self._step_plan(self._step)
        return plan.need, plan.count

    def _step_plan(self, t):
        """Step t's plan: the one kept from an earlier step while it holds (:meth:`_kept_plan`),
        else ``tuner.plan(t)``. A step reads it once and hands it on; after an observation it
        reads it again (the observation changed the tuner)."""
        return self._kept_plan(t) or self._read_plan(t)

    def wants_curvature(self) -> bool:
        """Whether the next step needs curvature: with ``curvature`` "graph" or "auto" build the
        double-backward graph then only, ``loss.backward(create_graph=driver.wants_curvature())``
        (with "finite_difference" never)."""
        return self.need()[0] == Need.CURVATURE

    def _kept_plan(self, t):
        """The plan read at an earlier step (:meth:`_read_plan`) if it still holds at step t — the
        same tuner at the same revision, t before its ``steady_until`` — else None. Then step t
        needs nothing and its rates are the plan's: the library promised it (``hlr_tuner_plan``),
        so the steps between observations make no library call at all."""
        kept = self._plan
        if kept is None:
            return None
        tuner_ref, revision, step, plan, idle = kept
        tuner = self.tuner
        if not idle or tuner_ref() is not tuner or tuner.revision != revision or not step <= t < plan.steady_until:
            return None
        return plan

    def get_last_lr(self) -> list[float]:
        """The rates last set on the optimizer's param groups, one per group."""
        return list(self._last_lr)

    # -- the step ------------------------------------------------------------------------------

    def _apply(self, lrs) -> None:
        tensor = _torch().Tensor
        for group, lr in zip(self.optimizer.param_groups, lrs):
            if isinstance(group["lr"], tensor):
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

    @staticmethod
    def _trainable(layout: _Layout):
        """(the param-group dicts, per group its parameters that require grad now)."""
        params_by_group = [[p for p in params if p.requires_grad] for _, params, _ in layout.entries]
        if not any(params_by_group):
            raise ValueError("the optimizer has no parameters that require grad")
        return layout.param_groups, params_by_group

    @staticmethod
    def _read_gradients(layout: _Layout):
        """One pass over the parameters for after_backward: (the param-group dicts, per group the
        parameters that require grad now, per group their ``p.grad``, whether any gradient is
        there, whether any carries a double-backward graph). ValueError as :meth:`_trainable`."""
        params_by_group, grads_by_group = [], []
        present = carries_graph = False
        for _, params, _ in layout.entries:
            ps, gs = [], []
            for p in params:
                if p.requires_grad:
                    g = p.grad
                    ps.append(p)
                    gs.append(g)
                    if g is not None:
                        present = True
                        if not carries_graph and g.requires_grad:
                            carries_graph = True
            params_by_group.append(ps)
            grads_by_group.append(gs)
        if not any(params_by_group):
            raise ValueError("the optimizer has no parameters that require grad")
        return layout.param_groups, params_by_group, grads_by_group, present, carries_graph

    def _method_facts(self):
        """(the tuner's method, whether it probes along the previous update), asked once per
        tuner: fixed for a handle's lifetime; a tuner assigned to ``driver.tuner`` later is asked
        anew. A method that has the ``probe_previous`` option (the library's catalog says so, see
        ``hlr_param_info``) wants the optimizer's previous update kept and probed along."""
        tuner = self.tuner
        cached = self._method_of
        if cached is None or cached[0]() is not tuner:
            method = tuner.method
            cached = self._method_of = (weakref.ref(tuner), method, Param.PROBE_PREVIOUS in method_params(method))
        return cached[1], cached[2]

    def _method(self):
        """The tuner's method (see :meth:`_method_facts`)."""
        return self._method_facts()[0]

    def _probes_previous(self) -> bool:
        """Whether the tuner probes along the optimizer's previous update (see :meth:`_method_facts`)."""
        return self._method_facts()[1]

    def _check_probe_closure(self, probe_closure) -> None:
        if probe_closure is not None and self._method() not in (Method.GEN, Method.HIDLR):
            raise ValueError(
                f"probe_closure is for GeN and Hi-DLR; {self.tuner.method.name.lower()} compares its probe "
                "losses with the step's own loss and slope, so they must come from the same batch")

    def _check_closure_for_losses(self, t, need, closures, probe_closure) -> None:
        measures_with_closure = need == Need.SLOPE or (need == Need.LOSSES and probe_closure is None)
        if measures_with_closure and closures is None:
            raise ValueError(f"step {t} needs {need.name.lower()} of the loss at probe weights: pass closure=")

    def step(self, loss=None, closure: Closure = None, probe_closure: Callable | None = None) -> list[float]:
        """One training step's gradient and learning rates for a loop without its own backward
        pass (see the class docstring); returns the rates set on the optimizer.

        ``loss``: the step's loss with its graph (else ``closure()`` computes it);
        ``probe_closure`` (GeN, Hi-DLR only): a forward-only loss on an independent batch, used for
        every loss probe (the zero row included) instead of ``closure``. GeN's reference probes
        the next batch: the fit then estimates the expected loss along the step rather than the
        step's own batch loss, whose slope gᵀg is biased upwards by the gradient noise."""
        torch = _torch()
        groups, params_by_group = self._trainable(self._check_supported(torch, "LRTuner.step", own_gradient=True))
        if self.scaler is not None and self.scaler.is_enabled():
            raise ValueError("LRTuner.step computes the gradient itself, without the GradScaler: with scaler= let "
                             "scaler.scale(loss).backward() run, scaler.unscale_(optimizer), then "
                             "driver.after_backward(closure, loss=loss)")
        self._check_gradients_untouched(params_by_group)
        t = self._step
        plan = self._step_plan(t)
        need = plan.need
        self._check_probe_closure(probe_closure)
        closures = _closures(closure)
        self._check_closure_for_losses(t, need, closures, probe_closure)
        finite_difference = need == Need.CURVATURE and self.curvature == "finite_difference"
        if finite_difference and closures is None:
            raise ValueError(f"step {t} needs curvature and curvature='finite_difference' differentiates the "
                             "closure's loss at perturbed weights: pass closure=")
        if loss is None:
            if closures is None:
                raise TypeError("step needs the loss (with its graph) or a closure computing it")
            with torch.enable_grad():
                loss = sum(c() for c in closures) if len(closures) > 1 else closures[0]()
        params = [p for ps in params_by_group for p in ps]
        graph = need == Need.CURVATURE and not finite_difference
        grads = torch.autograd.grad(_scalar_loss(loss, "the step's loss"), params, create_graph=graph, allow_unused=True)
        for p, g in zip(params, grads):
            p.grad = g.detach() if graph and g is not None else g  # without a graph g is already detached
        self._record_written(params)
        if need == Need.NOTHING and t + 1 < plan.steady_until:  # nothing to observe, nothing to keep
            return self._finish(t, plan)
        grads_by_group, start = [], 0
        for ps in params_by_group:
            grads_by_group.append(list(grads[start : start + len(ps)]))
            start += len(ps)
        dirs = None
        if need != Need.NOTHING:
            current = None if probe_closure is not None else self._current_loss(torch, t, loss, local=True)
            detached, dirs, probe = self._observation_directions(t, groups, grads_by_group)
            self._check_before_observing(torch, t, params_by_group, detached, dirs, current)
            self._observe(torch, t, current, closures if probe_closure is None else probe_closure,
                          params_by_group, grads_by_group if graph else detached, probe,
                          graph=graph, curvature_closures=closures if finite_difference else None, keep_graph=False)
        if need != Need.NOTHING:
            plan = self._step_plan(t)
        self._remember_update(t, plan, groups, grads_by_group, dirs)
        del grads, grads_by_group  # frees the double-backward graph
        return self._finish(t, plan)

    def after_backward(self, closure: Closure = None, *, loss=None, probe_closure: Callable | None = None) -> list[float]:
        """One optimizer step's learning rates from the gradient your backward pass left in
        ``p.grad`` (after DDP's all-reduce, accumulation, clipping, unscaling); call it once per
        optimizer step, right before ``optimizer.step()``. Returns the rates set on the
        optimizer (see the class docstring).

        ``closure``: the step's loss on the same batch (a callable, or a list of micro-batch
        callables whose losses add up), for loss probes and finite-difference curvature;
        ``loss``: the step's loss at w on this process (a tensor or a number), if known;
        ``probe_closure`` (GeN, Hi-DLR only): as in :meth:`step`."""
        if self._stepped_watch is not None:
            self._check_stepped()
        t = self._step
        kept = self._kept_plan(t)
        if kept is not None and t + 1 < kept.steady_until:
            rates = self._steady_step(t, kept, closure, probe_closure)
            if rates is not None:
                return rates
        torch = _torch()
        plan = kept or self._read_plan(t)
        need = plan.need
        layout = self._check_supported(torch, "LRTuner.after_backward", own_gradient=False,
                                       observing=need != Need.NOTHING)
        groups, params_by_group, grads_by_group, present, carries_graph = self._read_gradients(layout)
        self._check_probe_closure(probe_closure)
        closures = _closures(closure)
        if not present:
            raise ValueError("LRTuner.after_backward reads the gradient in p.grad, but no parameter has one: call "
                             "loss.backward() first (or driver.step(closure=...), which computes it)")
        if carries_graph and self._process_group is not None:
            raise ValueError("p.grad carries a double-backward graph, but with a process group the curvature comes "
                             "from finite differences (p.grad holds the averaged gradient, not the graph of this "
                             "process's): call loss.backward() without create_graph")
        if self.scaler is not None and self._scaler_skips(t):  # the optimizer does not step: nor does the driver
            return self._skip_step(params_by_group, carries_graph)
        self._check_closure_for_losses(t, need, closures, probe_closure)
        source = self._curvature_source(t, carries_graph, closures) if need == Need.CURVATURE else None
        dirs = None
        if need != Need.NOTHING:
            detached, dirs, probe = self._observation_directions(t, groups, grads_by_group)
            current = None
            if probe_closure is None and loss is not None:
                current = self._current_loss(torch, t, loss, local=self._process_group is None)
            self._check_before_observing(torch, t, params_by_group, detached, dirs, current)
            graph = source == "graph"
            self._observe(torch, t, current, closures if probe_closure is None else probe_closure,
                          params_by_group, grads_by_group if graph else detached, probe,
                          graph=graph, curvature_closures=closures if source == "finite_difference" else None,
                          keep_graph=True)
        if need != Need.NOTHING:
            plan = self._step_plan(t)
        self._remember_update(t, plan, groups, grads_by_group, dirs)
        return self._finish_after_backward(t, plan, params_by_group, carries_graph)

    def _skip_step(self, params_by_group, carries_graph) -> list[float]:
        """after_backward on a step the GradScaler skips: counted, p.grad's graph detached, the
        rates and the step counter unchanged."""
        self.skipped_steps += 1
        self._stepped_watch = None  # the optimizer does not step either
        if carries_graph:
            self._detach_graphs(params_by_group)
        return list(self._last_lr)

    def _finish_after_backward(self, t, plan, params_by_group, carries_graph) -> list[float]:
        """after_backward's last part on either path: p.grad's graph detached, step's gradient
        replacement check started afresh, step t's rates set."""
        if carries_graph:
            self._detach_graphs(params_by_group)
        if self._written_grads:
            self._written_grads = {}  # step's replacement check starts afresh
        return self._finish(t, plan)

    def _steady_step(self, t, plan, closure, probe_closure) -> list[float] | None:
        """after_backward's fast path for a step t that the kept plan covers together with t + 1:
        nothing to observe and nothing to keep for the next step, so only what can go wrong
        without an observation is checked — the param groups are the checked ones, a gradient is
        there (the scan also finds a double-backward graph to detach), the GradScaler's skip —
        before the plan's rates are set. None where the full path must decide (changed groups, no
        gradient, a graph with a process group: it raises with the message)."""
        layout = self._layout
        if layout is None or not layout.matches(self.optimizer.param_groups):
            return None
        if probe_closure is not None:
            self._check_probe_closure(probe_closure)
        if closure is not None and not callable(closure):
            _closures(closure)  # a closure of the wrong type is refused on every step
        present = carries_graph = False
        for p in layout.flat:
            if p.requires_grad:
                g = p.grad
                if g is not None:
                    present = True
                    if g.requires_grad:
                        carries_graph = True
        if not present or (carries_graph and self._process_group is not None):
            return None
        if self.scaler is not None and self._scaler_skips(t):
            return self._skip_step([params for _, params, _ in layout.entries], carries_graph)
        if carries_graph or self._written_grads:
            return self._finish_after_backward(t, plan, [params for _, params, _ in layout.entries], carries_graph)
        return self._finish(t, plan)

    @staticmethod
    def _detach_graphs(params_by_group) -> None:
        """p.grad without its double-backward graph (it would hold the graph, and a reference
        cycle through the parameters, until the next zero_grad)."""
        for ps in params_by_group:
            for p in ps:
                if p.grad is not None and p.grad.requires_grad:
                    p.grad = p.grad.detach()

    def _curvature_source(self, t, carries_graph, closures) -> str:
        """"graph" or "finite_difference" for a curvature step of after_backward, or ValueError."""
        build = "build the graph, loss.backward(create_graph=driver.wants_curvature())"
        if self.curvature == "graph":
            if not carries_graph:
                raise ValueError(f"step {t} needs curvature and curvature='graph' takes it from the double-backward "
                                 f"graph, but p.grad carries none: {build}")
            return "graph"
        if self.curvature == "finite_difference" or not carries_graph:
            if closures is None:
                how = "" if self.curvature == "finite_difference" else f" or {build}"
                raise ValueError(f"step {t} needs curvature: pass closure= (the step's loss on the same batch) for a "
                                 f"finite-difference Hessian-vector product{how}")
            return "finite_difference"
        return "graph"

    def _current_loss(self, torch, t, loss, *, local: bool) -> float:
        """L(w) on this process as a float; NonFiniteError for NaN/±Inf in one process (``local``;
        under a process group the processes decide together, see _check_processes_agree)."""
        if isinstance(loss, torch.Tensor):
            current = float(_scalar_loss(loss.detach(), "loss=").to(torch.float64).cpu())
        else:
            current = float(loss)
        if local and not math.isfinite(current):
            raise NonFiniteError(
                f"LRTuner: the loss at the current weights is {current} at step {t}; no learning rate "
                "can be measured there (diverged weights or a bad batch?)")
        return current

    @staticmethod
    def _squared_norms(torch, device, grads_by_group, dirs_by_group):
        """‖g‖² and ‖d‖² over every parameter, accumulated in float64 on the device (non-finite
        when any element is); each tensor converted once."""
        dtype = accumulation_dtype(torch, device)

        def total(tensors_by_group):
            result = torch.zeros((), dtype=dtype, device=device)
            for tensors in tensors_by_group:
                for v in tensors:
                    if v is not None:
                        flat = v.reshape(-1).to(dtype)
                        result = result + torch.dot(flat, flat)
            return result

        return total(grads_by_group), total(dirs_by_group)

    def _check_before_observing(self, torch, t, params_by_group, grads_by_group, dirs_by_group, current) -> None:
        """Before a step that observes: the direction is finite (an overflowed gradient, e.g. a
        GradScaler step it will skip, would otherwise make loss probes fail and decay the rates
        of GeN and Hi-DLR); under a process group also _check_processes_agree. ``dirs_by_group``
        None (see :meth:`_observation_directions`): the step's update was not computed, and the
        gradient it would come from is checked instead."""
        if any(g is not None and g.is_sparse for gs in grads_by_group for g in gs):
            raise UnsupportedOptimizerError(
                f"LRTuner: a sparse gradient at step {t} (e.g. nn.Embedding(sparse=True)): the tuner's probes and "
                "dot products need dense gradients; use sparse=False; nothing was measured or changed")
        device = next(p.device for ps in params_by_group for p in ps)
        if self._process_group is not None:  # ‖g‖² and ‖d‖² to compare the processes' gradients
            g2, d2 = self._squared_norms(torch, device, grads_by_group, dirs_by_group)
            self._check_processes_agree(torch, t, device, g2, d2, current)
        elif not self._all_finite(torch, grads_by_group if dirs_by_group is None else dirs_by_group):
            raise NonFiniteError(self._non_finite_direction(t))

    @staticmethod
    def _all_finite(torch, tensors_by_group) -> bool:
        """Whether every element is finite. A sum is finite only if every term is (an infinite
        or NaN term makes it ±∞ or NaN), so one ``sum()`` per tensor and one transfer to the host
        decide the usual case, about 10× faster than ``isfinite().all()`` per tensor (a byte per
        element and a second pass); a sum that is not finite may be an overflow of finite terms,
        and is settled element by element."""
        tensors = [v for tensors in tensors_by_group for v in tensors if v is not None]
        if not tensors or math.isfinite(float(torch.stack([v.sum() for v in tensors]).sum())):
            return True
        return bool(torch.stack([torch.isfinite(v).all() for v in tensors]).all())

    @staticmethod
    def _non_finite_direction(t) -> str:
        return (f"LRTuner: the direction at step {t} (p.grad, or the optimizer's update computed from it) is not finite: "
                "an overflowed gradient (a GradScaler step it will skip: skip the driver too) or diverged weights; "
                "nothing was measured or changed")

    def _check_processes_agree(self, torch, t, device, g2, d2, current) -> None:
        """One all_reduce (MAX of x and −x) of x = [t, Σ_k lr_k, non-finite loss, non-finite
        direction, ‖g‖², ‖d‖²]: every process at the same step with the same rates, gradient and
        direction, and a finite loss and direction everywhere; raised on every process alike, so
        none is left waiting in a collective."""
        dtype = g2.dtype
        bad_loss = 0.0 if current is None or math.isfinite(current) else 1.0
        head = torch.tensor([float(t), float(sum(self.tuner.lrs(t))), bad_loss], dtype=dtype, device=device)
        bad_direction = (~torch.isfinite(d2)).to(dtype)
        finite = torch.isfinite(g2) & torch.isfinite(d2)
        norms = torch.where(finite, torch.stack([g2, d2]), torch.zeros((), dtype=dtype, device=device))
        x = torch.cat([head, bad_direction.reshape(1), norms])
        both = torch.cat([x, -x])
        torch.distributed.all_reduce(both, op=torch.distributed.ReduceOp.MAX, group=self._process_group)
        values = both.cpu().tolist()
        high, low = values[:6], [-v for v in values[6:]]
        if high[2] > 0:
            raise NonFiniteError(f"LRTuner: the loss at the current weights is not finite on at least one process at "
                                 f"step {t} (this one: {current}); no learning rate can be measured there")
        if high[3] > 0:
            raise NonFiniteError(self._non_finite_direction(t) + " (on at least one process)")
        if high[0] != low[0] or high[1] != low[1]:
            raise UnsupportedTrainingError(
                f"LRTuner.after_backward: the processes' drivers disagree (steps {low[0]:.0f} to {high[0]:.0f}, rates "
                f"summing to {low[1]!r} to {high[1]!r}): every process must build its driver alike and call it once "
                "per optimizer step (load the same state_dict everywhere)")
        for name, hi, lo in (("gradient", high[4], low[4]), ("direction", high[5], low[5])):
            if abs(hi - lo) > _SAME_ACROSS_PROCESSES * max(abs(hi), abs(lo)):
                raise UnsupportedTrainingError(
                    f"LRTuner.after_backward: the {name} differs between the processes at step {t} (squared norms "
                    f"{lo!r} to {hi!r}): p.grad was not averaged over them (DDP's no_sync() around the last "
                    "micro-batch too? a model not wrapped in DistributedDataParallel? optimizer states that differ?), "
                    "so each process would step differently")

    def _observe(self, torch, t, current, closures, params_by_group, grads_by_group, probe, *, graph: bool,
                 curvature_closures, keep_graph: bool) -> None:
        """Runs the rest of step t through the library's step driver (``hlr_tuner_step``): the
        loop, the observations and the failure policy are the library's; this binding only
        supplies the tensor operations (:class:`~hessianlr.torch_observations.TorchStepBackend`).
        ``current`` is L(w) on this process (None: not known, or probes on another batch);
        ``probe``: :meth:`_observation_directions`'s, committed here (:meth:`_commit_probe`) and
        put back as it was when the step raises (the library's step changes nothing then)."""
        kept = self._previous_update
        flag = self.tuner.get_param(Param.PROBE_PREVIOUS) if self._probes_previous() else None
        dirs = self._commit_probe(probe)
        device = next(p.device for ps in params_by_group for p in ps)
        try:
            backend = TorchStepBackend(
                torch, params_by_group, grads_by_group, dirs, closure=closures, graph=graph, device=device,
                process_group=self._process_group, curvature_closure=curvature_closures,
                no_sync=None if self._ddp is None else self._ddp.no_sync, keep_graph=keep_graph,
                graph_scale=self._graph_scale(graph), scratch=self._scratch)
            result = self.tuner.run_step(t, backend, None if current is None or math.isnan(current) else current)
        except BaseException as error:
            self._previous_update = kept
            if flag is not None and self.tuner.get_param(Param.PROBE_PREVIOUS) != flag:
                self.tuner.set_param(Param.PROBE_PREVIOUS, flag)
            cause = error.__cause__ if isinstance(error, CallbackError) else None
            if cause is not None:  # the closure's or torch's own exception, as it was raised (its own cause kept)
                raise cause from cause.__cause__
            raise
        self.hvp_count += backend.hvp_count
        self.probe_count += backend.loss_count
        self.gradient_count += backend.gradient_count
        self.observation_count += result.rounds
        self.failed_observation_count += result.failures

    def _observation_directions(self, t, groups, grads_by_group):
        """(the detached gradients, the optimizer's update u_t or None, the probe direction) for
        an observing step t; changes nothing (:meth:`_commit_probe` does, once the checks pass).
        The probes run along the optimizer's update, or, for a method that probes along the
        previous update (auto), along that update when it was kept at step t − 1 over the same
        parameters (an unbiased slope: it does not contain this batch's noise; see AutoRule in
        the library). Then u_t is not computed here (None): without a process group nothing
        reads it on this step, and :meth:`_remember_update` computes it, from the same gradient
        and optimizer state, only when step t + 1 observes (an Adam update is eight passes over
        the parameters). The probe direction is (whether it is the previous update, the
        directions)."""
        detached = [[None if g is None else g.detach() for g in grads] for grads in grads_by_group]
        kept = self._previous_update
        previous = (self._probes_previous() and kept is not None and kept[0] == t - 1
                    and _same_parameters(kept[1], detached))  # u has g's layout: None where g is None
        kept_dirs = None
        if previous:
            kept_dirs = kept[1] if kept[2] is None else self._taken_update(groups, kept[1], kept[2])
            previous = kept_dirs is not None
        if previous and self._process_group is None:
            return detached, None, (True, kept_dirs)
        _, dirs = self._directions(groups, grads_by_group)
        return detached, dirs, (previous, kept_dirs if previous else dirs)

    @staticmethod
    def _taken_update(groups, weights_by_group, rates):
        """The update the optimizer took at the previous step, from the weights w_{t−1} kept then
        and the weights now: (w_{t−1} − w_t)/η_{t−1} per parameter (new tensors; the kept ones
        stay as they are until the probe is committed). None when a rate is not positive and
        finite (no update to divide out)."""
        if not all(math.isfinite(rate) and rate > 0 for rate in rates):
            return None
        params_by_group = [[p for p in group["params"] if p.requires_grad] for group in groups]
        return [[None if w is None else (w - p.detach()).div_(rate) for p, w in zip(params, weights)]
                for params, weights, rate in zip(params_by_group, weights_by_group, rates)]

    def _commit_probe(self, probe):
        """The probe direction of :meth:`_observation_directions`, committed: the kept update is
        used up, and a method that probes along the previous update is told what row −1 is."""
        previous, dirs = probe
        self._previous_update = None
        if self._probes_previous() and self.tuner.get_param(Param.PROBE_PREVIOUS) != float(previous):
            self.tuner.set_param(Param.PROBE_PREVIOUS, float(previous))
        return dirs

    def _remember_update(self, t, plan, groups, grads_by_group, dirs) -> None:
        """For a method that probes along the previous update (auto): keeps a copy of this step's
        update when the next step observes (one copy of the parameters, on those steps only). For
        an optimizer whose update is measured (no closed form), a copy of the weights w_t and the
        rates instead: step t + 1 reads the update actually taken from them
        (:meth:`_taken_update`), which saves the dry run of the step here. ``plan``: step t's, as
        _finish applies it."""
        if not self._probes_previous():
            return
        if t + 1 < plan.steady_until or self.tuner.info(Info.NEXT_UPDATE_STEP) != t + 1:
            return  # step t + 1 observes nothing (the library's promise, or its next update step)
        if dirs is None and self.direction == Direction.UPDATE and is_measured(self.optimizer):
            # No dry run of the step now: keep w_t and the rates, and read the update the
            # optimizer takes at step t + 1 from the weights it moved (_taken_update)
            params_by_group = [[p for p in group["params"] if p.requires_grad] for group in groups]
            self._previous_update = (t, [[None if g is None else p.detach().clone() for p, g in zip(params, grads)]
                                         for params, grads in zip(params_by_group, grads_by_group)], list(plan.lrs))
            return
        if dirs is None:
            _, dirs = self._directions(groups, [[None if g is None else g.detach() for g in grads]
                                                for grads in grads_by_group])
        # The built-in rules build u as a tensor of its own except for plain SGD, whose u is the
        # gradient (the next backward overwrites it): only a u that shares a gradient's memory, or
        # comes from a registered rule, is copied
        fresh = builds_fresh_tensors(self.optimizer)
        gradient_memory = {g.untyped_storage().data_ptr() for grads in grads_by_group for g in grads if g is not None}
        self._previous_update = (t, [[None if d is None else
                                      d.detach() if fresh and d.untyped_storage().data_ptr() not in gradient_memory
                                      else d.detach().clone() for d in ds] for ds in dirs], None)

    def _read_plan(self, t):
        """``tuner.plan(t)``, kept for the later steps it covers (see :meth:`_kept_plan`)."""
        tuner = self.tuner
        plan = tuner.plan(t)
        self._plan = (weakref.ref(tuner), tuner.revision, t, plan, plan.need == Need.NOTHING)
        return plan

    def _finish(self, t, plan) -> list[float]:
        """Sets step t's rates, those of its ``plan``, and moves to step t + 1."""
        lrs = plan.lrs
        self._apply(lrs)
        self._last_lr = lrs
        self._step = t + 1
        self._stepped_watch = self._watch()
        return list(lrs)

    def _watch(self):
        """The optimizer's step count (its step post-hook, :func:`_count_optimizer_step`) when
        a step is done here, or None without the hook (a copied driver); see
        :meth:`_check_stepped`. (The parameters' autograd versions would not do: fused
        optimizers update them without bumping the version.)"""
        return None if self._step_hook is None else self._optimizer_steps

    def _check_stepped(self) -> None:
        """Warns (once per driver) when after_backward comes again while the optimizer has not
        stepped since the previous call: the driver would count a step that did not happen and
        move its rates for it."""
        watched = self._stepped_watch
        self._stepped_watch = None
        if self._optimizer_steps == watched and not self._warned_unstepped:
            self._warned_unstepped = True
            warnings.warn(
                f"LRTuner.after_backward at step {self._step}: the parameters have not changed since the previous call "
                "(no optimizer.step() in between?); the driver counts optimizer steps and moves its rates at each: call "
                "after_backward once per step, right before optimizer.step() (a GradScaler's skipped steps: pass "
                "scaler=)", UserWarning, stacklevel=3)

    # -- checkpoints ---------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """The library snapshot (bytes: options, state, schedule) plus the step counter and the
        counters; pair it with the optimizer's state_dict."""
        return {
            "tuner": self.tuner.save(),
            "step": self._step,
            "hvp_count": self.hvp_count,
            "probe_count": self.probe_count,
            "gradient_count": self.gradient_count,
            "observation_count": self.observation_count,
            "failed_observation_count": self.failed_observation_count,
            "skipped_steps": self.skipped_steps,
            "last_lr": list(self._last_lr),
            # auto: what is kept for the next observation, or None: (step, the update per group,
            # None), or for an optimizer whose update is measured (step, the weights per group, the
            # rates of that step)
            "previous_update": self._previous_update,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restores ``state_dict()`` output: the tuner continues bit-identically."""
        self.tuner.restore(state["tuner"])
        self._step = int(state["step"])
        kept = state.get("previous_update")
        self._previous_update = None if kept is None else (
            int(kept[0]), [[None if d is None else d.detach().clone() for d in ds] for ds in kept[1]],
            None if len(kept) < 3 or kept[2] is None else [float(rate) for rate in kept[2]])
        self.hvp_count = int(state.get("hvp_count", 0))
        self.probe_count = int(state.get("probe_count", 0))
        self.gradient_count = int(state.get("gradient_count", 0))
        self.observation_count = int(state.get("observation_count", 0))
        self.failed_observation_count = int(state.get("failed_observation_count", 0))
        self.skipped_steps = int(state.get("skipped_steps", 0))
        self._last_lr = list(state.get("last_lr", self.tuner.lrs(self._step)))
        # The optimizer's groups get the rates of the step in progress, as after the step that was
        # saved (a driver built on a restored optimizer set its initial rates; an optimizer whose
        # update is measured by a dry run must be measured at the rate it steps with).
        self._apply(self._last_lr)

    def close(self) -> None:
        """Frees the library handle now (otherwise when the driver is collected)."""
        self.tuner.close()
