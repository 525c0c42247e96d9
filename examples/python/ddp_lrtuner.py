#!/usr/bin/env python3
"""LRTuner under DistributedDataParallel with gradient accumulation (CPU, gloo).

Each process trains the same MLP (16-64-64-1, Tanh, Dropout, AdamW, float32) on its shard of every
global batch of a synthetic regression problem (a fixed random teacher network plus noise), two
micro-batches per optimizer step with ``no_sync`` on the first, as DDP training loops do. DDP
averages the gradients; ``LRTuner(optimizer, "cdat", ddp=ddp)`` reads them after the backward
pass, measures the curvature of this process's shard by a central finite difference of the
gradient (no double-backward graph, which DDP cannot build), and the library averages the
scalars over the processes: every process sets the same learning rate. At the end the processes
compare their rates and parameters (they must be identical) and rank 0 prints the loss curve.

Usage::

    python examples/python/ddp_lrtuner.py [--processes 2] [--steps 60] [--method cdat]
    torchrun --nproc-per-node 2 examples/python/ddp_lrtuner.py      # the same, launched by torchrun

Takes a few seconds on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from hessianlr.torch import LRTuner

F = torch.nn.functional


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=2, help="processes to spawn (ignored under torchrun)")
    parser.add_argument("--steps", type=int, default=60, help="optimizer steps (default 60)")
    parser.add_argument("--batch", type=int, default=256, help="global batch per optimizer step (default 256)")
    parser.add_argument("--micro", type=int, default=2, help="micro-batches per optimizer step (default 2)")
    parser.add_argument("--method", default="cdat", help="libhessianlr method (default cdat; gen, hidlr, ...)")
    return parser.parse_args(argv)


def data(step: int, rows: int):
    """The global batch of optimizer step ``step``: the same on every process."""
    generator = torch.Generator().manual_seed(10_000 + step)
    x = torch.randn(rows, 16, generator=generator)
    teacher = torch.Generator().manual_seed(7)
    w1, w2 = torch.randn(16, 32, generator=teacher) / 4, torch.randn(32, 1, generator=teacher) / 6
    y = torch.tanh(x @ w1) @ w2 + 0.05 * torch.randn(rows, 1, generator=generator)
    return x, y


def train(rank: int, world: int, args) -> None:
    if args.batch % (args.micro * world):
        raise SystemExit(f"--batch ({args.batch}) must be divisible by --micro times the processes ({args.micro * world})")
    torch.set_num_threads(1)
    torch.manual_seed(0)  # the same initial weights everywhere (DDP also broadcasts rank 0's)
    model = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.Tanh(), torch.nn.Dropout(0.1),
                                torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 1))
    ddp = DistributedDataParallel(model)
    optimizer = torch.optim.AdamW(ddp.parameters(), lr=1e-3, weight_decay=1e-4)
    driver = LRTuner(optimizer, args.method, ddp=ddp, update_period=4)
    torch.manual_seed(1000 + rank)  # each process its own dropout masks
    shard = args.batch // world
    history = []
    for step in range(args.steps):
        x, y = data(step, args.batch)
        x, y = x[rank * shard:(rank + 1) * shard], y[rank * shard:(rank + 1) * shard]
        closures = [(lambda a=a, b=b: F.mse_loss(ddp(a), b) / args.micro)
                    for a, b in zip(x.chunk(args.micro), y.chunk(args.micro))]
        optimizer.zero_grad()
        total = 0.0
        for i, closure in enumerate(closures):
            with ddp.no_sync() if i < len(closures) - 1 else contextlib.nullcontext():
                loss = closure()
                loss.backward()  # DDP averages p.grad over the processes on the last micro-batch
                total += loss.item()
        rates = driver.after_backward(closures, loss=total)  # one call per optimizer step
        optimizer.step()
        history.append((step, total, rates[0]))
    gathered = [None] * world
    dist.all_gather_object(gathered, (driver.get_last_lr(), [p.detach().sum().item() for p in model.parameters()]))
    assert all(g == gathered[0] for g in gathered), "the processes disagree"
    if rank == 0:
        for step, loss, lr in history[:: max(1, args.steps // 12)] + history[-1:]:
            print(f"step {step:4d}  loss (rank 0's shard) {loss:.5f}  lr {lr:.3e}")
        print(f"{world} processes: identical rates and parameters; {driver.hvp_count} finite-difference HVPs, "
              f"{driver.gradient_count} extra forward/backward passes, {driver.probe_count} loss probes")


def spawned(rank: int, world: int, rendezvous: str, args) -> None:
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world)
    try:
        train(rank, world, args)
    finally:
        dist.destroy_process_group()


def main(argv=None) -> None:
    args = parse_args(argv)
    if "RANK" in os.environ:  # under torchrun
        dist.init_process_group("gloo")
        args.processes = dist.get_world_size()
        try:
            train(dist.get_rank(), dist.get_world_size(), args)
        finally:
            dist.destroy_process_group()
        return
    with tempfile.TemporaryDirectory() as tmp:
        torch.multiprocessing.spawn(spawned, args=(args.processes, os.path.join(tmp, "rendezvous"), args),
                                    nprocs=args.processes)


if __name__ == "__main__":
    main()
