"""The models (small tanh MLPs, float32) and the parameter groupings the rules act on.

- digits: 64 → 32 → 32 → 10 (3466 parameters); diabetes: 10 → 32 → 32 → 1 (1441 parameters).
  tanh keeps the loss twice differentiable everywhere (the HVP-based rules' model is a quadratic).
- The initialisation depends on the seed only (torch's default Linear init after
  ``torch.manual_seed(seed)``), so every method of one seed starts from the same weights.

Groupings (one optimizer param group each, so one library group each):

- ``all``: one group (every rule except Hi-DLR);
- ``bias_weights``: [all weight matrices], [all bias vectors] (Hi-DLR's bias/weights split);
- ``per_layer``: one group per Linear layer, its weight and bias together (Hi-DLR per layer).
"""

from __future__ import annotations

import torch

GROUPINGS = ("all", "bias_weights", "per_layer")
HIDDEN = (32, 32)


def make_model(n_features: int, n_outputs: int, seed: int) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    layers, width = [], n_features
    for h in HIDDEN:
        layers += [torch.nn.Linear(width, h), torch.nn.Tanh()]
        width = h
    layers.append(torch.nn.Linear(width, n_outputs))
    return torch.nn.Sequential(*layers)


def param_groups(model: torch.nn.Module, grouping: str, lr: float) -> list[dict]:
    """Param groups for ``torch.optim.SGD`` with the same initial ``lr`` in every group."""
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if grouping == "all":
        groups = [list(model.parameters())]
    elif grouping == "bias_weights":
        groups = [[m.weight for m in linears], [m.bias for m in linears]]
    elif grouping == "per_layer":
        groups = [[m.weight, m.bias] for m in linears]
    else:
        raise ValueError(f"unknown grouping {grouping!r}; known: {', '.join(GROUPINGS)}")
    return [{"params": ps, "lr": lr} for ps in groups]


def group_names(model: torch.nn.Module, grouping: str) -> list[str]:
    n = sum(isinstance(m, torch.nn.Linear) for m in model.modules())
    if grouping == "all":
        return ["all"]
    if grouping == "bias_weights":
        return ["weights", "biases"]
    return [f"layer{i + 1}" for i in range(n)]
