#!/usr/bin/env python3
"""Hugging Face ``Trainer`` with libhessianlr setting the learning rate: tiny BERT and GPT-2.

Both models are built from configs here (random weights, nothing downloaded) and trained on
synthetic token data made here, on the CPU, with the Trainer's own forward and backward passes:

- ``bert``: ``BertForSequenceClassification`` (2 layers, width 32) labels whether a sequence of
  random tokens holds more tokens below vocab/2 than above. The Trainer's own optimizer
  (``args.optim``, AdamW) with ``callbacks=[HessianLRCallback("cdat", ...)]``: the Trainer's
  linear scheduler then follows the tuner's rates (and logs them).
- ``gpt2``: ``GPT2LMHeadModel`` (2 layers, width 32, torch's fused scaled-dot-product attention,
  which has no second derivative: curvature by finite differences) learns sequences that count
  up by a per-sequence stride modulo the vocabulary, two micro-batches per optimizer step
  (``gradient_accumulation_steps=2``), with your optimizer and the library's scheduler:
  ``optimizers=(optimizer, hessianlr_scheduler(optimizer, "cdat", ...))``.

Each model also trains at a constant rate from the same start (the one the tuner starts from)
and the table compares the final training loss. The tuner's rate, curvature and overhead per step
are written to TensorBoard (``--logdir``; ``tensorboard --logdir <dir>``).

Usage::

    python examples/python/hf_trainer_tiny.py [--model bert|gpt2|both] [--steps 60] [--logdir DIR]

About 20 s for both models at the default 60 steps on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import torch
from transformers import (BertConfig, BertForSequenceClassification, GPT2Config, GPT2LMHeadModel, Trainer,
                          TrainingArguments)
from transformers.utils import logging as hf_logging

from hessianlr.integrations.logging import TensorBoardLogger
from hessianlr.integrations.transformers import HessianLRCallback, hessianlr_scheduler

VOCAB, LENGTH, ROWS = 32, 16, 512


class Tokens(torch.utils.data.Dataset):
    """``ROWS`` synthetic examples for ``task`` ("bert": classification, "gpt2": language modelling)."""

    def __init__(self, task: str, seed: int = 0):
        generator = torch.Generator().manual_seed(seed)
        if task == "bert":
            self.ids = torch.randint(0, VOCAB, (ROWS, LENGTH), generator=generator)
            self.labels = ((self.ids < VOCAB // 2).sum(1) > LENGTH // 2).long()
        else:
            start = torch.randint(0, VOCAB, (ROWS, 1), generator=generator)
            stride = torch.randint(1, 4, (ROWS, 1), generator=generator)
            self.ids = (start + stride * torch.arange(LENGTH)) % VOCAB
            self.labels = self.ids  # the model shifts them for next-token prediction
        self.task = task

    def __len__(self) -> int:
        return ROWS

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def tiny_model(task: str):
    torch.manual_seed(0)
    if task == "bert":
        config = BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=64, max_position_embeddings=LENGTH, num_labels=2,
                            hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        return BertForSequenceClassification(config)
    config = GPT2Config(vocab_size=VOCAB, n_positions=LENGTH, n_embd=32, n_layer=2, n_head=2,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    return GPT2LMHeadModel(config)


def train(task: str, steps: int, tuned: bool, logdir: str | None, lr: float, output_dir: str):
    """One Trainer run; returns (the last logged training loss, the callback or None)."""
    model = tiny_model(task)
    accumulation = 2 if task == "gpt2" else 1
    args = TrainingArguments(
        output_dir=output_dir, max_steps=steps, per_device_train_batch_size=16,
        gradient_accumulation_steps=accumulation, learning_rate=lr, lr_scheduler_type="constant", use_cpu=True,
        report_to=[], logging_steps=max(1, steps // 6), save_strategy="no", seed=0, disable_tqdm=False)
    loggers = [TensorBoardLogger(os.path.join(logdir, task))] if (tuned and logdir) else []
    callback, optimizers = None, (None, None)
    if tuned and task == "bert":  # the Trainer's optimizer; the callback holds the tuner
        callback = HessianLRCallback("cdat", update_period=4, loggers=loggers)
    elif tuned:  # your optimizer; the scheduler holds the tuner (and checkpoints it)
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
        optimizers = (optimizer, hessianlr_scheduler(optimizer, "cdat", update_period=4))
        callback = HessianLRCallback(loggers=loggers)
    trainer = Trainer(model=model, args=args, train_dataset=Tokens(task), optimizers=optimizers,
                      callbacks=[callback] if callback else None)
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return float(losses[-1]), callback


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("bert", "gpt2", "both"), default="both")
    parser.add_argument("--steps", type=int, default=60, help="optimizer steps per run (default 60)")
    parser.add_argument("--lr", type=float, default=1e-4, help="the constant rate, and the tuner's start (default 1e-4)")
    parser.add_argument("--logdir", default=None, help="TensorBoard directory for the tuned runs (default: none)")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    hf_logging.set_verbosity_error()
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    rows = []
    for task in (("bert", "gpt2") if args.model == "both" else (args.model,)):
        with tempfile.TemporaryDirectory(prefix="hf_trainer_tiny_") as output_dir:  # the Trainer's, unused
            constant, _ = train(task, args.steps, False, None, args.lr, output_dir)
            tuned, callback = train(task, args.steps, True, args.logdir, args.lr, output_dir)
        metrics = callback.last_metrics
        rows.append((task, constant, tuned, metrics.lrs[0], callback.steps, callback.micro_batches,
                     callback.driver.hvp_count, callback.tuner_seconds / callback.steps))
    print(f"\n{'model':<6} {'loss @ constant lr':>18} {'loss @ cdat':>12} {'final lr':>10} {'opt steps':>9} "
          f"{'micro-batches':>13} {'HVPs':>5} {'tuner s/step':>12}")
    for task, constant, tuned, lr, steps, micro, hvps, seconds in rows:
        print(f"{task:<6} {constant:>18.4f} {tuned:>12.4f} {lr:>10.3e} {steps:>9d} {micro:>13d} {hvps:>5d} "
              f"{seconds:>12.2e}")
    if args.logdir:
        print(f"TensorBoard: tensorboard --logdir {args.logdir}")


if __name__ == "__main__":
    main()
