"""The framework examples (issue 15, item 6) run as a user runs them, with few steps: they exit
cleanly, print their table, count one tuner step per optimizer step, and write the TensorBoard
scalars they promise. Offline: HF_HUB_OFFLINE and WANDB_MODE=offline, every directory under tmp."""

from __future__ import annotations

import os
import subprocess
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples" / "python"


def run(script, *args, tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", WANDB_MODE="offline", WANDB_SILENT="true",
               HF_HOME=str(tmp_path / "hf"), WANDB_DIR=str(tmp_path), WANDB_CACHE_DIR=str(tmp_path / "wandb-cache"),
               WANDB_CONFIG_DIR=str(tmp_path / "wandb-config"), WANDB_DATA_DIR=str(tmp_path / "wandb-data"))
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def scalar_steps(logdir, tag):
    events = EventAccumulator(str(logdir))
    events.Reload()
    return [event.step for event in events.Scalars(tag)]


def test_hf_trainer_tiny(tmp_path):
    out = run("hf_trainer_tiny.py", "--steps", "3", "--logdir", str(tmp_path / "tb"), tmp_path=tmp_path)
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith(("bert ", "gpt2 "))}
    assert set(rows) == {"bert", "gpt2"}
    assert rows["bert"][4:6] == ["3", "3"] and rows["gpt2"][4:6] == ["3", "6"]  # steps, micro-batches (2 per step)
    for task in ("bert", "gpt2"):
        assert scalar_steps(tmp_path / "tb" / task, "hessianlr/lr/group_0") == [0, 1, 2]


def test_lightning_accumulation(tmp_path):
    out = run("lightning_accumulation.py", "--steps", "4", "--logdir", str(tmp_path / "tb"),
              "--wandb-dir", str(tmp_path / "wandb"), tmp_path=tmp_path)
    assert "4 optimizer steps tuned over 8 micro-batches" in out
    assert scalar_steps(tmp_path / "tb", "hessianlr/tuner_seconds") == [0, 1, 2, 3]
    assert list((tmp_path / "wandb" / "wandb").glob("offline-run-*/run-*.wandb"))
