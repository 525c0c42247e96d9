#!/usr/bin/env python3
"""Lightning with libhessianlr setting the learning rate, with gradient accumulation.

A LightningModule (an MLP 8-64-64-1, Tanh, AdamW) fits a synthetic regression problem (a fixed
random teacher network plus noise, made here) with automatic optimization and
``Trainer(accumulate_grad_batches=2)``: two micro-batches per optimizer step. The callback
``HessianLRCallback("cdat", update_period=4)`` sets the rate before each optimizer step from
the accumulated gradient; the driver counts optimizer steps, not micro-batches. The same module
also trains at a constant rate from the same start, and the table compares the final losses on
the whole training set. With ``--logdir`` the tuner's rate, curvature and overhead per step go to
TensorBoard; with ``--wandb-dir`` also to an offline W&B run (nothing is sent anywhere).

Usage::

    python examples/python/lightning_accumulation.py [--steps 150] [--logdir DIR] [--wandb-dir DIR]

A few seconds on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import os
import warnings

import pytorch_lightning as pl
import torch

from hessianlr.integrations.lightning import HessianLRCallback
from hessianlr.integrations.logging import TensorBoardLogger, WandbLogger

F = torch.nn.functional


def regression(rows: int = 1024, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, 8, generator=generator)
    w1, w2 = torch.randn(8, 32, generator=generator) / 3, torch.randn(32, 1, generator=generator) / 5
    return x, torch.tanh(x @ w1) @ w2 + 0.05 * torch.randn(rows, 1, generator=generator)


class Regressor(pl.LightningModule):
    def __init__(self, lr: float):
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(8, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64),
                                       torch.nn.Tanh(), torch.nn.Linear(64, 1))
        self.lr = lr

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=1e-4)


def fit(steps: int, lr: float, callback=None) -> float:
    x, y = regression()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32, shuffle=True,
                                         generator=torch.Generator().manual_seed(1))
    module = Regressor(lr)
    trainer = pl.Trainer(max_steps=steps, accumulate_grad_batches=2, accelerator="cpu", logger=False,
                         enable_checkpointing=False, enable_model_summary=False, enable_progress_bar=True,
                         callbacks=[callback] if callback else None)
    trainer.fit(module, loader)
    assert trainer.global_step == steps
    with torch.no_grad():
        return float(F.mse_loss(module.net(x), y))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=150, help="optimizer steps (default 150)")
    parser.add_argument("--lr", type=float, default=1e-4, help="the constant rate and the tuner's start (default 1e-4)")
    parser.add_argument("--logdir", default=None, help="TensorBoard directory for the tuned run")
    parser.add_argument("--wandb-dir", default=None, help="directory of an offline W&B run for the tuned run")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    loggers = []
    if args.logdir:
        loggers.append(TensorBoardLogger(args.logdir))
    if args.wandb_dir:
        loggers.append(WandbLogger(mode="offline", dir=args.wandb_dir, project="hessianlr-examples"))
    constant = fit(args.steps, args.lr)
    callback = HessianLRCallback("cdat", update_period=4, loggers=loggers)
    tuned = fit(args.steps, args.lr, callback)
    print(f"\n{'run':<10} {'final training MSE':>18}")
    print(f"{'constant':<10} {constant:>18.5f}   lr {args.lr:.1e}")
    print(f"{'cdat':<10} {tuned:>18.5f}   final lr {callback.driver.get_last_lr()[0]:.3e}")
    print(f"{callback.steps} optimizer steps tuned over {callback.micro_batches} micro-batches; "
          f"{callback.driver.hvp_count} finite-difference HVPs; tuner {1e3 * callback.tuner_seconds / callback.steps:.2f} "
          "ms per step on average")


if __name__ == "__main__":
    main()
