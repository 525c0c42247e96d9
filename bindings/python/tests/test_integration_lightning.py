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
