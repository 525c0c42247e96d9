"""Python transcriptions of the library's host-mode arithmetic, for bit-for-bit comparisons.

- ``lib_dot``: HostKernels.dot — float64 products summed in 8 lanes (lane i takes elements
  i, i+8, …), lanes reduced pairwise (low half + high half, twice), then the tail in order.
- ``trial_point``: LossProbes — element i of group k is T(float64(w_i) − ξ_k·float64(d_i)).
- ``observe_by_hand``: the general protocol driven in Python with those, i.e. what
  ``hlr_tuner_step_host_*`` computes, through ``need``/``probes``/``observe`` (``drive_by_hand``:
  that loop for any source of values).
"""

from __future__ import annotations

import numpy as np

from hessianlr import Need


def lib_dot(x: np.ndarray, y: np.ndarray) -> float:
    x = np.asarray(x).astype(np.float64)
    y = np.asarray(y).astype(np.float64)
    n = min(x.size, y.size)
    body = n - n % 8
    lanes = np.zeros(8)
    for i in range(0, body, 8):
        lanes = lanes + x[i : i + 8] * y[i : i + 8]
    half = lanes[:4] + lanes[4:]
    quarter = half[:2] + half[2:]
    total = float(quarter[0] + quarter[1])
    for i in range(body, n):
        total += float(x[i] * y[i])
    return total


def ranges(offsets, n):
    offsets = [0, n] if offsets is None else list(offsets)
    return [slice(offsets[k], offsets[k + 1]) for k in range(len(offsets) - 1)]


def trial_point(w: np.ndarray, d: np.ndarray, row, offsets) -> np.ndarray:
    out = np.empty_like(w)
    for k, part in enumerate(ranges(offsets, w.size)):
        out[part] = (w[part].astype(np.float64) - float(row[k]) * d[part].astype(np.float64)).astype(w.dtype)
    return out


class Quadratic:
    """L(w) = ½ wᵀAw − bᵀw in float64 (A SPD), gradient and HVP in the buffers' dtype."""

    def __init__(self, n: int, seed: int = 0, dtype=np.float64, scale: float = 1.0):
        rng = np.random.default_rng(seed)
        a = rng.normal(size=(n, n))
        self.A = (a @ a.T / n + np.eye(n)) * scale
        self.b = rng.normal(size=n)
        self.dtype = np.dtype(dtype)
        self.loss_calls = 0
        self.hvp_calls = 0

    def loss(self, w) -> float:
        self.loss_calls += 1
        w = np.asarray(w, dtype=np.float64)
        return float(0.5 * w @ self.A @ w - self.b @ w)

    def gradient(self, w) -> np.ndarray:
        return (self.A @ w.astype(np.float64) - self.b).astype(self.dtype)

    def hvp(self, v, out) -> None:
        self.hvp_calls += 1
        out[:] = (self.A @ v.astype(np.float64)).astype(out.dtype)


def drive_by_hand(tuner, step, values_of) -> int:
    """Runs ``step`` to completion through need/observe: ``values_of(need, count)`` gives the
    values of each observation the tuner asks for. Returns the number of observations."""
    rounds = 0
    while True:
        need, count = tuner.need(step)
        if need == Need.NOTHING:
            return rounds
        tuner.observe(step, need, values_of(need, count))
        rounds += 1


def probe_losses(tuner, step, current_loss, loss_at) -> list:
    """The losses at the rows of ``tuner.probes(step)``: ``current_loss`` (when known) at the row
    of zeros, ``loss_at(row)`` elsewhere."""
    return [current_loss if current_loss is not None and not row.any() else loss_at(row)
            for row in tuner.probes(step)]


def observe_by_hand(tuner, step, w, g, d, offsets, problem, current_loss=None) -> int:
    """Runs ``step`` to completion through need/probes/observe with the library's host arithmetic
    (d = the direction; ``problem`` gives loss and hvp). Returns the number of observations."""
    parts = ranges(offsets, w.size)

    def values_of(need, count) -> list:
        if need == Need.CURVATURE:
            values = []
            for part in parts:
                s = lib_dot(g[part], d[part])
                if part.stop == part.start:
                    values += [0.0, 0.0]
                    continue
                if len(parts) == 1:
                    v = d
                else:
                    v = np.zeros_like(d)
                    v[part] = d[part]
                out = np.zeros_like(d)
                problem.hvp(v, out)
                values += [s, lib_dot(d[part], out[part])]
            return values
        if need == Need.SLOPE:
            loss = current_loss if current_loss is not None else problem.loss(w)
            return [loss] + [lib_dot(g[part], d[part]) for part in parts]
        values = probe_losses(tuner, step, current_loss, lambda row: problem.loss(trial_point(w, d, row, offsets)))
        assert len(values) == count
        return values

    return drive_by_hand(tuner, step, values_of)
