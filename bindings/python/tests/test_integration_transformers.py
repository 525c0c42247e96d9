"""hessianlr.integrations.transformers (issue 15, item 3): a Hugging Face Trainer, its own forward
and backward passes, tiny BERT and GPT-2 built from configs (nothing downloaded), on the CPU.

Checked on real Trainer runs: the optimizer steps with the tuner's rates at every optimizer step
(read from param_groups by a pre-step hook), one driver step per optimizer step under gradient
accumulation, the replayed micro-batch closures reproduce the Trainer's gradient exactly (so the
accumulation scaling is the Trainer's), the Trainer logs the tuner's rates, the scheduler's
state survives torch.save/torch.load(weights_only=True) as the Trainer's checkpoints do, and the
unsupported setups raise naming the problem."""

from __future__ import annotations

import io
import os
import types

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # models are built from configs: nothing may be downloaded

from transformers import (BertConfig, BertForSequenceClassification, GPT2Config, GPT2LMHeadModel, Trainer,  # noqa: E402
                          TrainingArguments)
from transformers.utils import logging as hf_logging  # noqa: E402

from hessianlr.integrations.transformers import HessianLRCallback, TunerLRScheduler, hessianlr_scheduler  # noqa: E402

VOCAB, LENGTH = 32, 8

hf_logging.set_verbosity_error()


class Tokens(torch.utils.data.Dataset):
    def __init__(self, causal: bool, rows: int = 64):
        generator = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, VOCAB, (rows, LENGTH), generator=generator)
        self.labels = self.ids if causal else (self.ids[:, 0] % 2)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def bert():
    torch.manual_seed(0)
    return BertForSequenceClassification(BertConfig(
        vocab_size=VOCAB, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=LENGTH, num_labels=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))


def gpt2():
    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=VOCAB, n_positions=LENGTH, n_embd=16, n_layer=1, n_head=2,
                                      resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0))


def arguments(tmp_path, steps=4, accumulation=2, **extra):
    """No gradient clipping unless asked (p.grad is then the closures' gradient), no checkpoints."""
    return TrainingArguments(output_dir=str(tmp_path), max_steps=steps, per_device_train_batch_size=4,
                             gradient_accumulation_steps=accumulation, learning_rate=1e-3, use_cpu=True,
                             report_to=[], logging_steps=1, disable_tqdm=True, seed=0,
                             **{"max_grad_norm": 0.0, "save_strategy": "no", **extra})


class StepSpy:
    """Per optimizer step (a pre-step hook on the torch optimizer): the param groups' rates the
    optimizer steps with, the driver's rates then, and whether the micro-batch closures that the
    driver was given reproduce p.grad (checked inside after_backward)."""

    def __init__(self, callback):
        self.callback = callback
        self.stepped, self.tuned, self.gradient_errors, self.loss_errors = [], [], [], []

    def attach(self, optimizer):
        optimizer.register_step_pre_hook(self._pre_step)

    def _pre_step(self, optimizer, args, kwargs):
        self.stepped.append([group["lr"] for group in optimizer.param_groups])
        self.tuned.append(self.callback.driver.get_last_lr())

    def wrap(self, driver):
        original = driver.after_backward

        def checked(closures, *, loss=None, probe_closure=None):
            params = [p for group in driver.optimizer.param_groups for p in group["params"] if p.grad is not None]
            with torch.enable_grad():
                total = sum(c() for c in closures)
            grads = torch.autograd.grad(total, params, allow_unused=True)
            self.gradient_errors.append(max(float((g - p.grad).abs().max() / (p.grad.abs().max() + 1e-30))
                                            for g, p in zip(grads, params) if g is not None))
            self.loss_errors.append(abs(float(total.detach()) - loss) / abs(loss))
            return original(closures, loss=loss, probe_closure=probe_closure)

        driver.after_backward = checked


class Spying(HessianLRCallback):
    def on_train_begin(self, args, state, control, optimizer=None, **kwargs):
        super().on_train_begin(args, state, control, optimizer=optimizer, **kwargs)
        self.spy.attach(getattr(optimizer, "optimizer", optimizer))
        self.spy.wrap(self.driver)


def spying(*args, **kwargs):
    callback = Spying(*args, **kwargs)
    callback.spy = StepSpy(callback)
    return callback


def test_callback_with_the_trainers_optimizer_and_accumulation(tmp_path):
    """Tiny BERT, the Trainer's own AdamW, gradient_accumulation_steps=2, 4 optimizer steps: the
    optimizer steps with the tuner's rates every time, 4 driver steps over 8 micro-batches, the
    closures reproduce the Trainer's p.grad and loss, and the Trainer logs the tuner's rate (its
    LambdaLR follows the tuner)."""
    callback = spying("cdat", update_period=2)
    trainer = Trainer(model=bert(), args=arguments(tmp_path), train_dataset=Tokens(causal=False), callbacks=[callback])
    with pytest.warns(UserWarning, match="lr_scheduler_type='linear' schedule .* is not applied"):
        trainer.train()
    spy = callback.spy
    assert trainer.state.global_step == 4 == callback.steps == callback.driver.step_count == len(spy.stepped)
    assert callback.micro_batches == 8 and callback.last_metrics.micro_batches == 2
    assert spy.stepped == spy.tuned
    assert spy.stepped[-1] != spy.stepped[0]  # the tuner moved the rate off the Trainer's 1e-3
    assert callback.driver.hvp_count == 2 * len(spy.stepped[0])  # steps 0 and 2, one per param group
    assert max(spy.gradient_errors) < 1e-5 and max(spy.loss_errors) < 1e-6
    logged = [entry["learning_rate"] for entry in trainer.state.log_history if "learning_rate" in entry]
    assert logged == pytest.approx([rates[0] for rates in spy.stepped])


def test_scheduler_factory_with_gpt2_fused_attention(tmp_path):
    """Tiny GPT-2 (torch's fused attention, no second derivative: finite differences), your
    optimizer and hessianlr_scheduler; the model normalises by num_items_in_batch, so the
    Trainer's scaling differs from BERT's, and the closures still reproduce p.grad."""
    model = gpt2()
    assert model.config._attn_implementation == "sdpa"
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = hessianlr_scheduler(optimizer, "hessianlr", update_period=1)
    callback = spying()
    trainer = Trainer(model=model, args=arguments(tmp_path, steps=3), train_dataset=Tokens(causal=True),
                      optimizers=(optimizer, scheduler), callbacks=[callback])
    trainer.train()
    spy = callback.spy
    assert callback.driver is scheduler.driver and callback.driver.curvature == "finite_difference"
    assert callback.steps == 3 == len(spy.stepped) and callback.micro_batches == 6
    assert spy.stepped == spy.tuned and callback.driver.hvp_count == 3
    assert max(spy.gradient_errors) < 1e-5 and max(spy.loss_errors) < 1e-6
    assert scheduler.get_last_lr() == callback.driver.get_last_lr()


def test_scheduler_state_round_trips_like_a_trainer_checkpoint():
    """The Trainer saves lr_scheduler.state_dict() with torch.save and loads it with
    weights_only=True: the tuner continues where it was."""
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = hessianlr_scheduler(optimizer, "hessianlr", update_period=1)
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    closure = lambda: torch.nn.functional.mse_loss(model(x), y)  # noqa: E731
    for _ in range(2):
        optimizer.zero_grad()
        closure().backward()
        scheduler.driver.after_backward(closure)
        optimizer.step()
        scheduler.step()
    buffer = io.BytesIO()
    torch.save(scheduler.state_dict(), buffer)
    buffer.seek(0)
    other_optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    restored = TunerLRScheduler(other_optimizer, "hessianlr", update_period=1)
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    assert restored.driver.step_count == 2 == scheduler.driver.step_count
    assert restored.get_last_lr() == scheduler.driver.get_last_lr()
    rates = []
    for sched, opt in ((scheduler, optimizer), (restored, other_optimizer)):
        opt.zero_grad()
        closure().backward()
        rates.append(sched.driver.after_backward(closure))
    assert rates[0] == rates[1]


def test_refusals_name_the_problem(tmp_path):
    args = types.SimpleNamespace(fp16=True, world_size=1)
    with pytest.raises(ValueError, match="fp16=True"):
        HessianLRCallback().on_train_begin(args, None, None, model=bert(), optimizer=None)
    args = types.SimpleNamespace(fp16=False, world_size=2)
    with pytest.raises(ValueError, match="2 processes"):
        HessianLRCallback().on_train_begin(args, None, None, model=bert(), optimizer=None)
    model = bert()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    step_lr = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    trainer = Trainer(model=model, args=arguments(tmp_path), train_dataset=Tokens(causal=False),
                      optimizers=(optimizer, step_lr), callbacks=[HessianLRCallback("cdat")])
    with pytest.raises(ValueError, match="StepLR, which would overwrite"):
        trainer.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    trainer = Trainer(model=model, args=arguments(tmp_path), train_dataset=Tokens(causal=False),
                      optimizers=(optimizer, hessianlr_scheduler(optimizer, "cdat")),
                      callbacks=[HessianLRCallback("cdat")])
    with pytest.raises(ValueError, match="give them in one place"):
        trainer.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    trainer = Trainer(model=model, args=arguments(tmp_path), train_dataset=Tokens(causal=False),
                      optimizers=(optimizer, hessianlr_scheduler(optimizer, "cdat")))  # no callback
    with pytest.raises(RuntimeError, match="add HessianLRCallback"):
        trainer.train()
    trainer = Trainer(model=bert(), args=arguments(tmp_path, label_smoothing_factor=0.1),
                      train_dataset=Tokens(causal=False), callbacks=[HessianLRCallback("cdat")])
    with pytest.raises(ValueError, match="returned no loss"):
        trainer.train()


def test_bf16_replays_through_the_trainers_autocast(tmp_path):
    """bf16=True: accelerate runs the model's forward under autocast, the replays too, so the
    closures still reproduce the Trainer's loss and p.grad."""
    callback = spying("cdat", update_period=2)
    trainer = Trainer(model=bert(), args=arguments(tmp_path, steps=2, bf16=True), train_dataset=Tokens(causal=False),
                      callbacks=[callback])
    trainer.train()
    assert callback.steps == 2 and max(callback.spy.loss_errors) < 1e-6 and max(callback.spy.gradient_errors) < 1e-5


def test_resume_from_a_trainer_checkpoint_restores_the_tuner(tmp_path):
    """hessianlr_scheduler's state is in the Trainer's checkpoint: resuming at step 2 of 4 gives
    the rates of the uninterrupted run's steps 2 and 3."""
    def run(output, steps, resume=None):
        model = gpt2()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        callback = spying()
        args = arguments(output, steps=steps, accumulation=1, save_strategy="steps", save_steps=2)
        trainer = Trainer(model=model, args=args, train_dataset=Tokens(causal=True),
                          optimizers=(optimizer, hessianlr_scheduler(optimizer, "cdat", update_period=1)),
                          callbacks=[callback])
        trainer.train(resume_from_checkpoint=resume)
        return callback

    whole = run(tmp_path / "whole", 4)
    resumed = run(tmp_path / "whole", 4, resume=str(tmp_path / "whole" / "checkpoint-2"))
    assert resumed.driver.step_count == 4 and resumed.steps == 2
    assert resumed.spy.stepped == whole.spy.stepped[2:]


def test_resume_with_the_trainers_own_optimizer_restores_the_tuner(tmp_path):
    """The callback on the Trainer's own optimizer (no hessianlr_scheduler): the tuner's state
    rides in the Trainer's scheduler checkpoint, so resuming at step 3 of 6 gives the rates of the
    uninterrupted run's steps 3 to 5. Before, the resumed run started a fresh tuner at step 0 (auto
    re-bracketed: 0.064, 0.032, 0.016 where the whole run had 0.0085, 0.0062, 0.0037)."""
    def run(steps, resume=None):
        callback = spying("auto")
        args = arguments(tmp_path / "own", steps=steps, accumulation=1, save_strategy="steps", save_steps=3)
        trainer = Trainer(model=gpt2(), args=args, train_dataset=Tokens(causal=True), callbacks=[callback])
        trainer.train(resume_from_checkpoint=resume)
        return callback, trainer

    whole, _ = run(6)
    resumed, trainer = run(6, resume=str(tmp_path / "own" / "checkpoint-3"))
    assert resumed.driver.step_count == 6 and resumed.steps == 3
    assert resumed.spy.stepped == whole.spy.stepped[3:]
    # The entry is dropped once a checkpoint is written; the scheduler's own state is untouched.
    assert "hessianlr_driver" not in trainer.lr_scheduler.__dict__
    saved = torch.load(tmp_path / "own" / "checkpoint-6" / "scheduler.pt", weights_only=True)
    assert saved["hessianlr_driver"]["step"] == 6
