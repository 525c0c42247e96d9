"""The torch side of the library's step driver: :class:`TorchStepBackend`.

``hlr_tuner_step`` runs the loop, assembles the observations and applies the failure policy
(:mod:`hessianlr._step_ops`); this backend does the tensor work on the parameters' device and
hands the library only scalars. Per parameter group k, with g_k the gradient and d_k the
direction on the group's trainable parameters (zero elsewhere):

- ``slopes``: s_k = g_kᵀd_k, accumulated in float64 (float32 on MPS), one host transfer.
- ``curvatures``: c_k = d_kᵀ H d_k with ONE Hessian-vector product per group: a second
  ``autograd.grad`` of the group's gradients (built with ``create_graph=True``) w.r.t. the
  group's parameters with ``grad_outputs = d_k`` gives H_kk·d_k (H d̂_k restricted to the
  group); d is treated as a constant (detached). One host transfer.
- ``set_trial(ξ)``: each parameter is overwritten IN PLACE, under ``torch.no_grad()``, with
  round(float64(w) − ξ_k·float64(d)) (one rounding to the parameter's dtype, like the library's
  host mode), from a copy of w saved at the first trial; ξ_k = 0 copies w back bit for bit.
- ``loss``: the closure's loss at the parameters as they are (a forward pass under no_grad).
- ``restore``: copies the saved w back (the library calls it after every set of trials and on
  every exit path after one, so the weights are w again when the step returns or raises).
- ``all_reduce`` (only when given a process group): ``torch.distributed.all_reduce`` (SUM) of
  the few scalars of an observation, in float64 on the parameters' device.
"""

from __future__ import annotations

from typing import Callable

__all__ = ["accumulation_dtype", "TorchStepBackend"]


def accumulation_dtype(torch, device):
    return torch.float32 if device.type == "mps" else torch.float64


def _dot(torch, a, b, dtype):
    return torch.dot(a.reshape(-1).to(dtype), b.reshape(-1).to(dtype))


def _work_dtype(torch, p):
    if p.device.type == "mps":
        return p.dtype
    return torch.float64 if p.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64) else p.dtype


class TorchStepBackend:
    """A step backend (:mod:`hessianlr._step_ops`) over a torch model's parameters.

    ``params_by_group``: the trainable parameters of each group; ``grads_by_group``: their
    gradients (built with ``create_graph=True`` when the step may need curvature, else
    detached; None where the loss does not reach a parameter); ``dirs_by_group``: the direction
    d per parameter (detached); ``closure``: the forward-only loss used by ``loss``;
    ``graph``: whether ``grads_by_group`` carry the double-backward graph; ``process_group``:
    a ``torch.distributed`` process group whose processes the observations are averaged over
    (None: one process).

    Counters: ``hvp_count`` (HVPs), ``loss_count`` (closure calls).
    """

    def __init__(self, torch, params_by_group, grads_by_group, dirs_by_group, *, closure: Callable | None,
                 graph: bool, device, process_group=None):
        self.torch = torch
        self.params_by_group = params_by_group
        self.grads_by_group = grads_by_group
        self.dirs_by_group = dirs_by_group
        self.closure = closure
        self.graph = graph
        self.device = device
        self.dtype = accumulation_dtype(torch, device)
        self.hvp_count = 0
        self.loss_count = 0
        self._saved: dict = {}  # id(p) → (p, clone of w)
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

    def slopes(self) -> list[float]:
        torch = self.torch
        out = []
        for grads, dirs in zip(self.grads_by_group, self.dirs_by_group):
            total = torch.zeros((), dtype=self.dtype, device=self.device)
            for g, d in zip(grads, dirs):
                if g is not None and d is not None:
                    total = total + _dot(torch, g.detach(), d, self.dtype).to(self.device)
            out.append(total)
        return self._host(out)

    def curvatures(self) -> list[float]:
        torch = self.torch
        if not self.graph:
            raise RuntimeError("the step needs curvature but its gradient was computed without the "
                               "double-backward graph (create_graph=False)")
        live_by_group = [[(p, g, d) for p, g, d in zip(params, grads, dirs)
                          if g is not None and d is not None and g.requires_grad]
                         for params, grads, dirs in zip(self.params_by_group, self.grads_by_group, self.dirs_by_group)]
        last = max((k for k, live in enumerate(live_by_group) if live), default=-1)
        out = []
        for k, live in enumerate(live_by_group):
            total = torch.zeros((), dtype=self.dtype, device=self.device)
            if live:
                vectors = [d.detach() for _, _, d in live]
                products = torch.autograd.grad([g for _, g, _ in live], [p for p, _, _ in live],
                                               grad_outputs=vectors, retain_graph=k < last, allow_unused=True)
                self.hvp_count += 1
                for v, hv in zip(vectors, products):
                    if hv is not None:
                        total = total + _dot(torch, v, hv, self.dtype).to(self.device)
            out.append(total)
        return self._host(out)

    def set_trial(self, steps) -> None:
        torch = self.torch
        with torch.no_grad():
            for k, p, d in self._group_of.values():
                entry = self._saved.get(id(p))
                if entry is None:
                    entry = self._saved[id(p)] = (p, p.detach().clone())
                original = entry[1]
                xi = float(steps[k])
                if xi == 0.0:
                    p.copy_(original)
                    continue
                work = _work_dtype(torch, p)
                p.copy_(original.to(work) - d.detach().to(work) * xi)

    def loss(self) -> float:
        torch = self.torch
        if self.closure is None:
            raise RuntimeError("the step needs the loss at trial weights: pass closure=")
        with torch.no_grad():
            value = self.closure()
        self.loss_count += 1
        if isinstance(value, torch.Tensor):
            return float(value.detach().reshape(()).to(torch.float64).cpu())
        return float(value)

    def restore(self) -> None:
        with self.torch.no_grad():
            for p, original in self._saved.values():
                p.copy_(original)

    def _all_reduce(self, values) -> list[float]:
        torch = self.torch
        tensor = torch.tensor(list(values), dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.SUM, group=self.process_group)
        return tensor.cpu().tolist()
