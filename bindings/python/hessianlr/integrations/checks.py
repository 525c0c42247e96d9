"""Questions to ask before training with :class:`~hessianlr.torch.LRTuner`, answered as data.

- :func:`estimate_memory_overhead`: the extra memory the driver holds on a step that observes,
  part by part (:class:`MemoryEstimate`), from the sizes of the trainable parameters.
- :func:`validate_setup`: what the driver would refuse and what would make its measurements
  wrong or noisy, as :class:`Problem` entries of a :class:`SetupReport` (errors, warnings, notes),
  each with a message naming the problem and the fix.

Both build the driver the training would build (``LRTuner(optimizer, method, **options)``) to ask
the library what it will need, then put the optimizer's param groups back as they were.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterator

import torch

from ..constants import Direction, Method, Need
from ..errors import HessianLRError
from ..torch_directions import is_measured, is_plain_sgd
from ..torch_measured_update import own_step_size
from ..torch_driver import LRTuner

__all__ = ["MemoryEstimate", "Problem", "SetupError", "SetupReport", "estimate_memory_overhead", "validate_setup"]

#: Steps of the tuner's schedule scanned for what it will need (``Tuner.need(t)``, t < horizon).
DEFAULT_HORIZON = 64


def _bytes(params) -> int:
    return sum(p.numel() * p.element_size() for p in params)


@contextlib.contextmanager
def _dry_run(optimizer, method, options) -> Iterator[LRTuner]:
    """The driver training would build on ``optimizer``; afterwards the param groups' ``lr`` and
    ``initial_lr`` are as they were (the driver sets both) and the library handle is freed."""
    saved = [{key: group[key] for key in ("lr", "initial_lr") if key in group} for group in optimizer.param_groups]
    driver = None
    try:
        with warnings.catch_warnings():  # what the driver warns of, the checks report
            warnings.filterwarnings("ignore", message=".* estimates its own step size", category=UserWarning)
            driver = LRTuner(optimizer, method, **options)
        yield driver
    finally:
        if driver is not None:
            driver.close()
        for group, values in zip(optimizer.param_groups, saved):
            group.pop("initial_lr", None)
            group.update(values)


def _needs(driver, horizon: int) -> frozenset:
    return frozenset(driver.tuner.need(t)[0] for t in range(horizon))


def _trainable_groups(optimizer) -> list[list]:
    """The trainable parameters per group, each tensor once (torch lets a group list one twice,
    with a warning; its memory is counted once)."""
    seen: set = set()
    groups = []
    for group in optimizer.param_groups:
        groups.append([p for p in group["params"] if p.requires_grad and not (id(p) in seen or seen.add(id(p)))])
    return groups


def _repeated_parameters(optimizer) -> int:
    """How many entries of the optimizer's groups repeat a parameter listed before."""
    ids = [id(p) for group in optimizer.param_groups for p in group["params"]]
    return len(ids) - len(set(ids))


@dataclass(frozen=True)
class MemoryEstimate:
    """Memory of the driver on a step that observes, in bytes, on the parameters' devices.

    ``parameter_bytes`` and ``gradient_bytes``: the trainable parameters and their ``p.grad``
    (what any training holds; the reference, not overhead). Overhead, held together at the peak:

    - ``saved_weights_bytes``: one copy of the parameters, saved before loss probes or a
      finite-difference curvature perturb them in place and restored from it bit for bit (steps
      that need losses, or a slope, which starts Armijo's search of trial losses);
    - ``direction_bytes``: the optimizer's would-be update u, one tensor per parameter, unless
      every group steps along the gradient itself (plain SGD, ``direction="gradient"``);
    - ``finite_difference_bytes``: the gradient of the largest param group, transient, in each of
      the two extra backward passes of a finite-difference curvature (plus that pass's
      activations, as in a training step: not counted);
    - ``previous_update_bytes``: auto's copy of the previous update, kept for the next step;
    - ``measured_update_bytes``: for an optimizer whose update is measured by a dry run of its
      step (no closed-form rule: :mod:`hessianlr.torch_measured_update`), the transient copies
      of the parameters and of the optimizer's state tensors (the state as it is now: none before
      the first step, when a note says so).

    ``graph_curvature``: curvature from the double-backward graph, whose size depends on the
    model's activations (roughly another backward pass's worth), so it is not included.
    ``needs``: what the tuner asked for over its first ``horizon`` steps (names of ``Need``).
    """

    parameter_bytes: int
    gradient_bytes: int
    saved_weights_bytes: int
    direction_bytes: int
    finite_difference_bytes: int
    previous_update_bytes: int
    graph_curvature: bool
    needs: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    measured_update_bytes: int = 0

    @property
    def overhead_bytes(self) -> int:
        """The overhead parts together (the peak of a step that observes, graph excluded)."""
        return (self.saved_weights_bytes + self.direction_bytes + self.finite_difference_bytes
                + self.previous_update_bytes + self.measured_update_bytes)

    @property
    def overhead_fraction(self) -> float:
        """``overhead_bytes`` over ``parameter_bytes``."""
        return self.overhead_bytes / self.parameter_bytes if self.parameter_bytes else 0.0

    def __str__(self) -> str:
        rows = [("parameters", self.parameter_bytes), ("gradients", self.gradient_bytes),
                ("saved weights", self.saved_weights_bytes), ("update direction", self.direction_bytes),
                ("finite-difference gradient", self.finite_difference_bytes),
                ("previous update (auto)", self.previous_update_bytes),
                ("measured update (dry run)", self.measured_update_bytes), ("overhead", self.overhead_bytes)]
        lines = [f"{name:<28} {value:>14,} bytes" for name, value in rows]
        lines.append(f"{'overhead / parameters':<28} {self.overhead_fraction:>14.2f}x")
        if self.graph_curvature:
            lines.append("+ the double-backward graph on curvature steps (not estimated: depends on activations)")
        return "\n".join(lines + list(self.notes))


def estimate_memory_overhead(model=None, optimizer=None, method: Any = "hessianlr", *,
                             curvature: str = "finite_difference", horizon: int = DEFAULT_HORIZON,
                             **options: Any) -> MemoryEstimate:
    """The driver's extra memory for ``optimizer`` (or plain SGD over ``model``'s trainable
    parameters when no optimizer is given) with ``method`` and ``options`` (LRTuner's), curvature
    from ``curvature``; see :class:`MemoryEstimate`."""
    notes = []
    if optimizer is None:
        if model is None:
            raise ValueError("estimate_memory_overhead needs a model or an optimizer")
        trainable = [p for p in model.parameters() if p.requires_grad]
        if not trainable:
            raise ValueError("estimate_memory_overhead: the model has no parameters that require grad")
        optimizer = torch.optim.SGD(trainable, lr=1e-3)
        notes.append("no optimizer given: plain SGD assumed (it steps along the gradient: no update direction)")
    groups = _trainable_groups(optimizer)
    params = [p for ps in groups for p in ps]
    with _dry_run(optimizer, method, dict(options, curvature=curvature)) as driver:
        needs = _needs(driver, horizon)
        along_gradient = driver.direction == Direction.GRADIENT or all(
            is_plain_sgd(optimizer, group) for group in optimizer.param_groups)
        auto = driver.tuner.method == Method.AUTO
    size = _bytes(params)
    observes = needs - {Need.NOTHING}
    measured = bool(observes) and not along_gradient and is_measured(optimizer)
    measured_bytes = 0
    if measured:
        every = [p for group in optimizer.param_groups for p in group["params"]]
        state = [v for p in every for v in optimizer.state.get(p, {}).values() if isinstance(v, torch.Tensor)]
        measured_bytes = _bytes(every) + _bytes(state)
        if not state:
            notes.append(f"{type(optimizer).__name__}'s update is measured by a dry run of its step: add a copy of its "
                         "state tensors once it has them (after the first step; e.g. 2x the parameters for Adam-likes)")
    finite_difference = Need.CURVATURE in needs and curvature != "graph"
    perturbs = bool(needs & {Need.LOSSES, Need.SLOPE}) or finite_difference
    if curvature == "auto" and Need.CURVATURE in needs:
        notes.append("curvature='auto': counted as finite differences; with loss.backward(create_graph=True) the "
                     "graph is used instead (then add the double-backward graph, and no finite-difference gradient)")
    return MemoryEstimate(
        parameter_bytes=size,
        gradient_bytes=size,
        saved_weights_bytes=size if perturbs else 0,
        direction_bytes=size if observes and not along_gradient else 0,
        finite_difference_bytes=max((_bytes(ps) for ps in groups), default=0) if finite_difference else 0,
        previous_update_bytes=size if auto else 0,
        measured_update_bytes=measured_bytes,
        graph_curvature=Need.CURVATURE in needs and curvature == "graph",
        needs=tuple(sorted(n.name.lower() for n in needs)),
        notes=tuple(notes))


@dataclass(frozen=True)
class Problem:
    """One finding: ``level`` is "error" (the driver refuses it, or it would train wrongly),
    "warning" (it trains, but the measurements are off or noisy) or "note"; ``code`` a stable
    name; ``message`` what is wrong and what to do."""

    level: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: [{self.code}] {self.message}"


class SetupError(ValueError):
    """:meth:`SetupReport.raise_for_errors`: the setup has errors (all listed in the message)."""


@dataclass(frozen=True)
class SetupReport:
    """What :func:`validate_setup` found; ``ok`` when there is no error."""

    problems: tuple[Problem, ...]
    needs: tuple[str, ...]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def codes(self) -> set[str]:
        return {p.code for p in self.problems}

    def raise_for_errors(self) -> None:
        if self.errors:
            raise SetupError("; ".join(str(p) for p in self.errors))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems) or "no problems found"


def _fused_attention(model) -> str | None:
    """What in ``model`` runs torch's fused attention (no second derivative), or None."""
    config = getattr(model, "config", None)
    implementation = getattr(config, "_attn_implementation", None)
    if implementation and implementation != "eager":
        return f"its config's attention implementation {implementation!r}"
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.MultiheadAttention):
            return f"{name or 'the model'} (torch.nn.MultiheadAttention)"
    return None


def validate_setup(optimizer, model=None, *, method: Any = "hessianlr", curvature: str = "auto",
                   accumulation_steps: int = 1, horizon: int = DEFAULT_HORIZON, **options: Any) -> SetupReport:
    """Checks ``optimizer`` (and ``model``, whose forward the closures run) for training with
    ``LRTuner(optimizer, method, curvature=curvature, **options)``; returns a
    :class:`SetupReport` (``raise_for_errors()`` raises :class:`SetupError` listing the errors).

    Errors: whatever the driver refuses at construction (its own message: unsupported optimizer
    for the update direction, sharded parameters, torch.distributed without ``ddp=``, bad
    options); optimizer parameters that are not the model's (the closures' loss does not reach
    them); ``curvature="graph"`` through fused attention kernels. Warnings: trainable model
    parameters the optimizer does not hold; fused attention with ``curvature="auto"``; BatchNorm in
    train mode (the driver's forward passes at trial weights update its running statistics);
    dropout with loss probes (each probe draws other masks); an optimizer that estimates its own step
    size (Prodigy, D-Adaptation, Schedule-Free); a parameter listed twice in a param group.
    Notes: gradient accumulation."""
    problems: list[Problem] = []

    def add(level, code, message):
        problems.append(Problem(level, code, message))

    if not isinstance(optimizer, torch.optim.Optimizer):
        add("error", "optimizer", f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        return SetupReport(tuple(problems), ())
    if accumulation_steps < 1:
        add("error", "accumulation", f"accumulation_steps must be at least 1, got {accumulation_steps}")
    needs: frozenset = frozenset()
    try:
        with _dry_run(optimizer, method, dict(options, curvature=curvature)) as driver:
            needs = _needs(driver, horizon)
    except (TypeError, ValueError, RuntimeError, HessianLRError) as error:  # the driver's and the library's refusals
        add("error", "driver", f"LRTuner refuses this setup: {type(error).__name__}: {error}")
    repeated = _repeated_parameters(optimizer)
    if repeated:
        add("warning", "repeated-parameter",
            f"{repeated} entries of the optimizer's param groups repeat a parameter (e.g. a tied embedding and output "
            "weight listed twice): the optimizer steps it once per entry, and the tuner measures that double step; "
            "list each parameter once (model.parameters() does)")
    if own_step_size(optimizer) is not None:
        add("warning", "own-step-size",
            f"{own_step_size(optimizer)} estimates its own step size: the tuner's rate multiplies that estimate while "
            "both keep adapting; use it alone, or a plain optimizer (SGD, Adam, ...) with the tuner")
    held = {id(p) for ps in _trainable_groups(optimizer) for p in ps}
    probes = bool(needs & {Need.LOSSES, Need.SLOPE})
    curvature_steps = Need.CURVATURE in needs
    if model is not None:
        own = {id(p): name for name, p in model.named_parameters()}
        foreign = sum(1 for i in held if i not in own)
        if foreign:
            add("error", "not-in-model",
                f"{foreign} of the optimizer's trainable parameters are not parameters of the model: the closures' "
                "loss does not depend on them, so their curvature and probes would measure nothing")
        missing = [name for name, p in model.named_parameters() if p.requires_grad and id(p) not in held]
        if missing:
            add("warning", "not-in-optimizer",
                f"{len(missing)} trainable model parameters are not in the optimizer (e.g. {missing[0]!r}): they are "
                "not trained, and the tuner's measurements do not cover them; set requires_grad=False if intended")
        fused = _fused_attention(model) if curvature_steps else None
        if fused and curvature == "graph":
            add("error", "double-backward",
                f"curvature='graph' needs a second derivative, but {fused} runs torch's fused attention kernels, which "
                "have none (DoubleBackwardError at the first curvature step): use curvature='finite_difference' with "
                "a closure, or the math kernel (attn_implementation='eager')")
        elif fused and curvature == "auto":
            add("warning", "double-backward",
                f"{fused} runs torch's fused attention kernels, which have no second derivative: do not build the "
                "graph (loss.backward(create_graph=True)); with a closure, curvature='auto' then uses finite differences")
        if probes or (curvature_steps and curvature != "graph"):
            norms = [n for n, m in model.named_modules()
                     if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.training and m.track_running_stats]
            if norms:
                add("warning", "batchnorm",
                    f"{len(norms)} BatchNorm modules in train mode (e.g. {norms[0] or 'the model'!r}): the driver's "
                    "forward passes at trial weights update their running statistics too")
        if probes:
            drops = [n for n, m in model.named_modules()
                     if isinstance(m, torch.nn.modules.dropout._DropoutNd) and m.training and m.p > 0]
            if drops:
                add("warning", "dropout",
                    f"{len(drops)} active dropout modules (e.g. {drops[0] or 'the model'!r}) and a method that "
                    "compares losses at probe weights: each probe draws other masks, which adds noise to the fit; "
                    "run the closure in eval mode or pass probe_closure=")
    if accumulation_steps > 1:
        add("note", "accumulation",
            f"{accumulation_steps} micro-batches per optimizer step: call after_backward once per optimizer step, after "
            "the last backward, with one closure per micro-batch scaled as in its backward (the callbacks do this)")
    return SetupReport(tuple(problems), tuple(sorted(n.name.lower() for n in needs)))
