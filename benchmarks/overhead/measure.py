"""The measurements: A/B-interleaved step times, peak memory in a fresh process, and a cProfile
of the driver on the steps where it observes nothing.

A/B interleaving: model A (plain) and model B (tuned) start from the same weights and train on
the same batches; step i runs A then B for even i and B then A for odd i, so a load change on
the shared machine hits both sides of a pair alike and cancels in the pair's ratio B_i / A_i.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import resource
import subprocess
import sys

import torch

from hessianlr.errors import NonFiniteError
from steps import CONTROL, Control, Plain, Tuned
from workloads import PATH_BY_NAME, PERIOD, Batches, build, twin


def interleaved(model_name: str, optimizer_name: str, path_name: str, device: str, steps: int, warmup: int) -> dict:
    """Times ``warmup`` + ``steps`` interleaved pairs (the first ``warmup`` pairs are not kept).
    Returns the per-step lists of the kept pairs: plain and tuned seconds, the driver's seconds,
    whether the tuned step observed, and the driver's counters over the kept steps."""
    data = Batches(device)
    model, optimizer, loss_fn = build(model_name, optimizer_name, device)
    other, other_optimizer = twin(model, optimizer_name)
    plain = Plain(model, optimizer, loss_fn, device)
    if path_name == CONTROL:
        tuned = Control(other, other_optimizer, loss_fn, device)
    else:
        tuned = Tuned(other, other_optimizer, loss_fn, device, PATH_BY_NAME[path_name])
    rows = {"plain": [], "tuned": [], "plain_cpu": [], "tuned_cpu": [], "driver": [], "observes": [],
            "diverged_at": None}
    start_counters = tuned.counters()
    try:
        for i in range(warmup + steps):
            if i == warmup:
                start_counters = tuned.counters()
            x, y = next(data)
            observes = tuned.observes()
            try:
                if i % 2 == 0:
                    a, a_cpu, _ = plain.step(x, y)
                    b, b_cpu, d = tuned.step(x, y)
                else:
                    b, b_cpu, d = tuned.step(x, y)
                    a, a_cpu, _ = plain.step(x, y)
            except NonFiniteError:  # the tuned run diverged: what was kept so far is reported
                rows["diverged_at"] = i
                break
            if i >= warmup:
                rows["plain"].append(a)
                rows["tuned"].append(b)
                rows["plain_cpu"].append(a_cpu)
                rows["tuned_cpu"].append(b_cpu)
                rows["driver"].append(d)
                rows["observes"].append(observes)
        end_counters = tuned.counters()
        if device.startswith("cuda"):
            rows["on_device"] = _on_device(other, other_optimizer, device)
    finally:
        tuned.close()
    rows["counters"] = {k: end_counters[k] - start_counters[k] for k in end_counters}
    rows["final_lr"] = float(other_optimizer.param_groups[0]["lr"])
    return rows


def _on_device(model, optimizer, device: str) -> bool:
    """Whether the parameters, gradients and optimizer state are all still on ``device``."""
    kind = torch.device(device).type
    tensors = [p for p in model.parameters()] + [p.grad for p in model.parameters() if p.grad is not None]
    tensors += [v for state in optimizer.state.values() for v in state.values()
                if isinstance(v, torch.Tensor) and v.dim() > 0]
    return all(t.device.type == kind for t in tensors)


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak_rss() -> bool:
    """Resets the kernel's peak resident set size of this process (VmHWM) to the current one
    (Linux ≥ 4.0: ``5`` written to /proc/self/clear_refs); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_memory_child(model_name: str, optimizer_name: str, path_name: str, device: str, steps: int) -> dict:
    """Run in a fresh process: ``steps`` steps of one side only (``path_name`` "plain" or a path),
    then the peak memory of the training itself. CPU: the peak resident set size (VmHWM) reset
    after the imports, the build and PERIOD + 1 warm-up steps (the first observation included:
    it touches the library's code and the driver's modules once), so that neither the import
    peak nor one-time code pages hide or inflate the steady training's; ru_maxrss (the process's whole-life peak) where the reset
    is not possible. CUDA: ``torch.cuda.max_memory_allocated`` reset at the same point. Both
    sides import ``hessianlr.torch`` (its library is loaded alike)."""
    import hessianlr.torch  # noqa: F401  (the plain side loads the library too)

    data = Batches(device)
    model, optimizer, loss_fn = build(model_name, optimizer_name, device)
    if path_name in ("plain", CONTROL):
        side = Plain(model, optimizer, loss_fn, device)
    else:
        side = Tuned(model, optimizer, loss_fn, device, PATH_BY_NAME[path_name])
    for _ in range(PERIOD + 1):  # one-time costs first: the first observation touches the library's code
        side.step(*next(data))
    reset = False
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    else:
        reset = _reset_peak_rss()
    for _ in range(steps):
        side.step(*next(data))
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        peak = int(torch.cuda.max_memory_allocated())
        kind = "cuda max_memory_allocated"
    elif reset:
        peak = _status_kib("VmHWM") * 1024
        kind = "peak RSS (VmHWM) after the build"
    else:
        peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
        kind = "ru_maxrss"
    result = {"peak_bytes": peak, "kind": kind}
    if not device.startswith("cuda"):
        result.update(_heap_retention())
    if isinstance(side, Tuned):
        side.close()
    return result


def _heap_retention() -> dict:
    """Where glibc is the allocator: the memory free inside its heap (``mallinfo2().fordblks``,
    freed by the program but not returned to the kernel) and the resident set size before and
    after ``malloc_trim(0)`` hands it back. A peak RSS above plain training's that the trim
    removes is the allocator's retention of freed temporaries, not live memory. {} elsewhere."""
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = MallInfo2
        info = libc.mallinfo2()
        rss = _status_kib("VmRSS") * 1024
        libc.malloc_trim(0)
        return {"heap_in_use_bytes": int(info.uordblks), "heap_free_bytes": int(info.fordblks), "rss_bytes": rss,
                "rss_after_trim_bytes": _status_kib("VmRSS") * 1024}
    except (OSError, AttributeError, KeyError):
        return {}


def peak_memory(script: str, model_name: str, optimizer_name: str, path_name: str, device: str, steps: int) -> dict:
    """``peak_memory_child`` in a fresh ``python script --memory-child ...`` process."""
    command = [sys.executable, script, "--memory-child", model_name, optimizer_name, path_name,
               "--device", device, "--memory-steps", str(steps)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory child {model_name}/{optimizer_name}/{path_name} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def profile_driver(model_name: str, optimizer_name: str, path_name: str, device: str, steps: int,
                   top: int = 15) -> tuple[str, str]:
    """cProfile of ``LRTuner.after_backward``, one profiler for the steps where the driver
    observes nothing and one for those where it observes (each enabled around those calls only):
    the ``top`` functions by own time, and the number of calls, as two texts."""
    path = PATH_BY_NAME[path_name]
    data = Batches(device)
    model, optimizer, loss_fn = build(model_name, optimizer_name, device)
    tuned = Tuned(model, optimizer, loss_fn, device, path)
    driver = tuned.driver
    profilers = {False: cProfile.Profile(), True: cProfile.Profile()}
    calls = {False: 0, True: 0}
    try:
        for _ in range(steps):
            x, y = next(data)
            observes = tuned.observes()
            optimizer.zero_grad(set_to_none=True)

            def closure():
                return loss_fn(model(x), y)

            loss = closure()
            loss.backward(create_graph=path.graph and driver.wants_curvature())
            profilers[observes].enable()
            driver.after_backward(closure, loss=loss)
            profilers[observes].disable()
            calls[observes] += 1
            optimizer.step()
    finally:
        tuned.close()
    texts = []
    for observes, what in ((False, "non-observation"), (True, "observation")):
        out = io.StringIO()
        pstats.Stats(profilers[observes], stream=out).sort_stats("tottime").print_stats(top)
        body = out.getvalue().replace(os.path.dirname(os.path.dirname(torch.__file__)) + os.sep, "")
        body = body.replace(os.getcwd() + os.sep, "")
        texts.append(f"{calls[observes]} {what} after_backward calls of {model_name}/{optimizer_name}/{path_name}\n"
                     + body)
    return texts[0], texts[1]
