"""One training step, plain and tuned, as a user writes it (framework-owned backward):

plain::

    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()

tuned (``LRTuner.after_backward``; the graph only on the steps that want curvature when the
path is ``curvature="graph"``)::

    optimizer.zero_grad(set_to_none=True)
    closure = lambda: loss_fn(model(x), y)
    loss = closure()
    loss.backward(create_graph=graph and driver.wants_curvature())
    driver.after_backward(closure, loss=loss)
    optimizer.step()

Each ``step`` returns (wall seconds, CPU seconds of this process, wall seconds of the driver call
or 0). Wall time is what a user waits for; CPU time (``time.process_time``) is the step's own
cost without the time the process spent preempted by other work on a shared machine (with one
torch thread, a step preempted for one scheduler slice takes about twice its wall time). On CUDA
the device is synchronised before each clock reading, so a step's wall time includes its kernels
(its CPU time then includes the wait).
"""

from __future__ import annotations

import time

import torch

from workloads import Path


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


class Plain:
    def __init__(self, model, optimizer, loss_fn, device: str):
        self.model, self.optimizer, self.loss_fn, self.device = model, optimizer, loss_fn, device

    def step(self, x, y) -> tuple[float, float, float]:
        _sync(self.device)
        cpu, start = time.process_time(), time.perf_counter()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        self.optimizer.step()
        _sync(self.device)
        return time.perf_counter() - start, time.process_time() - cpu, 0.0


#: The A/A control's name: side B is plain training too, so its ratios show the harness's own
#: bias and spread on this machine.
CONTROL = "plain (A/A control)"


class Control(Plain):
    """Side B of the A/A control: plain training on the twin model, with the tuned side's
    interface (it never observes; no counters)."""

    def observes(self) -> bool:
        return False

    def counters(self) -> dict[str, int]:
        return {"hvp": 0, "probe": 0, "gradient": 0, "observation": 0}

    def close(self) -> None:
        pass


class Tuned:
    """The same step with ``LRTuner(optimizer, path.method, curvature=path.curvature, **options)``."""

    def __init__(self, model, optimizer, loss_fn, device: str, path: Path):
        from hessianlr.torch import LRTuner

        self.model, self.optimizer, self.loss_fn, self.device, self.path = model, optimizer, loss_fn, device, path
        self.driver = LRTuner(optimizer, path.method, curvature=path.curvature, **dict(path.options))

    def observes(self) -> bool:
        """Whether the next step observes (the driver's ``need()`` is not NOTHING); asked outside
        the timed step."""
        from hessianlr.constants import Need

        return self.driver.need()[0] != Need.NOTHING

    def counters(self) -> dict[str, int]:
        d = self.driver
        return {"hvp": d.hvp_count, "probe": d.probe_count, "gradient": d.gradient_count,
                "observation": d.observation_count}

    def step(self, x, y) -> tuple[float, float, float]:
        model, loss_fn, driver = self.model, self.loss_fn, self.driver
        _sync(self.device)
        cpu, start = time.process_time(), time.perf_counter()
        self.optimizer.zero_grad(set_to_none=True)

        def closure():
            return loss_fn(model(x), y)

        loss = closure()
        loss.backward(create_graph=self.path.graph and driver.wants_curvature())
        before = time.perf_counter()
        driver.after_backward(closure, loss=loss)
        after = time.perf_counter()
        self.optimizer.step()
        _sync(self.device)
        return time.perf_counter() - start, time.process_time() - cpu, after - before

    def close(self) -> None:
        self.driver.close()
