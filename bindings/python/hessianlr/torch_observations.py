"""The observations of the general protocol, computed with torch on the tensors' device.

Only scalars leave the device: each function returns device scalars (or a few floats), and the
driver moves one observation to the host in one transfer. Per parameter group k, with g_k the
gradient and d_k the direction on the group's trainable parameters (zero elsewhere):

- :func:`slopes`: s_k = g_kᵀd_k, accumulated in float64 (float32 on MPS).
- :func:`curvatures`: c_k = d_kᵀ H d_k with ONE Hessian-vector product per group: a second
  ``autograd.grad`` of the group's gradients (built with ``create_graph=True``) w.r.t. the
  group's parameters with ``grad_outputs = d_k`` gives H_kk·d_k = (H d̂_k) restricted to the
  group; d is treated as a constant (detached).
- :func:`probe_losses`: L(w − Σ_k ξ_jk·d_k) for each probe row j, by forward passes under
  ``torch.no_grad()`` at perturbed weights: each parameter is overwritten IN PLACE with
  round(float64(w) − ξ·float64(d)) (one rounding to the parameter's dtype, like the library's
  host mode) and finally restored by copying back a saved clone, so the weights are bit for bit
  what they were (also when the closure raises). A row of zeros uses the current loss.
"""

from __future__ import annotations

__all__ = ["accumulation_dtype", "slopes", "curvatures", "probe_losses"]


def accumulation_dtype(torch, device):
    return torch.float32 if device.type == "mps" else torch.float64


def _dot(torch, a, b, dtype):
    return torch.dot(a.reshape(-1).to(dtype), b.reshape(-1).to(dtype))


def slopes(torch, grads_by_group, dirs_by_group, device) -> list:
    """[s_0, s_1, …] as device scalars."""
    dtype = accumulation_dtype(torch, device)
    out = []
    for grads, dirs in zip(grads_by_group, dirs_by_group):
        total = torch.zeros((), dtype=dtype, device=device)
        for g, d in zip(grads, dirs):
            if g is not None and d is not None:
                total = total + _dot(torch, g.detach(), d, dtype).to(device)
        out.append(total)
    return out


def curvatures(torch, params_by_group, graph_grads_by_group, dirs_by_group, device) -> tuple[list, int]:
    """([c_0, c_1, …] as device scalars, number of HVPs). ``graph_grads_by_group`` are the
    gradients built with ``create_graph=True``; groups without a gradient that depends on the
    parameters get c = 0 and no HVP."""
    dtype = accumulation_dtype(torch, device)
    live_by_group = []
    for params, grads, dirs in zip(params_by_group, graph_grads_by_group, dirs_by_group):
        live_by_group.append([(p, g, d) for p, g, d in zip(params, grads, dirs)
                              if g is not None and d is not None and g.requires_grad])
    last = max((k for k, live in enumerate(live_by_group) if live), default=-1)
    out, hvps = [], 0
    for k, live in enumerate(live_by_group):
        total = torch.zeros((), dtype=dtype, device=device)
        if live:
            vectors = [d.detach() for _, _, d in live]
            products = torch.autograd.grad(
                [g for _, g, _ in live],
                [p for p, _, _ in live],
                grad_outputs=vectors,
                retain_graph=k < last,
                allow_unused=True,
            )
            hvps += 1
            for v, hv in zip(vectors, products):
                if hv is not None:
                    total = total + _dot(torch, v, hv, dtype).to(device)
        out.append(total)
    return out, hvps


def _work_dtype(torch, p):
    if p.device.type == "mps":
        return p.dtype
    return torch.float64 if p.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64) else p.dtype


def probe_losses(torch, params_by_group, dirs_by_group, probes, closure, current_loss) -> tuple[list, int]:
    """(losses as device scalars, closure calls) at the probe rows ``probes`` (m × K numpy).
    Zero rows reuse ``current_loss``, or, when it is None, call the closure at w itself."""
    moved = [(p, d) for params, dirs in zip(params_by_group, dirs_by_group)
             for p, d in zip(params, dirs) if d is not None]
    group_of = {}
    for k, (params, dirs) in enumerate(zip(params_by_group, dirs_by_group)):
        for p, d in zip(params, dirs):
            if d is not None:
                group_of[id(p)] = k
    saved = {}
    losses, calls = [], 0
    try:
        with torch.no_grad():
            for row in probes:
                if not row.any() and current_loss is not None:
                    losses.append(current_loss)
                    continue
                for p, d in moved:
                    xi = float(row[group_of[id(p)]])
                    if id(p) not in saved:
                        saved[id(p)] = (p, p.detach().clone())
                    original = saved[id(p)][1]
                    if xi == 0.0:
                        p.copy_(original)
                        continue
                    work = _work_dtype(torch, p)
                    step = d.detach().to(work) * xi
                    p.copy_(original.to(work) - step)
                value = closure()
                calls += 1
                if not isinstance(value, torch.Tensor):
                    value = torch.as_tensor(float(value), dtype=torch.float64)
                losses.append(value.detach().reshape(()))
    finally:
        with torch.no_grad():
            for p, original in saved.values():
                p.copy_(original)
    return losses, calls
