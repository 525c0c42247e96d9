"""Shared helpers of the binding's tests."""

from __future__ import annotations

import importlib.util
import re
import struct
import subprocess
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO_ROOT = TESTS.parents[2]
HEADER = REPO_ROOT / "include" / "hessianlr.h"


def header_macros() -> dict[str, int]:
    """Every integer constant of include/hessianlr.h: its integer-valued #defines (the version)
    and the members of its typed enums (``    HLR_X = value,``), comments stripped first."""
    text = re.sub(r"/\*.*?\*/", " ", HEADER.read_text(), flags=re.S)
    defines = re.findall(r"^#define\s+(HLR_\w+)\s+(-?\d+)\b", text, re.M)
    members = [m for body in re.findall(r"^typedef enum \w+ \{(.*?)^\}", text, re.M | re.S)
               for m in re.findall(r"\b(HLR_\w+)\s*=\s*(-?\d+)\s*,", body)]
    return {name: int(value) for name, value in defines + members}


def load_tool(name: str):
    """The module ``tools/<name>.py`` of the repository (the generators' own tables)."""
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_processes(commands: list, timeout: float, env=None) -> list:
    """Starts every command at once (e.g. the ranks of one process group), waits for each
    (`timeout` seconds each) and kills whatever still runs on the way out, also on failure.
    Returns (returncode, stdout, stderr) per command."""
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for command in commands]
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=timeout))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return [(process.returncode, out, err) for process, (out, err) in zip(processes, outputs)]


def bits(x: float) -> int:
    """The IEEE-754 bit pattern of a double (for bit-identical comparisons)."""
    return struct.unpack("<Q", struct.pack("<d", x))[0]


@pytest.fixture
def header():
    if not HEADER.exists():
        pytest.fail(f"header not found at {HEADER}")
    return header_macros()


def user_step(driver, optimizer, closure) -> list[float]:
    """One step of the training loop the README gives for a framework-owned backward: zero the
    gradients, the user's backward, ``driver.after_backward``, then ``optimizer.step()``.
    Returns the rates ``after_backward`` set."""
    optimizer.zero_grad()
    loss = closure()
    loss.backward()
    rates = driver.after_backward(closure, loss=loss)
    optimizer.step()
    return rates


def torch_methods(hessianlr_period: int) -> dict:
    """Every method of the torch driver on an optimizer it suits, for tiny models: name →
    (optimizer factory of the parameters, LRTuner options); ``hessianlr_period`` is the plain
    hessianlr's update_period."""
    import torch

    import hessianlr as h

    return {
        "hessianlr": (lambda p: torch.optim.SGD(p, lr=0.05), dict(update_period=hessianlr_period)),
        "hessianlr-update": (lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
                             dict(update_period=2, direction="update")),
        "cdat": (lambda p: torch.optim.Adam(p, lr=0.01), dict(update_period=2)),
        "gen": (lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5), dict(update_period=2, probe_count=4)),
        "hidlr": (lambda p: torch.optim.AdamW(p, lr=0.01), dict(update_period=3, model="full")),
        "armijo": (lambda p: torch.optim.SGD(p, lr=0.5), {}),
        "constant": (lambda p: torch.optim.SGD(p, lr=0.05), dict(schedule=h.Schedule.cosine(0.05, 10))),
    }


def flat_loss(model, inputs, loss) -> tuple:
    """(w, f): the model's parameters flattened into one vector w, and f(v) = loss(model(inputs))
    with the parameters v (through torch.func.functional_call), for dense Hessians and gradients
    by torch.autograd.functional."""
    import torch

    names = [name for name, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def f(vector):
        params, start = {}, 0
        for name, shape in zip(names, shapes):
            params[name] = vector[start : start + shape.numel()].reshape(shape)
            start += shape.numel()
        return loss(torch.func.functional_call(model, params, (inputs,)))

    return flat, f
