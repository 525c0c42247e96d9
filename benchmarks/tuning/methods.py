"""The compared methods: each builds a *stepper* that owns the optimizer and takes one training
step on a batch.

A stepper: ``step(x, y)`` → the batch loss at the weights before the step (float);
``lr()`` the optimizer's ``param_groups[0]['lr']`` the step just used; ``effective_lr()`` the
rate it stepped with where that differs (Prodigy, D-Adaptation: d·lr; DAdaptSGD d·lr/‖g₀‖;
schedule-free: its warmed-up ``scheduled_lr``; read after the step, so Prodigy's and
D-Adaptation's d is the one their step just updated); ``hvps`` / ``probes`` the library's counters;
``eval_mode()`` / ``train_mode()`` around evaluations (schedule-free swaps in its averaged
weights).

Kinds of methods (what the run's ``lr0`` is):

- ``grid``: ``constant`` at each grid rate;
- ``schedule``: ``cosine``, ``warmup_cosine``, ``hyperbolic`` from the best grid constant of the
  same task × optimizer × budget (chosen after the constant runs: lowest median final train loss
  over seeds);
- ``library``: libhessianlr's rules through ``hessianlr.torch.LRTuner`` at library defaults,
  started from each rate of the start set (``LRTuner`` takes the optimizer's lr as
  ``initial_lr``); ``auto`` is included when ``hessianlr.Method`` has ``AUTO``;
- ``peer_start``: gen-optim (PyPI ``gen-optim``) driving the cell's optimizer from each start;
- ``peer``: Prodigy, D-Adaptation, schedule-free at their own defaults (lr0 = None).
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from dataclasses import dataclass
from typing import Callable

import torch

import hessianlr
from optimizers import OptimizerSpec, make_peer

GEN_OPTIM_LAZY_FREQ = 4  # gen-optim's authors' default (--lazy_freq 4 in their examples)
HYPERBOLIC_UPPER_BOUND_RATIO = 1.25  # U / N as in benchmarks/training (the paper's 250 / 200)
HYPERBOLIC_INFIMUM = 1e-6  # relative: η_inf = 1e-6 · η₀ (see _hyperbolic)
WARMUP_FRACTION = 0.05


@dataclass
class Context:
    model: torch.nn.Module
    loss_fn: Callable
    opt: OptimizerSpec
    lr0: float | None
    steps: int
    seed: int
    probe_stream: object  # iterator of (x, y): gen-optim's tr_iter


class Stepper:
    hvps = 0
    probes = 0
    settings = ""

    def __init__(self, ctx: Context, optimizer: torch.optim.Optimizer | None = None):
        self.ctx = ctx
        self.optimizer = optimizer if optimizer is not None else ctx.opt.make(ctx.model.parameters(), ctx.lr0)

    def _loss(self, x, y):
        return self.ctx.loss_fn(self.ctx.model(x), y)

    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def effective_lr(self) -> float:
        return self.lr()

    def eval_mode(self) -> None:
        pass

    def train_mode(self) -> None:
        pass

    def close(self) -> None:
        pass


class Scheduled(Stepper):
    """The cell's optimizer at lr0, its rate following a torch scheduler (None: constant)."""

    def __init__(self, ctx: Context, scheduler: Callable | None):
        super().__init__(ctx)
        self.scheduler = scheduler(self.optimizer, ctx) if scheduler else None
        self._used = float(self.optimizer.param_groups[0]["lr"])

    def step(self, x, y) -> float:
        loss = self._loss(x, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._used = float(self.optimizer.param_groups[0]["lr"])
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        return float(loss.detach())

    def lr(self) -> float:
        return self._used  # the rate of the step just taken (the scheduler has moved on since)

    def effective_lr(self) -> float:
        return self._used


def _cosine(optimizer, ctx):
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=ctx.steps, eta_min=0.0)


def _warmup_cosine(optimizer, ctx):
    warm = max(1, round(WARMUP_FRACTION * ctx.steps))
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [
        torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0 / warm, end_factor=1.0, total_iters=warm),
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=ctx.steps - warm, eta_min=0.0),
    ], milestones=[warm])


def _hyperbolic(optimizer, ctx):
    from hessianlr.torch import ScheduleLR

    schedule = hessianlr.Schedule.hyperbolic(
        base_lr=ctx.lr0, max_iter=ctx.steps, upper_bound=HYPERBOLIC_UPPER_BOUND_RATIO * ctx.steps,
        infimum_lr=HYPERBOLIC_INFIMUM * ctx.lr0)
    return ScheduleLR(optimizer, schedule)


class Library(Stepper):
    """A libhessianlr rule: ``LRTuner(optimizer, method)`` with no options (library defaults);
    per step ``driver.step(closure=closure)`` (the driver computes the gradient; no
    ``loss.backward()``), then ``optimizer.step()``. ``closure`` is a forward-only loss on the
    step's own batch."""

    def __init__(self, ctx: Context, method: str):
        super().__init__(ctx)
        from hessianlr.torch import LRTuner

        self.driver = LRTuner(self.optimizer, method)
        self.settings = _options_text(self.driver)

    def step(self, x, y) -> float:
        first = []

        def closure():
            loss = self._loss(x, y)
            if not first:
                first.append(float(loss.detach()))
            return loss

        self.driver.step(closure=closure)
        self.optimizer.step()
        return first[0]

    @property
    def hvps(self) -> int:
        return int(self.driver.hvp_count)

    @property
    def probes(self) -> int:
        return int(self.driver.probe_count)

    def close(self) -> None:
        self.driver.close()


def _options_text(driver) -> str:
    try:
        options = driver.tuner.options()
        return ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in options.items())
    except Exception:  # noqa: BLE001  (informational only)
        return ""


class GenOptim(Stepper):
    """gen-optim 0.1.1 as its README and its authors' examples drive it: ``loss.backward()``;
    on steps with ``(t + 1) % 4 == 0`` ``lr_parabola(model, optimizer, criterion, 1,
    tr_iter=<independent batch stream>, device='cpu', task='image_cls', scale=1.0)``; then
    ``optimizer.step()``. lr_parabola steps the optimizer itself once before probing, so with
    momentum or Adam the optimizer state advances twice on its update steps (as in the authors'
    usage; see benchmarks/training's gen-optim audit)."""

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        from GeN import lr_parabola

        self._lr_parabola = lr_parabola
        self.t = 0
        self.failed_fits = 0
        self._used = float(self.optimizer.param_groups[0]["lr"])

    def step(self, x, y) -> float:
        loss = self._loss(x, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if (self.t + 1) % GEN_OPTIM_LAZY_FREQ == 0:
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._lr_parabola(self.ctx.model, self.optimizer, criterion=self.ctx.loss_fn,
                                  grad_accumulation_steps=1, tr_iter=self.ctx.probe_stream,
                                  device="cpu", task="image_cls", scale=1.0, lr_factor=[-1, 0, 1])
            if printed.getvalue().strip():
                self.failed_fits += 1  # it prints the exception it caught and halves the rate
        self._used = float(self.optimizer.param_groups[0]["lr"])
        self.optimizer.step()
        self.t += 1
        return float(loss.detach())

    def lr(self) -> float:
        return self._used

    def effective_lr(self) -> float:
        return self._used


class Peer(Stepper):
    """Prodigy, D-Adaptation or schedule-free replacing the cell's optimizer (see
    ``optimizers.make_peer`` for the exact settings)."""

    def __init__(self, ctx: Context, name: str):
        with contextlib.redirect_stdout(io.StringIO()):  # DAdaptAdam prints "Using decoupled weight decay"
            optimizer, self.settings = make_peer(name, ctx.opt, ctx.model.parameters())
        super().__init__(ctx, optimizer)
        self.name = name
        self.schedule_free = name == "schedulefree"
        self.train_mode()

    def step(self, x, y) -> float:
        loss = self._loss(x, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def effective_lr(self) -> float:
        g = self.optimizer.param_groups[0]
        if self.schedule_free:
            return float(g.get("scheduled_lr", g["lr"]) or g["lr"])
        d = float(g.get("d", 1.0)) * float(g["lr"])
        if "g0_norm" in g:  # DAdaptSGD steps with d·lr/‖g₀‖
            d /= max(float(g["g0_norm"]), 1e-300)
        return d

    def eval_mode(self) -> None:
        if self.schedule_free:
            self.optimizer.eval()

    def train_mode(self) -> None:
        if self.schedule_free:
            self.optimizer.train()


@dataclass(frozen=True)
class MethodSpec:
    name: str
    label: str
    kind: str  # "grid" | "schedule" | "library" | "peer_start" | "peer"
    settings: str
    build: Callable[[Context], Stepper]


def _library(method):
    return lambda ctx: Library(ctx, method)


def library_methods() -> list[str]:
    """The library's rules compared here; ``auto`` only if this build of hessianlr has it."""
    names = ["hessianlr", "cdat", "gen", "hidlr"]
    if hasattr(hessianlr.Method, "AUTO"):
        names.append("auto")
    return names


def _registry() -> dict[str, MethodSpec]:
    specs = [
        MethodSpec("constant", "constant", "grid", "the cell's optimizer at a fixed rate (grid)",
                   lambda ctx: Scheduled(ctx, None)),
        MethodSpec("cosine", "cosine", "schedule",
                   "torch CosineAnnealingLR(T_max = steps, eta_min = 0) from the best grid rate",
                   lambda ctx: Scheduled(ctx, _cosine)),
        MethodSpec("warmup_cosine", "warmup+cosine", "schedule",
                   "torch SequentialLR(LinearLR(1/W → 1 over W = 5% of the steps), CosineAnnealingLR(T_max = "
                   "steps − W, eta_min = 0)) from the best grid rate",
                   lambda ctx: Scheduled(ctx, _warmup_cosine)),
        MethodSpec("hyperbolic", "HyperbolicLR", "schedule",
                   "hessianlr.Schedule.hyperbolic(base_lr = best grid rate, max_iter = steps, upper_bound = "
                   "1.25·steps, infimum_lr = 1e-6·base_lr) via hessianlr.torch.ScheduleLR",
                   lambda ctx: Scheduled(ctx, _hyperbolic)),
    ]
    labels = {"hessianlr": "HessianLR", "cdat": "CDAT", "gen": "GeN (ours)", "hidlr": "Hi-DLR", "auto": "auto"}
    for name in library_methods():
        specs.append(MethodSpec(name, labels[name], "library",
                                f'LRTuner(optimizer, "{name}"), no options (library defaults)', _library(name)))
    specs += [
        MethodSpec("gen_optim", "GeN (gen-optim)", "peer_start",
                   "gen-optim 0.1.1: lr_parabola every 4th step ((t+1) % 4 == 0), lr_factor [-1, 0, 1], scale 1, "
                   "probes on the next batch of an independent stream; drives the cell's optimizer",
                   lambda ctx: GenOptim(ctx)),
        MethodSpec("prodigy", "Prodigy", "peer", "prodigyopt 1.1.2 Prodigy at its defaults (lr 1.0)",
                   lambda ctx: Peer(ctx, "prodigy")),
        MethodSpec("dadapt", "D-Adaptation", "peer",
                   "dadaptation 3.2: DAdaptSGD (SGD family) / DAdaptAdam (Adam family) at their defaults (lr 1.0)",
                   lambda ctx: Peer(ctx, "dadapt")),
        MethodSpec("schedulefree", "schedule-free", "peer",
                   "schedulefree 1.4.1: SGDScheduleFree (lr 1.0) / AdamWScheduleFree (lr 0.0025) at their defaults; "
                   "evaluated in .eval() mode",
                   lambda ctx: Peer(ctx, "schedulefree")),
    ]
    return {m.name: m for m in specs}


METHODS: dict[str, MethodSpec] = _registry()
LIBRARY = [n for n, m in METHODS.items() if m.kind == "library"]
SCHEDULES = [n for n, m in METHODS.items() if m.kind == "schedule"]
PEERS = [n for n, m in METHODS.items() if m.kind in ("peer", "peer_start")]
