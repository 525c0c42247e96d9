"""The torch side of the library's step driver: :class:`TorchStepBackend`.

``hlr_tuner_step`` runs the loop, assembles the observations and applies the failure policy
(:mod:`hessianlr._callbacks`, section 2); this backend does the tensor work on the parameters' device and
hands the library only scalars. Per parameter group k, with g_k the gradient and d_k the
direction on the group's trainable parameters (zero elsewhere):

- ``slopes``: s_k = g_kᵀd_k, accumulated in float64 (float32 on MPS), one host transfer.
- ``curvatures``: c_k = d_kᵀ H d_k, one Hessian-vector product per group, from either

  - the double-backward graph: a second ``autograd.grad`` of the group's gradients (built with
    ``create_graph=True``) w.r.t. the group's parameters with ``grad_outputs = d_k`` gives
    H_kk·d_k (H d̂_k restricted to the group); d is treated as a constant (detached). A model
    that cannot be differentiated twice (torch's fused attention kernels) raises
    :class:`DoubleBackwardError`, which says so and names the fix; or
  - a central finite difference of the gradient on the same batch (no graph, any model):
    c_k = d_kᵀ(∇L(w + ε_k d_k) − ∇L(w − ε_k d_k)) / (2ε_k), two forward and backward passes of
    the curvature closure per group at weights perturbed in place (restored bit for bit), the
    gradients taken with ``torch.autograd.grad`` (p.grad untouched, no DDP hook fires) inside
    ``no_sync`` when given, both passes replaying the same random numbers (dropout masks). See
    :func:`finite_difference_step` for ε_k.

  One host transfer (two with finite differences: the norms that give ε_k).
- ``set_trial(ξ)``: each parameter is overwritten IN PLACE, under ``torch.no_grad()``, with
  round(float64(w) − ξ_k·float64(d)) (one rounding to the parameter's dtype, like the library's
  host mode), from a copy of w saved at the first trial; ξ_k = 0 copies w back bit for bit.
- ``loss``: the closure's loss at the parameters as they are (a forward pass under no_grad);
  with a list of closures, the sum of their losses (one per micro-batch).
- ``restore``: copies the saved w back (the library calls it after every set of trials and on
  every exit path after one, so the weights are w again when the step returns or raises).
- ``all_reduce`` (only when given a process group): ``torch.distributed.all_reduce`` (SUM) of
  the few scalars of an observation, in float64 on the parameters' device.
"""

from __future__ import annotations

import contextlib
import math
from typing import Callable, Sequence, Union

__all__ = ["accumulation_dtype", "DoubleBackwardError", "TorchStepBackend", "finite_difference_step"]

Closures = Union[Callable, Sequence[Callable], None]


class DoubleBackwardError(RuntimeError):
    """The model cannot be differentiated twice, so curvature cannot come from the
    double-backward graph (e.g. torch's fused ``scaled_dot_product_attention`` kernels, whose
    backward has no derivative). The message names the fix: ``curvature="finite_difference"``
    with a closure. The original error is the ``__cause__``."""


def accumulation_dtype(torch, device):
    return torch.float32 if device.type == "mps" else torch.float64


def _dot(torch, a, b, dtype):
    return torch.dot(a.reshape(-1).to(dtype), b.reshape(-1).to(dtype))


def _work_dtype(torch, p):
    if p.device.type == "mps":
        return p.dtype
    return torch.float64 if p.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64) else p.dtype


def finite_difference_step(epsilon: float, w_norm: float, d_norm: float) -> float:
    """ε of the central difference (∇L(w + εd) − ∇L(w − εd)) / (2ε) ≈ H d for one group.

    ε = ∛epsilon · (1 + ‖w‖) / ‖d‖, ``epsilon`` the machine epsilon of the group's parameter
    dtype (``torch.finfo(dtype).eps``). Why: the weights move by h = ε‖d‖ = ∛epsilon·(1 + ‖w‖),
    a fixed fraction of their own scale whatever the scale of d (Adam's u and SGD's g differ by
    orders of magnitude; dᵀHd is quadratic in d and the division by ε undoes the scale). The
    error of the estimate of d̂ᵀHd̂ (d̂ = d/‖d‖) has two parts: truncation, O(h²) (the central
    difference cancels the odd terms of the Taylor series of ∇L, leaving L's fourth derivative
    times h²/6), and rounding, O(epsilon·‖∇L‖·(1 + ‖w‖)/h) (each gradient carries a relative
    rounding error ~epsilon, and the difference of two is divided by 2h). Their sum is smallest
    for h ∝ ∛epsilon in units of the weights' scale, with both parts ~epsilon^(2/3) relative
    (float32: h ≈ 5e-3·(1 + ‖w‖), error ~2e-5; float64: h ≈ 6e-6·(1 + ‖w‖), ~4e-11): the
    classic optimal step of a central difference (Nocedal & Wright, Numerical Optimization,
    §8.1), with 1 + ‖w‖ rather than ‖w‖ so that a group at w = 0 still moves. The perturbation
    per coordinate, ε|d_i|, stays far above the rounding of w_i (epsilon·|w_i|) for every
    coordinate that carries weight in dᵀHd. Central rather than forward: a forward difference
    (∇L(w + εd) − ∇L(w))/ε needs the local, unreduced gradient at w, which DDP's all-reduce has
    replaced in p.grad, and its error is O(√epsilon) instead of O(epsilon^(2/3)).
    """
    return epsilon ** (1.0 / 3.0) * (1.0 + w_norm) / d_norm


def _scalar_loss(loss, where: str):
    """``loss`` (a tensor) as a 0-dimensional tensor; ValueError naming its shape if it holds other
    than one element (e.g. ``reduction="none"``: reduce it, ``.mean()``, before returning it)."""
    if loss.numel() != 1:
        raise ValueError(f"{where} is a tensor of shape {tuple(loss.shape)}; the tuner needs one loss value per "
                         "batch: reduce it (e.g. .mean() or .sum(), as the loss you backpropagate)")
    return loss.reshape(())


def _closures(closure: Closures) -> tuple | None:
    """None, or a tuple of callables (one closure, or a list of them whose losses add up)."""
    if closure is None:
        return None
    if callable(closure):
        return (closure,)
    if isinstance(closure, (list, tuple)) and closure and all(callable(c) for c in closure):
        return tuple(closure)
    raise TypeError(f"closure must be a callable or a non-empty list of callables, got {type(closure).__name__}")


class _RandomReplay:
    """Both passes of a central difference draw the same random numbers (dropout masks, ...),
    and the caller's generators (CPU, and the parameters' CUDA device) are left as they were."""

    def __init__(self, torch, device):
        self.torch = torch
        self.cuda = device if device.type == "cuda" else None

    def __enter__(self):
        torch = self.torch
        self.cpu = torch.get_rng_state()
        self.gpu = None if self.cuda is None else torch.cuda.get_rng_state(self.cuda)
        return self

    def rewind(self) -> None:
        torch = self.torch
        torch.set_rng_state(self.cpu)
        if self.cuda is not None:
            torch.cuda.set_rng_state(self.gpu, self.cuda)

    def __exit__(self, *exc) -> None:
        self.rewind()


class _GradientsSetAside:
    """p.grad of every parameter is None while a closure runs and is put back afterwards, so a
    closure that runs a backward pass itself (torch.optim's LBFGS convention) cannot add to the
    step's gradient: its gradients are discarded and it is refused."""

    def __init__(self, params_by_group):
        self.params = [p for params in params_by_group for p in params]

    def __enter__(self):
        self.grads = [p.grad for p in self.params]
        for p in self.params:
            p.grad = None
        return self

    def __exit__(self, kind, *rest) -> None:
        wrote = any(p.grad is not None for p in self.params)
        for p, g in zip(self.params, self.grads):
            p.grad = g
        if wrote and kind is None:
            raise TypeError("the closure ran a backward pass (it wrote p.grad): the driver's closures compute the "
                            "loss only, the driver differentiates it (torch.autograd.grad) where it needs gradients")


class TorchStepBackend:
    """A step backend (:mod:`hessianlr._callbacks`, section 2) over a torch model's parameters.

    ``params_by_group``: the trainable parameters of each group; ``grads_by_group``: their
    gradients (built with ``create_graph=True`` when the step takes curvature from the graph,
    else detached; None where the loss does not reach a parameter); ``dirs_by_group``: the
    direction d per parameter (detached); ``closure``: the forward-only loss used by ``loss``
    (a callable, or a list of callables whose losses add up to the step's loss); ``graph``:
    whether ``grads_by_group`` carry the double-backward graph; ``process_group``: a
    ``torch.distributed`` process group whose processes the observations are averaged over
    (None: one process); ``curvature_closure``: when given (a callable or a list, as
    ``closure``), ``curvatures`` takes the central finite difference of the gradient of its
    loss instead of the graph; ``no_sync``: a context manager factory (DDP's ``no_sync``) the
    finite-difference passes run in; ``keep_graph``: keep the double-backward graph after the
    HVPs (the caller frees it; a failed step can then be retried on the same graph);
    ``graph_scale``: the factor the gradient's graph carries over the values in
    ``grads_by_group`` (a GradScaler's scale: ``scaler.scale(loss).backward(create_graph=True)``
    builds the graph of S·g and ``scaler.unscale_`` divides only the values), divided out of
    each graph HVP (1: none); ``scratch``: a dict the caller keeps across steps, in which
    ``set_trial`` keeps two flat work buffers per (device, work dtype), the size of the largest
    parameter (16 bytes an element in float64: half of what four temporaries per parameter and
    trial took at their peak), instead of allocating them at every trial — freed and allocated
    again, they cost the CPU page faults (on a 2.5 ms MLP step: 1440–1936 minor faults and
    12.5–15.7 ms per auto observation against 288–656 and 10.3–10.4 ms with the buffers kept).
    None: a dict of this backend's own.

    Counters: ``hvp_count`` (HVPs, one per group and curvature), ``loss_count`` (losses at
    probe points), ``gradient_count`` (forward and backward passes of the curvature closure).
    """

    def __init__(self, torch, params_by_group, grads_by_group, dirs_by_group, *, closure: Closures,
                 graph: bool, device, process_group=None, curvature_closure: Closures = None,
                 no_sync: Callable | None = None, keep_graph: bool = False, graph_scale: float = 1.0,
                 scratch: dict | None = None):
        self.torch = torch
        self.params_by_group = params_by_group
        self.grads_by_group = grads_by_group
        self.dirs_by_group = dirs_by_group
        self.closures = _closures(closure)
        self.curvature_closures = _closures(curvature_closure)
        self.graph = graph
        self.keep_graph = keep_graph
        self.graph_scale = float(graph_scale)
        self.no_sync = no_sync if no_sync is not None else contextlib.nullcontext
        self.device = device
        self.dtype = accumulation_dtype(torch, device)
        self.hvp_count = 0
        self.loss_count = 0
        self.gradient_count = 0
        self._saved: dict = {}  # id(p) → (p, clone of w)
        self._scratch = {} if scratch is None else scratch  # (device, dtype) → two flat work buffers
        self._group_of = {}
        for k, (params, dirs) in enumerate(zip(params_by_group, dirs_by_group)):
            for p, d in zip(params, dirs):
                if d is not None:
                    self._group_of[id(p)] = (k, p, d)
        if process_group is not None:
            self.process_group = process_group
            self.all_reduce = self._all_reduce  # only then: the library averages over processes

    def _host(self, scalars) -> list[float]:
        """One transfer of a few device scalars to host float64."""
        torch = self.torch
        if not scalars:
            return []
        stacked = torch.stack([s.reshape(()).to(device=self.device, dtype=self.dtype) for s in scalars])
        return stacked.cpu().to(torch.float64).tolist()

    def _zero(self):
        return self.torch.zeros((), dtype=self.dtype, device=self.device)

    def slopes(self) -> list[float]:
        torch = self.torch
        out = []
        for grads, dirs in zip(self.grads_by_group, self.dirs_by_group):
            total = self._zero()
            for g, d in zip(grads, dirs):
                if g is not None and d is not None:
                    total = total + _dot(torch, g.detach(), d, self.dtype).to(self.device)
            out.append(total)
        return self._host(out)

    # -- curvature -------------------------------------------------------------------------------

    def curvatures(self) -> list[float]:
        if self.curvature_closures is not None:
            return self._finite_difference_curvatures()
        if not self.graph:
            raise RuntimeError("the step needs curvature but its gradient was computed without the "
                               "double-backward graph (create_graph=False) and no closure was given for a "
                               "finite-difference Hessian-vector product")
        return self._graph_curvatures()

    def _graph_curvatures(self) -> list[float]:
        torch = self.torch
        live_by_group = [[(p, g, d) for p, g, d in zip(params, grads, dirs)
                          if g is not None and d is not None and g.requires_grad]
                         for params, grads, dirs in zip(self.params_by_group, self.grads_by_group, self.dirs_by_group)]
        last = max((k for k, live in enumerate(live_by_group) if live), default=-1)
        out = []
        for k, live in enumerate(live_by_group):
            total = self._zero()
            if live:
                vectors = [d.detach() for _, _, d in live]
                try:
                    products = torch.autograd.grad([g for _, g, _ in live], [p for p, _, _ in live],
                                                   grad_outputs=vectors, retain_graph=self.keep_graph or k < last,
                                                   allow_unused=True)
                except RuntimeError as error:
                    raise DoubleBackwardError(
                        "the Hessian-vector product (a backward pass through the gradient's own graph) failed: "
                        f"{error}. The model cannot be differentiated twice: some kernels have no second derivative, "
                        "e.g. torch's fused scaled_dot_product_attention (flash, memory-efficient, and the CPU flash "
                        "kernel), and custom autograd Functions without a differentiable backward. Fix: "
                        "LRTuner(..., curvature='finite_difference') and pass closure= (the step's loss on the same "
                        "batch): the curvature then comes from a central finite difference of the gradient, two "
                        "extra forward and backward passes per param group on curvature steps and no double-backward "
                        "graph; or run the model's attention with torch.nn.attention.sdpa_kernel(SDPBackend.MATH) "
                        "on the steps where driver.wants_curvature()") from error
                self.hvp_count += 1
                for v, hv in zip(vectors, products):
                    if hv is not None:
                        total = total + _dot(torch, v, hv, self.dtype).to(self.device)
            # A GradScaler's scale (a power of two at its defaults: then the division is exact;
            # otherwise one rounding).
            if self.graph_scale != 1.0:
                total = total / self.graph_scale
            out.append(total)
        return self._host(out)

    def _finite_difference_curvatures(self) -> list[float]:
        torch = self.torch
        live_by_group = [[(p, d) for p, d in zip(params, dirs) if d is not None]
                         for params, dirs in zip(self.params_by_group, self.dirs_by_group)]
        squares = []
        for live in live_by_group:
            w2, d2 = self._zero(), self._zero()
            for p, d in live:
                w2 = w2 + _dot(torch, p.detach(), p.detach(), self.dtype).to(self.device)
                d2 = d2 + _dot(torch, d, d, self.dtype).to(self.device)
            squares += [w2, d2]
        squares = self._host(squares)
        out = []
        with _RandomReplay(torch, self.device) as random:
            for k, live in enumerate(live_by_group):
                w_norm, d_norm = math.sqrt(squares[2 * k]), math.sqrt(squares[2 * k + 1])
                if not live or d_norm == 0.0:
                    out.append(self._zero())  # d_k = 0 (or underflows): d_kᵀHd_k = 0
                    continue
                if not (math.isfinite(d_norm) and math.isfinite(w_norm)):
                    out.append(self._zero() + math.nan)  # the library reports it as non-finite
                    continue
                epsilon = max(torch.finfo(p.dtype).eps for p, _ in live)
                step = finite_difference_step(epsilon, w_norm, d_norm)
                try:
                    self._shift(live, -step)  # w + ε d
                    random.rewind()
                    plus = self._directional_derivative(live)
                    self._shift(live, step)  # w − ε d
                    random.rewind()
                    minus = self._directional_derivative(live)
                finally:
                    self._restore(live)
                self.hvp_count += 1
                out.append((plus - minus) / (2.0 * step))
        return self._host(out)

    def _shift(self, live, xi: float) -> None:
        """The group's parameters ← round(w − ξ·d), from the saved w."""
        torch = self.torch
        with torch.no_grad():
            for p, d in live:
                self._write_trial(p, self._save(p), d, xi)

    def _write_trial(self, p, original, d, xi: float) -> None:
        """p ← round(float64(w) − ξ·float64(d)) in the work buffers: the operations of
        ``original.to(work) − d.to(work)·ξ``, in the same order, bit for bit, with no allocation."""
        trial, step = self._work_buffers(p)
        step.copy_(d.detach())
        step.mul_(xi)
        trial.copy_(original)
        trial.sub_(step)
        p.copy_(trial)

    def _work_buffers(self, p):
        """Two views shaped like ``p`` into the scratch buffers of (p's device, its work dtype),
        grown to the largest parameter seen; the views of each (device, dtype, shape) are kept
        with the buffers they view (a buffer that grows gets new ones), so a repeated shape costs
        one dictionary lookup."""
        shape_key = (p.device, p.dtype, tuple(p.shape))
        views = self._scratch.get(shape_key)
        if views is not None and self._scratch.get(views[0]) is views[1]:
            return views[2], views[3]
        key = (p.device, _work_dtype(self.torch, p))
        pair = self._scratch.get(key)
        n = p.numel()
        if pair is None or pair[0].numel() < n:
            pair = self._scratch[key] = tuple(self.torch.empty(n, dtype=key[1], device=p.device) for _ in range(2))
        views = self._scratch[shape_key] = (key, pair, pair[0][:n].view(p.shape), pair[1][:n].view(p.shape))
        return views[2], views[3]

    def _restore(self, live) -> None:
        with self.torch.no_grad():
            for p, _ in live:
                entry = self._saved.get(id(p))
                if entry is not None:  # parameters not saved yet were not moved
                    p.copy_(entry[1])

    def _directional_derivative(self, live):
        """dᵀ∇L at the weights as they are, summed over the curvature closures (a device scalar).
        The gradient is taken with autograd.grad: p.grad is untouched and no DDP hook fires."""
        torch = self.torch
        params = [p for p, _ in live]
        total = self._zero()
        for closure in self.curvature_closures:
            with torch.enable_grad(), self.no_sync():
                with _GradientsSetAside(self.params_by_group):
                    loss = closure()
                if not isinstance(loss, torch.Tensor) or not loss.requires_grad:
                    raise TypeError(
                        "the finite-difference curvature differentiates closure()'s loss: the closure must return "
                        "the loss as a tensor with its graph (a forward pass with grad enabled, not .item() and "
                        f"not under torch.no_grad()), got {type(loss).__name__}"
                        + ("" if not isinstance(loss, torch.Tensor) else " without a graph"))
                grads = torch.autograd.grad(_scalar_loss(loss, "the closure's loss"), params, allow_unused=True)
            self.gradient_count += 1
            for (_, d), g in zip(live, grads):
                if g is not None:
                    total = total + _dot(torch, d, g, self.dtype).to(self.device)
        return total

    # -- losses at trial weights -----------------------------------------------------------------

    def _save(self, p):
        entry = self._saved.get(id(p))
        if entry is None:
            entry = self._saved[id(p)] = (p, p.detach().clone())
        return entry[1]

    def set_trial(self, steps) -> None:
        torch = self.torch
        with torch.no_grad():
            for k, p, d in self._group_of.values():
                original = self._save(p)
                xi = float(steps[k])
                if xi == 0.0:
                    p.copy_(original)
                    continue
                self._write_trial(p, original, d, xi)

    def loss(self) -> float:
        torch = self.torch
        if self.closures is None:
            raise RuntimeError("the step needs the loss at trial weights: pass closure=")
        tensors, total = [], 0.0
        with torch.no_grad():
            for closure in self.closures:
                value = closure()
                if isinstance(value, torch.Tensor):
                    tensors.append(_scalar_loss(value.detach(), "the closure's loss").to(device=self.device,
                                                                                        dtype=self.dtype))
                else:
                    total += float(value)
        self.loss_count += 1
        if tensors:
            total += float(torch.stack(tensors).sum().cpu().to(torch.float64))
        return total

    def restore(self) -> None:
        with self.torch.no_grad():
            for p, original in self._saved.values():
                p.copy_(original)

    def _all_reduce(self, values) -> list[float]:
        torch = self.torch
        tensor = torch.tensor(list(values), dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.SUM, group=self.process_group)
        return tensor.cpu().tolist()
