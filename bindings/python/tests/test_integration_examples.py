"""The framework examples (issue 15, item 6) run as a user runs them, with few steps: they finish,
print their table, count one tuner step per optimizer step, and write the TensorBoard scalars they
promise. In this process (their ``main(argv)``: the frameworks are imported once for all the
tests), offline (HF_HUB_OFFLINE, WANDB_MODE=offline), every directory under tmp."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples" / "python"


@pytest.fixture
def example(monkeypatch, tmp_path):
    """Loads an example as a module; offline, W&B under tmp_path, torch's thread count restored."""
    for name, value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "WANDB_MODE": "offline",
                        "WANDB_SILENT": "true", "WANDB_DIR": str(tmp_path), "HF_HOME": str(tmp_path / "hf"),
                        "WANDB_CACHE_DIR": str(tmp_path / "wandb-cache"),
                        "WANDB_CONFIG_DIR": str(tmp_path / "wandb-config"),
                        "WANDB_DATA_DIR": str(tmp_path / "wandb-data")}.items():
        monkeypatch.setenv(name, value)
    threads = torch.get_num_threads()

    def load(script):
        spec = importlib.util.spec_from_file_location(script.removesuffix(".py"), EXAMPLES / script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    yield load
    torch.set_num_threads(threads)


def scalar_steps(logdir, tag):
    events = EventAccumulator(str(logdir))
    events.Reload()
    return [event.step for event in events.Scalars(tag)]


def test_hf_trainer_tiny(example, tmp_path, capsys):
    example("hf_trainer_tiny.py").main(["--steps", "3", "--logdir", str(tmp_path / "tb")])
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith(("bert ", "gpt2 "))}
    assert set(rows) == {"bert", "gpt2"}
    assert rows["bert"][4:6] == ["3", "3"] and rows["gpt2"][4:6] == ["3", "6"]  # steps, micro-batches (2 per step)
    for task in ("bert", "gpt2"):
        assert scalar_steps(tmp_path / "tb" / task, "hessianlr/lr/group_0") == [0, 1, 2]


def test_lightning_accumulation(example, tmp_path, capsys):
    example("lightning_accumulation.py").main(["--steps", "4", "--logdir", str(tmp_path / "tb"),
                                               "--wandb-dir", str(tmp_path / "wandb")])
    out = capsys.readouterr().out
    assert "4 optimizer steps tuned over 8 micro-batches" in out
    assert scalar_steps(tmp_path / "tb", "hessianlr/tuner_seconds") == [0, 1, 2, 3]
    assert list((tmp_path / "wandb" / "wandb").glob("offline-run-*/run-*.wandb"))
