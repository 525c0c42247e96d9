"""The experimental plan: settings, step budgets, seeds, the constant grid and the initial rates.

Fixed before any run and the same for every method: each run of a setting takes the same number
of optimizer steps on the same batches from the same initial weights (per seed).
"""

from __future__ import annotations

from dataclasses import dataclass

from methods import ABLATION, RULES

#: The constant grid: half-decades from 0.003 to 10 (the best is picked after the runs).
GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
#: Initial rates of every rule: a 100× range (0.01 … 1).
INITIAL_LRS = (0.01, 0.1, 1.0)
MINI_BATCH = 64
#: Optimizer steps per run (every method, both regimes) and seeds.
STEPS = 1500
SEEDS = 3
#: The lr_max ablation runs where a ceiling of 1 binds: on digits the best constant (3) is above 1;
#: on diabetes no rule's rate reaches 1 except from lr0 = 1, which diverges with or without it.
ABLATION_DATASETS = ("digits",)


@dataclass(frozen=True)
class Setting:
    dataset: str
    regime: str  # "full" | "mini"
    steps: int
    batch: int | None  # None = full batch
    eval_every: int

    @property
    def key(self) -> str:
        return f"{self.dataset}-{self.regime}"

    @property
    def title(self) -> str:
        what = "full batch" if self.batch is None else f"mini-batch {self.batch}"
        return f"{self.dataset}, {what}, {self.steps} steps"


@dataclass(frozen=True)
class Plan:
    settings: tuple[Setting, ...]
    seeds: tuple[int, ...]
    grid: tuple[float, ...]
    initial_lrs: tuple[float, ...]
    rules: tuple[str, ...]
    ablation: tuple[str, ...] = ()

    def tasks(self):
        """(setting, method, lr, seed) for every run, the expensive ones first."""
        out = []
        for s in self.settings:
            rules = self.rules + (self.ablation if s.dataset in ABLATION_DATASETS else ())
            for seed in self.seeds:
                out += [(s, "constant", lr, seed) for lr in self.grid]
                out += [(s, m, lr, seed) for m in rules for lr in self.initial_lrs]
        cost = lambda m: 3 if m.startswith("cdat") else 2 if m.startswith("hidlr") else 1  # noqa: E731
        return sorted(out, key=lambda t: -cost(t[1]) * t[0].steps * (3 if t[0].dataset == "digits" and t[0].batch is None else 1))


def make_plan(quick: bool = False, seeds: int | None = None, steps_full: int | None = None,
              steps_mini: int | None = None, ablate_lr_max: bool = True) -> Plan:
    """The full plan (or the --quick smoke plan: 100 steps, 1 seed, no ablation)."""
    full = steps_full or (100 if quick else STEPS)
    mini = steps_mini or (100 if quick else STEPS)
    settings = tuple(
        Setting(d, r, full if r == "full" else mini, None if r == "full" else MINI_BATCH, 10 if not quick else 5)
        for d in ("digits", "diabetes") for r in ("full", "mini"))
    n_seeds = seeds or (1 if quick else SEEDS)
    ablation = tuple(ABLATION) if ablate_lr_max and not quick else ()
    return Plan(settings, tuple(range(n_seeds)), GRID, INITIAL_LRS, tuple(RULES), ablation)
