"""The update direction u of a torch optimizer, computed WITHOUT stepping it.

For a step ``optimizer.step()`` at learning rate η the supported optimizers move every parameter
by an amount linear in η: p ← p − η·u. This module computes that u (per unit of learning rate)
from the gradient just computed and the optimizer's current state, changing nothing (no state is
created, no buffer updated). The quadratic models of the tuners along u (gᵀu, uᵀHu, losses at
w − ξ·u) then describe exactly the step the optimizer will take with the rate the tuner returns.

Supported, with every option of the param group honoured (torch 2.x semantics, single-tensor
math; foreach/fused/capturable implementations compute the same quantities):

- ``torch.optim.SGD``: d = g (−g with maximize) + weight_decay·p; with momentum μ,
  b = d on the first step, else μ·b_prev + (1 − dampening)·d; u = d + μ·b (nesterov) or b.
  Without momentum and weight decay, u is g itself (no copy).
- ``torch.optim.Adam`` / ``torch.optim.AdamW``: with t = state step + 1, d = g (−g with
  maximize) + weight_decay·p unless decoupled, m = lerp(m_prev, d, 1 − β₁),
  v = β₂·v_prev + (1 − β₂)·d², v̂ = max(v_max_prev, v) with amsgrad,
  u = (m / (1 − β₁ᵗ)) / (√v̂ / √(1 − β₂ᵗ) + ε), plus weight_decay·p when decoupled (AdamW,
  or Adam(decoupled_weight_decay=True)): AdamW's p·(1 − η·λ) is p − η·λ·p.

:func:`optimizer_options` reads the coefficients of the optimizer's dynamics that ``auto``
needs (its first bracket divides by the steady-state gain the library computes from them,
``OptimizerDynamics`` in the core), so the mapping from torch's names to the library's is
written once, next to the update it describes.

Other optimizers (RMSprop, Adagrad, NAdam, RAdam, Adamax, others' packages) have their update
measured by a dry run of their own step (:mod:`hessianlr.torch_measured_update`: exact to the
rounding of the step, at the cost of one optimizer step and a copy of the parameters and state
per measurement); one whose step needs a closure (LBFGS) is refused with
UnsupportedOptimizerError. :func:`register_update_rule` adds a closed-form rule for a class
(no dry run). Exact subclasses of the supported classes are matched only if they do not
override ``step``. Complex and sparse parameters are refused by the built-in rules. u agrees
with the optimizer's actual step to rounding (float64: ~1e-15 relative).
"""

from __future__ import annotations

from typing import Callable

from .torch_measured_update import check_measurable, measured_updates

__all__ = ["UnsupportedOptimizerError", "register_update_rule", "update_rule", "is_plain_sgd", "update_directions",
           "builds_fresh_tensors", "is_measured", "optimizer_options"]


class UnsupportedOptimizerError(TypeError):
    """The optimizer's update direction cannot be computed without stepping it."""


#: class → rule(optimizer, group, params, grads) → list of u (None where the grad is None).
_RULES: dict[type, Callable] = {}


def register_update_rule(cls: type, rule: Callable) -> None:
    """Registers ``rule(optimizer, group, params, grads) -> list[Tensor | None]`` for optimizer
    class ``cls``: for each parameter the u with p_new = p − lr·u of ``optimizer.step()``
    (None for parameters whose gradient is None). It must not change the optimizer."""
    _RULES[cls] = rule


def _float(x) -> float:
    return float(x.item()) if hasattr(x, "item") else float(x)


def _check_param(p, g) -> None:
    if p.is_complex():
        raise UnsupportedOptimizerError("complex parameters are not supported for direction 'update'")
    if g.is_sparse:
        raise UnsupportedOptimizerError("sparse gradients are not supported for direction 'update'")


def _per_parameter(params, grads, direction: Callable) -> list:
    """``direction(p, g)`` of every parameter, the pair checked first; None where g is None."""
    out = []
    for p, g in zip(params, grads):
        if g is None:
            out.append(None)
            continue
        _check_param(p, g)
        out.append(direction(p, g))
    return out


def is_plain_sgd(optimizer, group) -> bool:
    """SGD without momentum, weight decay or maximize: u = g."""
    import torch

    return (
        type(optimizer).step is torch.optim.SGD.step
        and isinstance(optimizer, torch.optim.SGD)
        and _float(group.get("momentum", 0)) == 0
        and _float(group.get("weight_decay", 0)) == 0
        and not group.get("maximize", False)
    )


def _sgd(optimizer, group, params, grads):
    momentum = _float(group.get("momentum", 0))
    dampening = _float(group.get("dampening", 0))
    weight_decay = group.get("weight_decay", 0)
    nesterov = bool(group.get("nesterov", False))
    maximize = bool(group.get("maximize", False))

    def direction(p, g):
        d = -g if maximize else g
        if _float(weight_decay) != 0:
            d = d.add(p.detach(), alpha=_float(weight_decay))
        if momentum != 0:
            buf = optimizer.state.get(p, {}).get("momentum_buffer")
            new = d.clone() if buf is None else buf.mul(momentum).add_(d, alpha=1 - dampening)
            d = d.add(new, alpha=momentum) if nesterov else new
        return d

    return _per_parameter(params, grads, direction)


def _adam(optimizer, group, params, grads):
    import torch

    beta1, beta2 = (_float(b) for b in group["betas"])
    eps = _float(group["eps"])
    weight_decay = _float(group.get("weight_decay", 0))
    amsgrad = bool(group.get("amsgrad", False))
    maximize = bool(group.get("maximize", False))
    decoupled = bool(group.get("decoupled_weight_decay", False)) or isinstance(optimizer, torch.optim.AdamW)

    def direction(p, g):
        state = optimizer.state.get(p, {})
        t = _float(state["step"]) + 1 if "step" in state else 1.0
        d = -g if maximize else g
        if weight_decay != 0 and not decoupled:
            d = d.add(p.detach(), alpha=weight_decay)
        m_prev = state.get("exp_avg")
        v_prev = state.get("exp_avg_sq")
        m = d.mul(1 - beta1) if m_prev is None else torch.lerp(m_prev, d, 1 - beta1)
        v = d.mul(d).mul_(1 - beta2) if v_prev is None else v_prev.mul(beta2).addcmul_(d, d, value=1 - beta2)
        if amsgrad and state.get("max_exp_avg_sq") is not None:
            v = torch.maximum(state["max_exp_avg_sq"], v)
        bias1 = 1 - beta1**t
        bias2_sqrt = (1 - beta2**t) ** 0.5
        # u = (m / bias1) / (√v / bias2_sqrt + eps), the operations in this order, in place on m
        # and v (fresh tensors above, never the optimizer's state): bit for bit the out-of-place
        # expression, with two allocations fewer per parameter
        denominator = v.sqrt_().div_(bias2_sqrt).add_(eps)
        u = m.div_(bias1).div_(denominator)
        if weight_decay != 0 and decoupled:
            u.add_(p.detach(), alpha=weight_decay)
        return u

    return _per_parameter(params, grads, direction)


def _measured(optimizer, group, params, grads):  # the marker of the dry-run path; never called per group
    raise AssertionError("measured updates are taken for all groups at once (update_directions)")


def update_rule(optimizer) -> Callable:
    """The rule of ``optimizer``'s class: a registered or built-in one, else the dry-run
    measurement (:mod:`hessianlr.torch_measured_update`); UnsupportedOptimizerError for an
    optimizer whose step cannot be dry-run (it needs a closure)."""
    import torch

    for base, rule in ((torch.optim.SGD, _sgd), (torch.optim.Adam, _adam), (torch.optim.AdamW, _adam)):
        _RULES.setdefault(base, rule)  # the built-in rules, unless registered over
    cls = type(optimizer)
    if cls in _RULES:
        return _RULES[cls]
    for base, rule in _RULES.items():
        if isinstance(optimizer, base) and cls.step is base.step:
            return rule
    check_measurable(optimizer, UnsupportedOptimizerError)
    return _measured


def is_measured(optimizer) -> bool:
    """Whether ``optimizer``'s update is measured by a dry run of its step (no rule for its class)."""
    return update_rule(optimizer) is _measured


def builds_fresh_tensors(optimizer) -> bool:
    """Whether ``optimizer``'s u is a tensor of its own (never the optimizer's state) wherever it
    is not the gradient itself (plain SGD): the built-in rules and the dry-run measurement; a
    registered rule promises nothing about that."""
    return update_rule(optimizer) in (_sgd, _adam, _measured)


def update_directions(optimizer, groups, grads_by_group) -> list[list]:
    """u per parameter, per param group (``groups`` are the param-group dicts, ``grads_by_group``
    the detached gradients of their trainable parameters, None where unused)."""
    rule = update_rule(optimizer)
    params_by_group = [[p for p in group["params"] if p.requires_grad] for group in groups]
    if rule is _measured:
        return measured_updates(optimizer, groups, params_by_group, grads_by_group, check=_check_param,
                                error=UnsupportedOptimizerError)
    result = []
    for group, params, grads in zip(groups, params_by_group, grads_by_group):
        if is_plain_sgd(optimizer, group):
            result.append(list(grads))
        else:
            result.append(rule(optimizer, group, params, grads))
    return result


# -- the optimizer's dynamics, for auto -----------------------------------------------------------

def optimizer_options(optimizer) -> dict:
    """``{"optimizer", "momentum", "dampening", "nesterov"}`` for ``auto`` from a torch optimizer:
    SGD's momentum / dampening / nesterov, Adam's and AdamW's β₁ (optimizer 1). Other classes
    by their param group's coefficients: ``betas`` (NAdam, RAdam, Adamax, Adam-likes of other
    packages: a bias-corrected or sign-normalised first moment) as Adam with β₁ = betas[0];
    else ``momentum`` (RMSprop's buffer b ← μ·b + g/√v̄ is heavy ball on a preconditioned
    gradient) as heavy ball with that μ; else (Adagrad, Adadelta, ...) plain SGD's values, gain 1.
    The param groups must agree (the library's auto has one set); ValueError names the first group
    that differs."""
    import torch

    from .constants import Optimizer

    def of(group) -> dict:
        if isinstance(optimizer, torch.optim.SGD):
            return {"optimizer": int(Optimizer.SGD), "momentum": _float(group.get("momentum", 0)),
                    "dampening": _float(group.get("dampening", 0)), "nesterov": int(bool(group.get("nesterov", False)))}
        if isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW)):
            return {"optimizer": int(Optimizer.ADAM), "momentum": _float(group["betas"][0]), "dampening": 0.0,
                    "nesterov": 0}
        if "betas" in group:
            return {"optimizer": int(Optimizer.ADAM), "momentum": _float(group["betas"][0]), "dampening": 0.0,
                    "nesterov": 0}
        return {"optimizer": int(Optimizer.SGD), "momentum": _float(group.get("momentum", 0) or 0), "dampening": 0.0,
                "nesterov": 0}

    first = of(optimizer.param_groups[0])
    for k, group in enumerate(optimizer.param_groups[1:], start=1):
        if of(group) != first:
            raise ValueError(f"param group {k}'s optimizer coefficients {of(group)} differ from group 0's {first}; "
                             "auto takes one set (pass optimizer=, momentum=, dampening=, nesterov= yourself)")
    return first
