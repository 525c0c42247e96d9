"""One training run: (setting, method, initial lr, seed) → final metrics, counters and curves.

Per step t = 0 … steps−1: the stepper takes one SGD step on batch t (the whole training set in
full batch). Every ``eval_every`` steps (and at the end) the loss on the whole training set is
recorded for the curves; these evaluations are not timed and not counted. Wall time is the sum of
the steps' times only. Forward passes are counted by a hook on the model during the steps: the
step's own forward plus every probe forward (gen-optim's 3 per update on the next batch of its
stream, GeN's 2 per update, Hi-DLR's 4K − 1 per update); an HVP is one double-backward
product (per group and curvature step). A run stops early and counts as diverged when a batch loss
or the recorded training loss is not finite or exceeds 1e3 × the initial training loss; an
exception from a method (e.g. the library refusing a non-finite probe loss) is recorded with the
run and also counts as diverged.
"""

from __future__ import annotations

import math
import os
import sys
import time
import traceback

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # benchkit
from benchkit.counters import ForwardCounter  # noqa: E402

import datasets  # noqa: E402
from methods import METHODS, Context  # noqa: E402
from models import group_names, make_model  # noqa: E402

DIVERGENCE_FACTOR = 1e3
_DATA: dict[str, datasets.Dataset] = {}


def data(name: str) -> datasets.Dataset:
    if name not in _DATA:
        _DATA[name] = datasets.load(name)
    return _DATA[name]


def _train_loss(model, d: datasets.Dataset) -> float:
    with torch.no_grad():
        return float(d.loss_fn(model(d.x_train), d.y_train))


def _test_metric(model, d: datasets.Dataset) -> float:
    with torch.no_grad():
        out = model(d.x_test)
        if d.task == "classification":
            return float((out.argmax(dim=1) == d.y_test).float().mean())
        return float(d.loss_fn(out, d.y_test))



def _lr_max(stepper):
    driver = getattr(stepper, "driver", None)
    return None if driver is None else float(driver.tuner.options()["lr_max"])


def _share_at(rates, lr_max) -> float:
    """Share of the steps with some group's rate at the tuner's lr_max (NaN: no ceiling)."""
    if lr_max is None or not math.isfinite(lr_max) or not rates:
        return math.nan
    return sum(max(r) >= lr_max * (1 - 1e-9) for r in rates) / len(rates)


def run(setting, method: str, lr: float, seed: int) -> dict:
    torch.set_num_threads(1)
    d = data(setting.dataset)
    spec = METHODS[method]
    model = make_model(d.n_features, d.n_outputs, seed)
    batches = None if setting.batch is None else datasets.batch_indices(d.n_train, setting.batch, setting.steps, seed)
    ctx = Context(model, d.loss_fn, lr, setting.steps, seed, datasets.probe_stream(d, setting.batch, seed))
    counter = ForwardCounter(model)
    stepper = spec.build(ctx)
    initial = _train_loss(model, d)
    limit = DIVERGENCE_FACTOR * initial
    curve_steps, curve_loss, rates = [0], [initial], []
    wall, diverged, error = 0.0, False, None
    for t in range(setting.steps):
        if batches is None:
            x, y = d.x_train, d.y_train
        else:
            x, y = d.x_train[batches[t]], d.y_train[batches[t]]
        counter.active = True
        start = time.perf_counter()
        try:
            batch_loss = stepper.step(x, y)
        except Exception as exc:  # a method failing counts as diverged, with its message kept
            error = f"step {t}: {type(exc).__name__}: {exc}".splitlines()[0][:300]
            diverged = True
            if not isinstance(exc, (ArithmeticError, ValueError, RuntimeError)) and "hessianlr" not in type(exc).__module__:
                traceback.print_exc()
            break
        finally:
            wall += time.perf_counter() - start
            counter.active = False
        rates.append([float(r) for r in stepper.rates])
        if not math.isfinite(batch_loss) or batch_loss > limit:
            diverged = True
            break
        if (t + 1) % setting.eval_every == 0 or t + 1 == setting.steps:
            loss = _train_loss(model, d)
            curve_steps.append(t + 1)
            curve_loss.append(loss)
            if not math.isfinite(loss) or loss > limit:
                diverged = True
                break
    final = _train_loss(model, d) if not diverged else math.nan
    if not diverged and not math.isfinite(final):
        diverged = True
    result = {
        "setting": setting.key,
        "dataset": setting.dataset,
        "regime": setting.regime,
        "method": method,
        "initial_lr": lr,
        "seed": seed,
        "final_train_loss": final if not diverged else math.nan,
        "test_metric": _test_metric(model, d) if not diverged else math.nan,
        "wall_s": wall,
        "hvps": int(stepper.hvps),
        "forwards": counter.count,
        "steps_done": len(rates),
        "diverged": diverged,
        "error": error,
        "failed_fits": stepper.failed_fits,
        "updates": stepper.updates,
        "rejected": stepper.rejected,
        "groups": group_names(model, spec.grouping),
        "final_rates": rates[-1] if rates else [],
        "max_rate": max((max(r) for r in rates), default=math.nan),
        "share_at_lr_max": _share_at(rates, _lr_max(stepper)),
        "curve_steps": curve_steps,
        "curve_loss": curve_loss,
        # the rates the steps used (per group), every eval_every-th step (step t = index·eval_every)
        "rate_steps": list(range(0, len(rates), setting.eval_every)),
        "rates": rates[:: setting.eval_every],
    }
    counter.remove()
    stepper.close()
    return result
