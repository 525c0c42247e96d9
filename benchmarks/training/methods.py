"""The compared methods: a registry of specs, each building a *stepper* for one run.

A stepper owns the optimizer (plain ``torch.optim.SGD``, no momentum, no weight decay, for every
method: CDAT, HessianLR and GeN are all defined around (S)GD) and performs one training step on a
batch: ``step(x, y)`` → the batch loss at the current weights; ``rates`` are the per-group rates
that step used; ``hvps`` the Hessian-vector products so far. Forward passes are counted by the
training loop (a hook on the model), so every method's probes are counted the same way.

Families:

- ``grid``: constant rate (the grid of constants, chosen best after the fact);
- ``baseline``: cosine (torch ``CosineAnnealingLR``, to 0 at the last step), HyperbolicLR (the
  library's ``Schedule.hyperbolic`` through ``hessianlr.torch.ScheduleLR``), and GeN from the
  PyPI package ``gen-optim`` (its ``lr_parabola`` called as its authors' examples do);
- ``ours``: libhessianlr tuners driven by ``hessianlr.torch.LRTuner``;
- ``diagnostic``: variants that explain a result, not used for the targets (none at present);
- ``ablation``: the ceiling lr_max changed from the library default, one rule each way (below).

Every rule of ours runs with the library's defaults; nothing is tuned. In particular ``lr_max``
(the absolute ceiling) is the library default: none (+∞) for CDAT, GeN and Hi-DLR, whose sources
have none, and 1.0 for HessianLR (its source's default). The ablation shows what the ceiling does
where it binds (digits, whose best constant, 3, lies above 1): ``hessianlr_lrmax_inf`` lifts
HessianLR's ceiling, ``cdat2_lrmax1`` puts CDAT σ=2 under the former default 1.0.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

import torch

import hessianlr
from hessianlr.torch import LRTuner, ScheduleLR

from models import param_groups

GEN_OPTIM_LAZY_FREQ = 4  # the authors' default (--lazy_freq 4 in their examples)
HYPERBOLIC_UPPER_BOUND_RATIO = 1.25  # U / max_iter: the paper's U = 250 at its longest budget, 200


@dataclass
class Context:
    """What a stepper needs for one run."""

    model: torch.nn.Module
    loss_fn: Callable
    lr0: float
    total_steps: int
    seed: int
    probe_stream: object  # iterator of (x, y), for gen-optim's tr_iter


class Stepper:
    hvps = 0
    failed_fits = 0  # gen-optim: exceptions caught (and printed) inside lr_parabola
    updates = 0  # steps on which the rule measured something (HVP or probes)
    rejected = 0  # of those: fit rejected / c ≤ 0 (ours), rate left unchanged or fit raised (gen-optim)

    def __init__(self, ctx: Context, grouping: str = "all"):
        self.ctx = ctx
        self.optimizer = torch.optim.SGD(param_groups(ctx.model, grouping, ctx.lr0), lr=ctx.lr0)
        self.rates: list[float] = [ctx.lr0] * len(self.optimizer.param_groups)

    def _forward_backward(self, x, y):
        loss = self.ctx.loss_fn(self.ctx.model(x), y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        return loss

    def close(self) -> None:
        pass


class ScheduledSGD(Stepper):
    """SGD whose rate follows a torch LR scheduler (None: constant)."""

    def __init__(self, ctx: Context, scheduler: Callable | None):
        super().__init__(ctx)
        self.scheduler = scheduler(self.optimizer, ctx) if scheduler else None

    def step(self, x, y) -> float:
        loss = self._forward_backward(x, y)
        self.rates = [g["lr"] for g in self.optimizer.param_groups]
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        return loss.item()


class GenOptim(Stepper):
    """gen-optim 0.1.1 as its README and examples (AutoGeN examples/cv.py) use it: loss.backward();
    every ``lazy_freq``-th step (``(t + 1) % lazy_freq == 0``) ``lr_parabola(net, optimizer,
    criterion, 1, tr_iter=..., task='image_cls', scale=1.0)``; then ``optimizer.step()``.

    lr_parabola itself steps the optimizer once at the old rate (w_t − lr·u), evaluates the loss
    at w_t ∓ lr·u and w_t on the NEXT batch of ``tr_iter`` (3 forwards), resets the weights to
    w_t, and sets the new rate; the caller's ``optimizer.step()`` then steps again from w_t. With
    plain SGD (no optimizer state) this is exactly one step at the new rate; with momentum or Adam
    the state would be advanced twice (see the README's fairness notes).
    """

    def __init__(self, ctx: Context, lazy_freq: int = GEN_OPTIM_LAZY_FREQ, scale: float = 1.0):
        super().__init__(ctx)
        from GeN import lr_parabola  # the PyPI package gen-optim

        self._lr_parabola = lr_parabola
        self.lazy_freq, self.scale, self.t = lazy_freq, scale, 0

    def step(self, x, y) -> float:
        loss = self._forward_backward(x, y)
        if (self.t + 1) % self.lazy_freq == 0:
            printed = io.StringIO()
            # it prints the exceptions it catches (counted as failed fits); scipy's curve_fit warns
            # "Covariance of the parameters could not be estimated" on its exact 3-point fits
            with contextlib.redirect_stdout(printed), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._lr_parabola(self.ctx.model, self.optimizer, criterion=self.ctx.loss_fn,
                                  grad_accumulation_steps=1, tr_iter=self.ctx.probe_stream,
                                  device="cpu", task="image_cls", scale=self.scale)
            self.updates += 1
            if printed.getvalue().strip():
                self.failed_fits += 1
            if printed.getvalue().strip() or self.optimizer.param_groups[0]["lr"] == self.rates[0]:
                self.rejected += 1  # it keeps the rate when a ≤ 0, b ≤ 0 or R² ≤ 0.99
        self.rates = [g["lr"] for g in self.optimizer.param_groups]
        self.optimizer.step()
        self.t += 1
        return loss.item()


class Ours(Stepper):
    """A libhessianlr method through ``hessianlr.torch.LRTuner`` (one library group per param
    group): ``driver.step(loss, closure=...)`` computes the gradient, the curvature (HVP) or the
    loss probes (forwards on the SAME batch, weights restored bit for bit) on the steps the tuner
    asks for, and sets the rates; then ``optimizer.step()``."""

    def __init__(self, ctx: Context, method: str, grouping: str, options: dict, next_batch_probes: bool = False):
        super().__init__(ctx, grouping)
        self.driver = LRTuner(self.optimizer, method, **options)
        # GeN's reference probes the next batch of an independent stream (gen-optim's tr_iter):
        # with this on, a step that needs loss probes draws one batch from ctx.probe_stream and
        # evaluates every probe row on it (driver.step's probe_closure).
        self.next_batch_probes = next_batch_probes

    @property
    def hvps(self) -> int:
        return self.driver.hvp_count

    @property
    def probe_forwards(self) -> int:
        return self.driver.probe_count

    def step(self, x, y) -> float:
        model, loss_fn = self.ctx.model, self.ctx.loss_fn
        loss = loss_fn(model(x), y)
        need = self.driver.need()[0]
        measured = need != hessianlr.Need.NOTHING
        probe_closure = None
        if self.next_batch_probes and need == hessianlr.Need.LOSSES:
            px, py = next(self.ctx.probe_stream)
            probe_closure = lambda: loss_fn(model(px), py)  # noqa: E731
        self.rates = self.driver.step(loss, closure=lambda: loss_fn(model(x), y), probe_closure=probe_closure)
        if measured:
            self.updates += 1
            tuner = self.driver.tuner
            flags = 0
            for k in range(tuner.groups):
                flags |= int(tuner.info(hessianlr.Info.LAST_FLAGS, k))
            if flags & (hessianlr.Flag.FIT_REJECTED | hessianlr.Flag.NEGATIVE_CURVATURE):
                self.rejected += 1
        self.optimizer.step()
        return loss.item()

    def close(self) -> None:
        self.driver.close()


@dataclass(frozen=True)
class MethodSpec:
    name: str
    label: str
    family: str  # "grid" | "baseline" | "ours"
    settings: str  # the exact settings, for the README and the table header
    build: Callable[[Context], Stepper] = field(repr=False)
    grouping: str = "all"


def _cosine(optimizer, ctx):
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=ctx.total_steps, eta_min=0.0)


def _hyperbolic(optimizer, ctx):
    schedule = hessianlr.Schedule.hyperbolic(
        base_lr=ctx.lr0, max_iter=ctx.total_steps,
        upper_bound=HYPERBOLIC_UPPER_BOUND_RATIO * ctx.total_steps, infimum_lr=1e-6)
    return ScheduleLR(optimizer, schedule)


def _ours(method, grouping="all", next_batch_probes=False, **options):
    def build(ctx):
        extra = {"seed": ctx.seed} if method == "hidlr" else {}  # Hi-DLR's probe RNG: the run's seed
        return Ours(ctx, method, grouping, {**options, **extra}, next_batch_probes=next_batch_probes)

    return build


# Our rules: (name, label, library method, grouping, options, settings text without lr_max).
_OURS = [
    ("hessianlr", "HessianLR", "hessianlr", "all", {},
     "HessianLR: update_period 10, lr_bounds (0.3, 3.0), smoothing 0.9, warmup 0, "
     "negative_curvature_decay 0.5, direction gradient"),
    ("cdat1", "CDAT σ=1", "cdat", "all", {"sigma": 1.0, "direction": "update"},
     "CDAT: sigma 1, update_period 1, smoothing 0.9 (EMA of n and d), epsilon 1e-12, "
     "direction update (= gradient for plain SGD)"),
    ("cdat2", "CDAT σ=2", "cdat", "all", {"sigma": 2.0, "direction": "update"},
     "CDAT: sigma 2, otherwise as CDAT σ=1"),
    ("gen", "GeN (ours)", "gen", "all", {},
     "GeN: update_period 4, probes ξ ∈ {−1, 0, +1}·lr on the current batch, r2_threshold 0.99, "
     "bounds [lr/2, 2·lr], smoothing 0.9; a rejected fit keeps the rate, a failed one (NaN/Inf "
     "probe loss) halves it"),
    ("gen_nb", "GeN (ours, next-batch probes)", "gen", "all", {"next_batch_probes": True},
     "GeN as GeN (ours), but every probe row (ρ = −1, 0, +1: 3 forwards) on the next batch of an "
     "independent stream, as gen-optim's tr_iter (driver.step(probe_closure=...))"),
    ("hidlr_bw", "Hi-DLR bias/weights", "hidlr", "bias_weights", {},
     "Hi-DLR: 2 groups (weights, biases), update_period 10, model diagonal, probe_count auto "
     "(4K = 8 rows, 7 forwards), probe_scale 1, r2_threshold 0.99, bounds [lr/2, 2·lr], "
     "smoothing 0.9 (R² rejection keeps the rates, a failed fit halves them), seed = run seed"),
    ("hidlr_layer", "Hi-DLR per layer", "hidlr", "per_layer", {},
     "Hi-DLR: 3 groups (one per Linear layer), probe_count auto (4K = 12 rows, 11 forwards), "
     "otherwise as Hi-DLR bias/weights"),
    ("hidlr_bw_nb", "Hi-DLR bias/weights (next-batch probes)", "hidlr", "bias_weights", {"next_batch_probes": True},
     "Hi-DLR bias/weights, every probe row (8 forwards) on the next batch of the independent stream "
     "(driver.step(probe_closure=...))"),
    ("hidlr_layer_nb", "Hi-DLR per layer (next-batch probes)", "hidlr", "per_layer", {"next_batch_probes": True},
     "Hi-DLR per layer, every probe row (12 forwards) on the next batch of the independent stream"),
]

METHODS: dict[str, MethodSpec] = {m.name: m for m in [
    MethodSpec("constant", "constant", "grid", "SGD, rate fixed at lr",
               lambda ctx: ScheduledSGD(ctx, None)),
    MethodSpec("cosine", "cosine", "baseline",
               "torch CosineAnnealingLR(T_max = steps, eta_min = 0) from lr0",
               lambda ctx: ScheduledSGD(ctx, _cosine)),
    MethodSpec("hyperbolic", "HyperbolicLR", "baseline",
               "Schedule.hyperbolic(base_lr = lr0, max_iter = steps, upper_bound = 1.25·steps, "
               "infimum_lr = 1e-6), no warmup, via ScheduleLR",
               lambda ctx: ScheduledSGD(ctx, _hyperbolic)),
    MethodSpec("gen_optim", "GeN (gen-optim)", "baseline",
               "gen-optim 0.1.1 lr_parabola every 4th step ((t+1) % 4 == 0), lr_factor [-1, 0, 1], "
               "scale 1.0, probes on the next batch of an independent stream, no lr clamp",
               lambda ctx: GenOptim(ctx)),
]}
for _name, _label, _method, _grouping, _options, _text in _OURS:
    METHODS[_name] = MethodSpec(_name, _label, "ours", f"{_text}; library defaults otherwise",
                                _ours(_method, _grouping, **_options), _grouping)
# Ablation: the ceiling lr_max moved from the library default where it binds (digits).
METHODS["hessianlr_lrmax_inf"] = MethodSpec(
    "hessianlr_lrmax_inf", "HessianLR [lr_max ∞]", "ablation", "HessianLR with lr_max = +∞ (default 1.0)",
    _ours("hessianlr", "all", lr_max=math.inf))
METHODS["cdat2_lrmax1"] = MethodSpec(
    "cdat2_lrmax1", "CDAT σ=2 [lr_max 1]", "ablation", "CDAT σ=2 with lr_max = 1 (the former default; now +∞)",
    _ours("cdat", "all", sigma=2.0, direction="update", lr_max=1.0))

BASELINES = [n for n, m in METHODS.items() if m.family == "baseline"]
OURS = [n for n, m in METHODS.items() if m.family == "ours"]
DIAGNOSTIC = [n for n, m in METHODS.items() if m.family == "diagnostic"]
ABLATION = [n for n, m in METHODS.items() if m.family == "ablation"]
RULES = BASELINES + OURS + DIAGNOSTIC
