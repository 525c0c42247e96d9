"""What the library's rules need to know about a torch optimizer's dynamics.

``auto`` divides its first bracket by the optimizer's steady-state gain (the library computes it,
``OptimizerDynamics`` in the core, from these options): :func:`optimizer_options` reads them from
the optimizer's param groups, so the mapping from torch's names to the library's is written once.
"""

from __future__ import annotations

__all__ = ["optimizer_options"]


def _float(x) -> float:
    return float(x.item()) if hasattr(x, "item") else float(x)


def optimizer_options(optimizer) -> dict:
    """``{"optimizer", "momentum", "dampening", "nesterov"}`` for ``auto`` from a torch optimizer:
    SGD's momentum / dampening / nesterov, Adam's and AdamW's β₁ (optimizer 1). Other optimizer
    classes (registered with :func:`hessianlr.torch_directions.register_update_rule`) get the
    plain-SGD values (gain 1). The param groups must agree (the library's auto has one set);
    ValueError names the first group that differs."""
    import torch

    from .constants import Optimizer

    def of(group) -> dict:
        if isinstance(optimizer, torch.optim.SGD):
            return {"optimizer": int(Optimizer.SGD), "momentum": _float(group.get("momentum", 0)),
                    "dampening": _float(group.get("dampening", 0)), "nesterov": int(bool(group.get("nesterov", False)))}
        if isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW)):
            return {"optimizer": int(Optimizer.ADAM), "momentum": _float(group["betas"][0]), "dampening": 0.0,
                    "nesterov": 0}
        return {"optimizer": int(Optimizer.SGD), "momentum": 0.0, "dampening": 0.0, "nesterov": 0}

    first = of(optimizer.param_groups[0])
    for k, group in enumerate(optimizer.param_groups[1:], start=1):
        if of(group) != first:
            raise ValueError(f"param group {k}'s optimizer coefficients {of(group)} differ from group 0's {first}; "
                             "auto takes one set (pass optimizer=, momentum=, dampening=, nesterov= yourself)")
    return first
