"""hessianlr.integrations.logging (issue 15, item 3): the tuner's rate, curvature, slope,
edge-of-stability ratio and overhead per optimizer step, written to TensorBoard (read back with
tensorboard's EventAccumulator) and to an offline W&B run (read back from its .wandb file)."""

from __future__ import annotations

import json
import math
import struct
import time
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import hessianlr as h
from hessianlr.integrations.logging import StepMetrics, TensorBoardLogger, WandbLogger, step_metrics
from hessianlr.torch import LRTuner

F = torch.nn.functional


def train(method, steps, loggers=(), **options):
    """A plain loop with after_backward; returns the metrics of every step and the driver's
    curvature diagnostics read independently (Tuner.info) right after each step."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    optimizer = torch.optim.SGD([{"params": model[0].parameters()}, {"params": model[2].parameters()}], lr=0.05)
    driver = LRTuner(optimizer, method, **options)
    closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
    history = []
    for t in range(steps):
        optimizer.zero_grad()
        loss = closure()
        loss.backward()
        began = time.perf_counter()
        driver.after_backward(closure, loss=loss)
        metrics = step_metrics(driver, t, tuner_seconds=time.perf_counter() - began, loss=float(loss.detach()))
        for logger in loggers:
            logger.log(metrics)
        try:
            curvature = [driver.tuner.info(h.Info.LAST_CURVATURE, k) for k in range(2)]
        except h.UnknownKeyError:  # methods that observe no curvature (GeN's loss fits)
            curvature = None
        history.append((metrics, curvature))
        optimizer.step()
    for logger in loggers:
        logger.close()
    return history


def test_metrics_hold_the_library_diagnostics():
    history = train("hessianlr", 4, update_period=2)
    for t, (metrics, curvature) in enumerate(history):
        assert metrics.step == t and metrics.observed == (t % 2 == 0)
        if metrics.observed:
            assert list(metrics.curvature) == curvature and all(math.isfinite(c) for c in curvature)
        else:
            assert all(math.isnan(c) for c in metrics.curvature)
        scalars = metrics.scalars()
        assert scalars["hessianlr/lr/group_1"] == metrics.lrs[1]
        assert ("hessianlr/curvature/group_0" in scalars) == metrics.observed
        assert "hessianlr/edge_of_stability/group_0" not in scalars  # no sharpness given: unknown


def test_edge_of_stability_where_the_sharpness_is_known():
    """CDAT with a sharpness λ_max: lr·λ_max (Info.EDGE_OF_STABILITY), and sharpness = that / lr."""
    metrics, _ = train("cdat", 2, update_period=1, sharpness=[3.0, 5.0])[-1]
    assert metrics.edge_of_stability == pytest.approx([3.0 * metrics.lrs[0], 5.0 * metrics.lrs[1]])
    assert metrics.sharpness == pytest.approx([3.0, 5.0])
    assert metrics.scalars()["hessianlr/edge_of_stability/group_1"] == metrics.edge_of_stability[1]


def test_methods_without_curvature_diagnostics_log_nan_not_fail():
    metrics, _ = train("gen", 3, update_period=1)[-1]
    assert metrics.observed and all(math.isnan(c) for c in metrics.curvature)
    assert metrics.probe_count > 0


def test_tensorboard_event_files_hold_the_scalars(tmp_path):
    history = train("hessianlr", 5, [TensorBoardLogger(str(tmp_path))], update_period=2)
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"hessianlr/lr/group_0", "hessianlr/lr/group_1", "hessianlr/curvature/group_0",
            "hessianlr/tuner_seconds", "hessianlr/loss"} <= tags
    lr = events.Scalars("hessianlr/lr/group_0")
    assert [e.step for e in lr] == list(range(5))
    assert [e.value for e in lr] == pytest.approx([m.lrs[0] for m, _ in history], rel=1e-6)  # float32 on disk
    curvature = events.Scalars("hessianlr/curvature/group_1")
    assert [e.step for e in curvature] == [0, 2, 4]
    assert [e.value for e in curvature] == pytest.approx([history[t][1][1] for t in (0, 2, 4)], rel=1e-6)
    assert all(e.value >= 0 for e in events.Scalars("hessianlr/tuner_seconds"))


def wandb_history(run_dir: Path) -> list[dict]:
    """The history rows of an offline run, read from its .wandb file (LevelDB log format: 32 KiB
    blocks of records with a 7-byte header, crc32 · length · type, after a 7-byte W&B header;
    each record a wandb_internal_pb2.Record)."""
    from wandb.proto import wandb_internal_pb2

    data = next(run_dir.glob("*.wandb")).read_bytes()
    assert data[:4] == b":W&B"
    block, position, pending, rows = 32768, 7, b"", []
    while position + 7 <= len(data):
        left = block - position % block
        if left < 7:
            position += left
            continue
        _, length, kind = struct.unpack("<IHB", data[position:position + 7])
        if length == 0 and kind == 0:
            position += left
            continue
        chunk = data[position + 7:position + 7 + length]
        position += 7 + length
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            if record.WhichOneof("record_type") == "history":
                rows.append({item.key or "/".join(item.nested_key): json.loads(item.value_json)
                             for item in record.history.item})
            pending = b""
    return rows


def test_wandb_offline_run_holds_the_scalars(tmp_path, monkeypatch):
    import wandb

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for name in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR"):  # nothing outside tmp_path
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    logger = WandbLogger(mode="offline", dir=str(tmp_path), project="hessianlr-tests")
    run_dir = Path(logger.run.dir).parent
    history = train("hessianlr", 4, [logger], update_period=2)
    wandb.teardown()  # finish() returns before W&B's service process has written everything; this waits
    rows = wandb_history(run_dir)
    assert [row["hessianlr/step"] for row in rows] == [0, 1, 2, 3]
    assert [row["hessianlr/lr/group_1"] for row in rows] == [m.lrs[1] for m, _ in history]
    assert [row["hessianlr/curvature/group_0"] for row in rows if "hessianlr/curvature/group_0" in row] == \
        [history[t][1][0] for t in (0, 2)]
    assert all(row["hessianlr/tuner_seconds"] >= 0 for row in rows)


def test_scalars_skip_what_is_not_finite():
    metrics = StepMetrics(step=3, lrs=(0.1,), observed=False, curvature=(math.nan,), slope=(math.nan,),
                          edge_of_stability=(math.nan,), sharpness=(math.nan,), tuner_seconds=0.5,
                          step_seconds=2.0, hvp_count=1, probe_count=0, gradient_count=2)
    assert metrics.scalars("x") == {"x/lr/group_0": 0.1, "x/tuner_seconds": 0.5, "x/step_seconds": 2.0,
                                    "x/overhead_fraction": 0.25, "x/hvp_count": 1.0, "x/probe_count": 0.0,
                                    "x/gradient_count": 2.0, "x/micro_batches": 1.0}
    with pytest.raises(ValueError, match="exactly one"):
        TensorBoardLogger()
