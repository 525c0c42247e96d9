"""hessianlr.integrations.lightning (issue 15, item 3): a Lightning Trainer with automatic
optimization and accumulate_grad_batches, on the CPU.

Checked on real fits: the optimizer steps with the tuner's rates at every optimizer step (a
pre-step hook on the torch optimizer), one driver step per optimizer step over the micro-batches,
the replayed closures reproduce Lightning's p.grad and loss (its 1/accumulate_grad_batches
scaling), gradient clipping happens before the tuner reads p.grad, the driver's state goes
through Lightning's checkpoint hooks, and unsupported setups raise naming the problem."""

from __future__ import annotations

import warnings

import pytest
import pytorch_lightning as pl
import torch

from hessianlr.integrations.lightning import HessianLRCallback

F = torch.nn.functional

warnings.filterwarnings("ignore", ".*does not have many workers.*")


class Regressor(pl.LightningModule):
    def __init__(self, optimizers=1, scheduler=False, manual=False):
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
        self.optimizer_count, self.scheduler, self.automatic_optimization = optimizers, scheduler, not manual
        self.logged = 0

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        if not self.automatic_optimization:
            optimizer = self.optimizers()
            optimizer.zero_grad()
            self.manual_backward(loss)
            optimizer.step()
        return loss

    def log(self, *args, **kwargs):  # counts the module's own log calls
        self.logged += 1
        super().log(*args, **kwargs)

    def configure_optimizers(self):
        if self.optimizer_count == 2:
            return [torch.optim.SGD(self.net[0].parameters(), lr=0.1), torch.optim.SGD(self.net[2].parameters(), lr=0.1)]
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-3)
        if self.scheduler:
            return [optimizer], [torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)]
        return optimizer


def loader():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=generator)
    y = x.sum(1, keepdim=True) + 0.1 * torch.randn(64, 1, generator=generator)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)


def fit(module, callback, steps=4, **trainer_options):
    trainer = pl.Trainer(max_steps=steps, callbacks=[callback], accelerator="cpu", logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         **trainer_options)
    trainer.fit(module, loader())
    return trainer


class Spying(HessianLRCallback):
    """Records, per optimizer step, the rates the optimizer steps with and the driver's, and checks
    inside after_backward that the closures reproduce p.grad and the loss."""

    def on_train_start(self, trainer, pl_module):
        super().on_train_start(trainer, pl_module)
        self.stepped, self.tuned, self.gradient_errors, self.loss_errors, self.grad_norms = [], [], [], [], []
        trainer.optimizers[0].register_step_pre_hook(self._pre_step)
        original = self.driver.after_backward

        def checked(closures, *, loss=None, probe_closure=None):
            params = list(pl_module.parameters())
            self.grad_norms.append(float(torch.cat([p.grad.reshape(-1) for p in params]).norm()))
            with torch.enable_grad():
                total = sum(c() for c in closures)
            grads = torch.autograd.grad(total, params)
            self.gradient_errors.append(max(float((g - p.grad).abs().max() / p.grad.abs().max())
                                            for g, p in zip(grads, params)))
            self.loss_errors.append(abs(float(total.detach()) - loss) / abs(loss))
            return original(closures, loss=loss, probe_closure=probe_closure)

        self.driver.after_backward = checked

    def _pre_step(self, optimizer, args, kwargs):
        self.stepped.append([group["lr"] for group in optimizer.param_groups])
        self.tuned.append(self.driver.get_last_lr())


@pytest.mark.parametrize("accumulate", [1, 2])
def test_rates_and_steps_with_accumulation(accumulate):
    module = Regressor()
    callback = Spying("cdat", update_period=2)
    trainer = fit(module, callback, accumulate_grad_batches=accumulate)
    assert trainer.global_step == 4 == callback.steps == callback.driver.step_count == len(callback.stepped)
    assert callback.micro_batches == 4 * accumulate
    assert callback.stepped == callback.tuned and callback.stepped[-1] != [1e-3]
    assert callback.driver.hvp_count == 2  # steps 0 and 2
    assert max(callback.gradient_errors) < 1e-5 and max(callback.loss_errors) < 1e-6
    assert module.logged == 4 * accumulate  # the replayed training_step calls did not log


def test_bf16_mixed_replays_under_autocast():
    """precision="bf16-mixed": the replayed training_step runs in Lightning's autocast too, so the
    closures' loss is the trained one (bf16 rounding would differ by ~1e-3 otherwise)."""
    callback = Spying("cdat", update_period=2)
    fit(Regressor(), callback, steps=2, accumulate_grad_batches=2, precision="bf16-mixed")
    assert callback.steps == 2 and max(callback.loss_errors) < 1e-6 and max(callback.gradient_errors) < 1e-5


def test_gradients_are_clipped_before_the_tuner_reads_them():
    callback = Spying("hessianlr", update_period=1)
    fit(Regressor(), callback, steps=3, accumulate_grad_batches=2, gradient_clip_val=0.01)
    assert callback.grad_norms and max(callback.grad_norms) <= 0.01 * (1 + 1e-5)


def test_driver_state_through_lightning_checkpoint_hooks():
    first = HessianLRCallback("hessianlr", update_period=1)
    fit(Regressor(), first, steps=3)
    state = first.state_dict()
    second = HessianLRCallback("hessianlr", update_period=1)
    second.load_state_dict(state)  # before the driver exists, as when Lightning restores a checkpoint
    module = Regressor()
    trainer = pl.Trainer(max_steps=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, callbacks=[second])
    trainer.fit(module, loader())
    assert second.driver.step_count == 4  # 3 restored + 1


@pytest.mark.parametrize("module,error,match", [
    (lambda: Regressor(manual=True), ValueError, "manual optimization"),
    (lambda: Regressor(scheduler=True), ValueError, r"learning-rate scheduler \(StepLR\)"),
    (lambda: Regressor(optimizers=2), RuntimeError, "multiple optimizers"),  # Lightning's own refusal
])
def test_unsupported_setups_raise(module, error, match):
    with pytest.raises(error, match=match):
        fit(module(), HessianLRCallback("cdat"), steps=1)


# -- found by a new-user test ---------------------------------------------------------------------

class OwnClipping(Regressor):
    """Clips in its own configure_gradient_clipping (the Lightning docs' pattern), with the
    Trainer's gradient_clip_val left unset; can skip a batch (training_step returns None)."""

    def __init__(self, skip=None):
        super().__init__()
        self.skip = skip

    def training_step(self, batch, batch_idx):
        if batch_idx == self.skip:
            return None
        return super().training_step(batch, batch_idx)

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        self.clip_gradients(optimizer, gradient_clip_val=0.01, gradient_clip_algorithm="norm")


def test_a_modules_own_gradient_clipping_runs_before_the_tuner_reads_the_gradient():
    """Before, only gradient_clip_val made the callback clip first: the tuner read norms of 40–60
    while the optimizer stepped on ≤ 0.01."""
    callback = Spying("hessianlr", update_period=1)
    fit(OwnClipping(), callback, steps=3)
    assert len(callback.grad_norms) == 3 and max(callback.grad_norms) <= 0.01 * (1 + 1e-5)


def test_a_skipped_batch_is_not_tuned_or_counted():
    """training_step returning None (Lightning's "skip this batch"): the optimizer steps over no
    gradient; the callback keeps the rates instead of raising (it raised "no micro-batch of this
    step was recorded")."""
    callback = HessianLRCallback("cdat", update_period=2)
    trainer = fit(OwnClipping(skip=2), callback, steps=6)
    assert trainer.global_step == 6 and callback.driver.step_count == 5 and callback.steps == 5


def test_a_second_fit_tunes_the_new_optimizer():
    """Lightning builds a new optimizer for every fit; the callback kept setting the first one's
    rates (the second fit trained at the initial lr, silently). Now the tuner continues on it."""
    callback = HessianLRCallback("cdat", update_period=1)
    module = Regressor()
    first = fit(module, callback, steps=3)
    rates = callback.driver.get_last_lr()
    second = pl.Trainer(max_steps=3, callbacks=[callback], accelerator="cpu", logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    second.fit(module, loader())
    assert callback.driver.optimizer is second.optimizers[0] is not first.optimizers[0]
    assert callback.driver.step_count == 6 and callback.driver.get_last_lr() != rates
    assert [g["lr"] for g in second.optimizers[0].param_groups] == callback.driver.get_last_lr()


class ManualWithTuner(Regressor):
    """Manual optimization with the driver in the module, built on self.optimizers() as the
    callback's refusal message says (Lightning's wrapper, not the SGD inside)."""

    def __init__(self):
        super().__init__(manual=True)
        self.driver = None

    def training_step(self, batch, batch_idx):
        x, y = batch
        optimizer = self.optimizers()
        if self.driver is None:
            from hessianlr.torch import LRTuner
            self.driver = LRTuner(optimizer, "cdat", update_period=1)
        closure = lambda: F.mse_loss(self.net(x), y)  # noqa: E731
        optimizer.zero_grad()
        loss = closure()
        self.manual_backward(loss)
        self.driver.after_backward(closure, loss=loss)
        optimizer.step()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=1e-3, momentum=0.9)


def test_manual_optimization_with_lightnings_optimizer_wrapper():
    """The driver works on the optimizer inside Lightning's wrapper: SGD's closed-form update,
    no dry run through the wrapper's step (which counted a Lightning step: training ended after
    3 of 6 batches)."""
    from hessianlr.torch_directions import is_measured
    module = ManualWithTuner()
    trainer = pl.Trainer(max_steps=6, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, loader())
    assert trainer.global_step == 6 and module.driver.step_count == 6
    assert type(module.driver.optimizer) is torch.optim.SGD and not is_measured(module.driver.optimizer)
