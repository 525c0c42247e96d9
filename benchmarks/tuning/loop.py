"""One training run: (task, optimizer, method, lr0, seed, budget) → measurements and traces.

Per step t = 0 … steps−1 the stepper takes one step on batch t of the seed's batch order
(``tasks.batch_order``: the same for every method of a seed). After every epoch (and after the
last step) the model is evaluated in eval mode (schedule-free: in its ``.eval()`` mode, i.e. on
its averaged weights): the loss on the whole training set (the loss trace); after the last step
also the test metric. Evaluations are neither timed nor counted.

Timing: each step of the method is timed with ``time.perf_counter`` (wall) and
``time.thread_time`` (CPU time of the calling thread, which does all the work with one torch
thread; unlike wall time it is not inflated when the process is preempted on a shared machine).
Interleaved with them, on
every 8th step, one *reference* step is timed: plain training with the cell's optimizer at a
constant rate (a copy of the initial model and a fresh optimizer at rate 0, so its weights stay
finite; the arithmetic is the same at any rate; warmed by one untimed step) on the same batch,
alternately just before and just after the method's step. ``time_ratio`` = mean method step CPU
time / mean reference step CPU time (``time_ratio_wall``: the same with wall times), both
measured in the same worker process over the same stretch of the run.

Counting: forwards of the model during the method's steps (a forward pre-hook, the step's own
forward included; ``extra_forwards`` = forwards − steps); ``hvps`` and ``probes`` are LRTuner's
``hvp_count`` and ``probe_count``.

Divergence: a run stops and is marked ``diverged`` when a batch loss is not finite or above
1000× the initial training loss, or when the training-set loss at an evaluation is not finite
or above 10× the initial training loss. A method raising an exception stops the run with status
``error`` and the exception's message (nothing is hidden).
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import statistics
import sys
import time
import traceback

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # benchkit
from benchkit.counters import ForwardCounter  # noqa: E402

import tasks as tasks_mod  # noqa: E402
from methods import METHODS, Context  # noqa: E402
from optimizers import OPTIMIZERS  # noqa: E402

DIVERGENCE_FACTOR = 10.0  # training-set loss at an evaluation
BATCH_ABORT_FACTOR = 1e3  # a single batch loss
REFERENCE_EVERY = 8
LR_TRACE_POINTS = 200



def _attention_context(task):
    if not task.needs_math_attention:
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    # torch's CPU flash-attention kernel has no double backward (HVPs need one): every method of
    # this task runs on the math kernel, so their timings stay comparable
    return sdpa_kernel(SDPBackend.MATH)


def budget_steps(task, fraction: float, base_epochs: int | None = None) -> int:
    """Steps of a budget: fraction × base epochs (the task's, or the plan's) × steps per epoch."""
    epochs = task.base_epochs if base_epochs is None else base_epochs
    return max(1, round(fraction * epochs * task.steps_per_epoch))


def run(job: dict) -> dict:
    """job: task, optimizer, method, lr0 (None for peers at their defaults), seed, budget
    (fraction of base_epochs, the task's unless the job names it)."""
    torch.set_num_threads(1)
    task = tasks_mod.load(job["task"])
    opt = OPTIMIZERS[job["optimizer"]]
    spec = METHODS[job["method"]]
    seed, steps = job["seed"], budget_steps(task, job["budget"], job.get("base_epochs"))
    with _attention_context(task):
        return _run(job, task, opt, spec, seed, steps)


def _run(job, task, opt, spec, seed, steps) -> dict:
    model = task.make_model(seed)
    ref_model = copy.deepcopy(model)
    ref_opt = opt.make(ref_model.parameters(), 0.0)
    ref_counter = ForwardCounter(ref_model)  # the same (inactive) hook as the model's, same call path
    batches = tasks_mod.batch_order(task, seed, steps)
    ctx = Context(model, task.loss_fn, opt, job["lr0"], steps, seed, tasks_mod.probe_stream(task, seed))
    result = {k: job[k] for k in ("task", "optimizer", "method", "lr0", "seed", "budget")}
    result.update(steps=steps, status="ok", error=None, settings="")
    model.eval()
    initial = task.train_loss(model)
    model.train()
    counter = ForwardCounter(model)
    step_times, ref_times, step_cpu, ref_cpu = [], [], [], []
    lr_every = max(1, steps // LR_TRACE_POINTS)
    lr_steps, lr_trace, eff_trace = [], [], []
    epochs, loss_trace, test_trace = [0.0], [initial], []
    stepper = None
    spe = task.steps_per_epoch

    def reference_step(x, y, timed=True):
        start, cpu = time.perf_counter(), time.thread_time()
        loss = task.loss_fn(ref_model(x), y)
        ref_opt.zero_grad(set_to_none=True)
        loss.backward()
        ref_opt.step()
        float(loss.detach())
        if timed:
            ref_cpu.append(time.thread_time() - cpu)
            ref_times.append(time.perf_counter() - start)

    def evaluate(t_done, final):
        model.eval()
        stepper.eval_mode()
        loss = task.train_loss(model)
        if final:
            test_trace.append(task.test_metric(model))
        stepper.train_mode()
        model.train()
        epochs.append(t_done / spe)
        loss_trace.append(loss)
        return loss

    reference_step(task.x_train[batches[0]], task.y_train[batches[0]], timed=False)  # warm, untimed
    t = 0
    try:
        stepper = spec.build(ctx)
        result["settings"] = stepper.settings
        for t in range(steps):
            index = batches[t]
            x, y = task.x_train[index], task.y_train[index]
            timed_ref = t % REFERENCE_EVERY == REFERENCE_EVERY // 2
            ref_first = (t // REFERENCE_EVERY) % 2 == 0
            if timed_ref and ref_first:
                reference_step(x, y)
            counter.active = True
            start, cpu = time.perf_counter(), time.thread_time()
            batch_loss = stepper.step(x, y)
            step_cpu.append(time.thread_time() - cpu)
            step_times.append(time.perf_counter() - start)
            counter.active = False
            if timed_ref and not ref_first:
                reference_step(x, y)
            if t % lr_every == 0 or t == steps - 1:
                lr_steps.append(t)
                lr_trace.append(stepper.lr())
                eff_trace.append(stepper.effective_lr())
            if not math.isfinite(batch_loss) or batch_loss > BATCH_ABORT_FACTOR * initial:
                result["status"] = "diverged"
                result["error"] = f"step {t}: batch loss {batch_loss:.3g}"
                break
            if (t + 1) % spe == 0 or t + 1 == steps:
                loss = evaluate(t + 1, final=t + 1 == steps)
                if not math.isfinite(loss) or loss > DIVERGENCE_FACTOR * initial:
                    result["status"] = "diverged"
                    result["error"] = f"step {t}: training-set loss {loss:.3g} (initial {initial:.3g})"
                    break
    except Exception as exc:  # noqa: BLE001  a failing method is recorded, never hidden
        counter.active = False
        result["status"] = "error"
        result["error"] = f"step {t}: {type(exc).__name__}: {exc}".replace("\n", " ")[:500]
        if not isinstance(exc, (ArithmeticError, ValueError, RuntimeError)) and "hessianlr" not in type(exc).__module__:
            traceback.print_exc()
    ok = result["status"] == "ok"
    mean = statistics.fmean(step_times) if step_times else math.nan
    ref = statistics.fmean(ref_times) if ref_times else math.nan
    mean_cpu = statistics.fmean(step_cpu) if step_cpu else math.nan
    ref_cpu_mean = statistics.fmean(ref_cpu) if ref_cpu else math.nan
    result.update(
        initial_loss=initial,
        final_train_loss=loss_trace[-1] if ok else math.nan,
        test_metric=test_trace[-1] if ok and test_trace else math.nan,
        steps_done=len(step_times),
        step_ms=1e3 * mean,
        step_ms_median=1e3 * statistics.median(step_times) if step_times else math.nan,
        ref_step_ms=1e3 * ref,
        step_cpu_ms=1e3 * mean_cpu,
        ref_step_cpu_ms=1e3 * ref_cpu_mean,
        time_ratio=mean_cpu / ref_cpu_mean if ref_cpu and ref_cpu_mean > 0 else math.nan,
        time_ratio_wall=mean / ref if ref_times and ref > 0 else math.nan,
        wall_s=sum(step_times),
        hvps=int(getattr(stepper, "hvps", 0) or 0),
        probes=int(getattr(stepper, "probes", 0) or 0),
        forwards=counter.count,
        extra_forwards=counter.count - len(step_times),
        failed_fits=int(getattr(stepper, "failed_fits", 0)),
        final_lr=eff_trace[-1] if eff_trace else math.nan,
        max_lr=max(eff_trace) if eff_trace else math.nan,
        lr_steps=lr_steps, lr_trace=lr_trace, eff_lr_trace=eff_trace,
        epochs=epochs, loss_trace=loss_trace,
    )
    counter.remove()
    ref_counter.remove()
    if stepper is not None:
        stepper.close()
    return result
