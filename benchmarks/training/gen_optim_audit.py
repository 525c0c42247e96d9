"""Fairness audit of the two GeN implementations, measured (not assumed) on a small MLP.

gen-optim's ``lr_parabola`` calls ``optimizer.step()`` itself (to reach w_t − lr·u), probes,
resets the weights to w_t, and the caller then calls ``optimizer.step()`` again. This module
measures what that does to the weights and to the optimizer state for plain SGD (the benchmark's
optimizer), SGD with momentum and Adam, against one ordinary step at the same new rate; and checks
that libhessianlr's LRTuner restores the weights bit for bit after its probes.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import torch

from hessianlr.torch import LRTuner


def _setup(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    x, y = torch.randn(64, 8), torch.randint(0, 3, (64,))
    return model, x, y


def _grads(model, x, y):
    model.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(model(x), y).backward()


def _gen_step(model, opt, x, y):
    """gen-optim's usage: backward, lr_parabola (probes on the same batch here), optimizer.step()."""
    from GeN import lr_parabola

    _grads(model, x, y)
    stream = iter(lambda: (x, y), None)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lr_parabola(model, opt, criterion=torch.nn.functional.cross_entropy, tr_iter=stream,
                    device="cpu", task="image_cls")
    new_lr = opt.param_groups[0]["lr"]
    opt.step()
    return new_lr


def _compare(make_opt, warm_steps=3):
    """(max |Δw|, relative state difference, state['step'] gen / reference) after one GeN update
    step versus an ordinary step at the rate lr_parabola chose, from identical states."""
    results = []
    for use_gen in (True, False):
        model, x, y = _setup()
        opt = make_opt(model.parameters())
        for _ in range(warm_steps):  # non-trivial optimizer state first
            _grads(model, x, y)
            opt.step()
        results.append((model, opt))
    (gm, go), (rm, ro) = results
    lr = _gen_step(gm, go, *_setup()[1:])
    for g in ro.param_groups:
        g["lr"] = lr
    _grads(rm, *_setup()[1:])
    ro.step()
    dw = max(float((a - b).detach().abs().max()) for a, b in zip(gm.parameters(), rm.parameters()))
    num = den = 0.0
    steps = None
    for pa, pb in zip(gm.parameters(), rm.parameters()):
        sa, sb = go.state[pa], ro.state[pb]
        for key in sa:
            if key == "step":
                steps = (float(sa[key]), float(sb[key]))
            elif torch.is_tensor(sa[key]) and sa[key] is not None:
                num += float((sa[key] - sb[key]).pow(2).sum())
                den += float(sb[key].pow(2).sum())
    rel = (num / den) ** 0.5 if den > 0 else 0.0
    return dw, rel, steps


def _ours_restores_weights() -> bool:
    model, x, y = _setup()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    driver = LRTuner(opt, "gen")
    before = [p.detach().clone() for p in model.parameters()]
    loss_fn = torch.nn.functional.cross_entropy
    driver.step(loss_fn(model(x), y), closure=lambda: loss_fn(model(x), y))  # step 0 probes
    same = all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    driver.close()
    return same and driver.probe_count == 2


def run() -> str:
    torch.set_num_threads(1)
    rows = ["| optimizer | max \\|w_gen − w_ref\\| | optimizer state, relative difference | state['step'] gen / ref |",
            "|---|---:|---:|---|"]
    cases = [
        ("SGD (plain, the benchmark's)", lambda ps: torch.optim.SGD(ps, lr=0.1)),
        ("SGD momentum 0.9", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
        ("Adam", lambda ps: torch.optim.Adam(ps, lr=1e-3)),
    ]
    for name, make in cases:
        dw, rel, steps = _compare(make)
        rows.append(f"| {name} | {dw:.3g} | {rel:.3g} | {'–' if steps is None else f'{steps[0]:g} / {steps[1]:g}'} |")
    text = ["## gen-optim fairness audit (measured)", "",
            "One GeN update step with gen-optim (`lr_parabola` then `optimizer.step()`) against one ordinary "
            "step at the rate lr_parabola chose, from identical weights and optimizer state (3 warm-up steps):", "",
            *rows, "",
            f"libhessianlr LRTuner (GeN): weights bit-identical after its probe step, 2 probe forwards: "
            f"{'yes' if _ours_restores_weights() else 'NO'}.", ""]
    return "\n".join(text)


if __name__ == "__main__":
    print(run())
