"""The update u of any torch optimizer, measured by a dry run of its own ``step()``.

For an optimizer class without a closed-form rule (:mod:`hessianlr.torch_directions` has SGD,
Adam and AdamW, and :func:`~hessianlr.torch_directions.register_update_rule` adds others), the
driver measures the update instead of computing it: it saves the parameters, the optimizer's
per-parameter state and its param-group settings, runs the class's ``step()`` once with the
gradients in ``p.grad``, reads

    u = (w − w′) / η        per parameter, in the parameter's dtype (η its group's rate),

and puts everything back (parameters and state tensors restored in place, so their identity is
kept; state entries the step created are removed; group settings restored). This is exact for
every optimizer whose step is linear in its rate (p ← p − η·u(g, state): RMSprop, Adagrad,
Adadelta, Adamax, NAdam, RAdam, Lion-like sign methods and Adam-likes from other packages), to
the rounding of w − w′: the difference of two nearby floats is exact (Sterbenz),
so u carries the rounding of the step itself, a relative error about ε·|w|/(η·|u|) per element
(ε the dtype's epsilon). That is small while the step is many ulps of the weights, and not at
small rates: float32 weights near 3 under RMSprop gave 1e-3 relative error at η = 1e-5, 5e-2 at
η = 1e-7, and u = 0 exactly (every element) at η = 1e-9, where η·|u| is below half an ulp of |w|
(NAdam already at 1e-7). auto copes (its bracket moves the rate up when the probes along a zero
update all return the current loss, until the step resolves); a fixed-rate method measures along
whatever u rounded to. Where the step is not linear in
η (Rprop's own step sizes; ASGD, whose step uses an η it stored from the previous rate), u is
the step at the current rate divided by it, and a rate the tuner changes moves the weights by
other than −η·u (ASGD: 9× off after a tenfold change, measured by a review script).

Side effects avoided: the dry run calls the class's step function itself, not the instance's
attribute, below torch's hook wrapper and with the optimizer's and torch's global step hooks set
aside, so step pre/post hooks (an EMA of the weights, say) and an LR scheduler's step counter do
not see it; the parameters' autograd version counters are put back, so that a double-backward
graph in p.grad stays usable (graph curvature of HessianLR or CDAT). Cost per measurement: one optimizer step, one
copy of the parameters and of the state tensors (transient; e.g. 3× the parameters for Adam-like
state), once per observing step that needs the step's own update; auto, which probes along the
previous update, needs it only at its first step (the bracket) and otherwise reads the update
actually taken from the weights, (w_t − w_{t+1})/η_t (``LRTuner._taken_update``).

Refused (UnsupportedOptimizerError, at construction): an optimizer whose ``step`` needs a
closure (LBFGS: it evaluates the loss itself, so a dry run would train).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import math

__all__ = ["measured_updates", "check_measurable", "own_step_size"]

#: Packages whose optimizers estimate their own step size (learning-rate-free methods): a tuner's
#: rate multiplies that estimate, and the two adapt against each other.
SELF_TUNING_PACKAGES = ("prodigyopt", "dadaptation", "schedulefree")


def own_step_size(optimizer) -> str | None:
    """The class name of ``optimizer`` when it comes from a learning-rate-free package
    (``SELF_TUNING_PACKAGES``: Prodigy, D-Adaptation, Schedule-Free), else None. Such an optimizer
    sets its step from its own running estimate (Prodigy's and D-Adaptation's d, grown between
    steps); a rate set on top scales that estimate while it keeps changing, so the tuner's
    measurements go stale between observations (auto with Prodigy on a tiny regression: the loss
    rose from 1.1 to 4·10⁴ in 40 steps, ``test_torch_measured_update``)."""
    package = type(optimizer).__module__.split(".")[0]
    return type(optimizer).__name__ if package in SELF_TUNING_PACKAGES else None


def _step_function(optimizer):
    """The class's step function without torch's hook wrapper (``Optimizer._patch_step_function``
    wraps the class's step once with functools.wraps and marks it ``hooked``)."""
    step = type(optimizer).step
    if getattr(step, "hooked", False) and hasattr(step, "__wrapped__"):
        step = step.__wrapped__
    return step


def _needs_closure(optimizer) -> bool:
    try:
        parameters = list(inspect.signature(_step_function(optimizer)).parameters.values())[1:]
    except (TypeError, ValueError):  # no signature to read: try it
        return False
    return any(p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               for p in parameters)


def check_measurable(optimizer, error) -> None:
    """Raises ``error`` (an exception class) when ``optimizer``'s step cannot be dry-run."""
    if _needs_closure(optimizer):
        raise error(
            f"{type(optimizer).__name__}.step needs a closure (it evaluates the loss itself), so its update cannot "
            "be measured without training; use an optimizer whose step takes the gradient in p.grad, or "
            "hessianlr.torch_directions.register_update_rule to give its update")


def _restore_state(state: dict, saved: dict) -> None:
    """``state`` (one parameter's optimizer state) back to ``saved``, its tensors in place."""
    for key in [k for k in state if k not in saved]:
        del state[key]
    for key, value in saved.items():
        current = state.get(key)
        if (hasattr(value, "copy_") and hasattr(current, "copy_") and current.shape == value.shape
                and current.dtype == value.dtype and current.device == value.device):
            current.copy_(value)
        else:
            state[key] = value


@contextlib.contextmanager
def _hooks_silenced(optimizer):
    """No step hook runs inside: the optimizer's own pre/post hooks and torch's global ones are set
    aside (a subclass whose step calls ``super().step()`` goes through the base class's hooked
    wrapper again) and put back afterwards, also on an exception."""
    from torch.optim import optimizer as module

    tables = [getattr(optimizer, name, None) for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks")]
    tables += [getattr(module, name, None) for name in ("_global_optimizer_pre_hooks", "_global_optimizer_post_hooks")]
    tables = [t for t in tables if isinstance(t, dict)]
    kept = [dict(t) for t in tables]
    for table in tables:
        table.clear()
    try:
        yield
    finally:
        for table, entries in zip(tables, kept):
            table.clear()
            table.update(entries)


def _restore_versions(torch, params, versions, grads_by_group, error) -> None:
    """Puts the parameters' autograd version counters back to ``versions``: the dry run wrote
    them and wrote the same bits back, but a double-backward graph in p.grad checks the counter
    (it would refuse "modified by an inplace operation"). Without torch's setter, a graph in
    p.grad cannot be kept valid: ``error`` names the way out."""
    setter = getattr(getattr(torch._C, "_autograd", None), "_unsafe_set_version_counter", None)
    if setter is not None:
        setter(tuple(params), tuple(versions))
        return
    if any(g is not None and g.requires_grad for grads in grads_by_group for g in grads):
        raise error(
            "this torch has no torch._C._autograd._unsafe_set_version_counter: measuring the update of an optimizer "
            "without a closed-form rule would invalidate the double-backward graph in p.grad; use "
            "curvature='finite_difference' (and no create_graph)")


def measured_updates(optimizer, groups, params_by_group, grads_by_group, *, check=None,
                     error=RuntimeError) -> list[list]:
    """u per parameter, per param group (None where the gradient is None), from one dry run of
    ``optimizer.step()`` with the gradients in ``p.grad``; the optimizer, the parameters (values
    and autograd version counters) and the step hooks are left as they were, also when the step
    raises. ``check(p, g)`` runs first for every parameter with a gradient and may raise,
    changing nothing (the driver passes the closed-form rules' own refusal of complex parameters
    and sparse gradients); ``error``: the exception class when a double-backward graph in p.grad
    cannot be kept valid (see ``_restore_versions``)."""
    import torch

    if check is not None:
        for params, grads in zip(params_by_group, grads_by_group):
            for p, g in zip(params, grads):
                if g is not None:
                    check(p, g)
    every = [p for group in optimizer.param_groups for p in group["params"]]
    versions = [p._version for p in every]
    saved = [p.detach().clone() for p in every]
    states = {id(p): copy.deepcopy(optimizer.state[p]) for p in every if p in optimizer.state}
    settings = [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
    rates = []
    for group in groups:
        rate = float(group["lr"])
        rates.append(rate if math.isfinite(rate) and rate > 0 else 1.0)
    try:
        for group, rate in zip(groups, rates):
            group["lr"] = rate
        with torch.no_grad(), _hooks_silenced(optimizer):
            _step_function(optimizer)(optimizer)
            before = {id(p): w for p, w in zip(every, saved)}
            return [[None if g is None else (before[id(p)] - p.detach()).div_(rate) for p, g in zip(params, grads)]
                    for params, grads, rate in zip(params_by_group, grads_by_group, rates)]
    finally:
        with torch.no_grad():
            for p, w in zip(every, saved):
                p.copy_(w)
        for p in every:
            if id(p) in states:
                _restore_state(optimizer.state[p], states[id(p)])
            elif p in optimizer.state:
                del optimizer.state[p]
        for group, setting in zip(optimizer.param_groups, settings):
            for key in [k for k in group if k != "params" and k not in setting]:
                del group[key]
            group.update(setting)
        _restore_versions(torch, every, versions, grads_by_group, error)
