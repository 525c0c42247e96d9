"""Python mirrors of the numeric macros of ``include/hessianlr.h``.

Naming: the header's ``HLR_<GROUP>_<NAME>`` becomes ``<Group>.<NAME>`` (``HLR_PARAM_LR_MIN`` is
``Param.LR_MIN``); status codes drop their ``ERR_`` (``HLR_ERR_NONFINITE`` is
``Status.NONFINITE``, ``HLR_OK`` is ``Status.OK``). A test parses the header and checks that
every macro has its member with the same value, and vice versa.
"""

from enum import IntEnum, IntFlag

__all__ = ["Method", "Param", "Info", "Flag", "Direction", "Reset", "Status", "Need"]


class Method(IntEnum):
    """Learning-rate rules (``HLR_METHOD_*``)."""

    #: lr* = gᵀd / dᵀHd with warmup, relative bounds, EMA and an absolute clamp.
    HESSIANLR = 1


class Param(IntEnum):
    """Option keys (``HLR_PARAM_*``); values are doubles, integer options reject fractions.

    Learning rates are in weight units per unit of the direction d (w ← w − lr·d); step counts
    are optimizer steps.
    """

    #: η₀ per group, the warmup target (default 1e-3).
    INITIAL_LR = 1
    #: W: lr(t) = η₀·(t+1)/W for t < W (default 0).
    WARMUP_STEPS = 2
    #: P: curvature wanted at t ≥ W with (t − W) % P == 0 (default 10).
    UPDATE_PERIOD = 3
    #: candidate ≥ low·lr, low in (0, 1] (default 0.3).
    LR_BOUND_LOW = 4
    #: candidate ≤ high·lr, high ≥ 1 (default 3.0).
    LR_BOUND_HIGH = 5
    #: absolute floor, ≤ lr_max (default 1e-8).
    LR_MIN = 6
    #: absolute ceiling (default 1.0).
    LR_MAX = 7
    #: β of lr ← β·lr + (1 − β)·candidate, in [0, 1) (default 0.9).
    SMOOTHING = 8
    #: candidate = decay·lr when dᵀHd ≤ 0 (default 0.5).
    NEGATIVE_CURVATURE_DECAY = 9
    #: :class:`Direction` (default gradient).
    DIRECTION = 10


class Info(IntEnum):
    """Diagnostics keys of ``Tuner.info`` (``HLR_INFO_*``)."""

    #: curvature observations applied.
    UPDATES = 1
    #: step of the last observation, −1 if none.
    LAST_STEP = 2
    #: next step that will want curvature.
    NEXT_CURVATURE_STEP = 3
    #: per group: raw gᵀd/dᵀHd of the last update, or NaN.
    LAST_CANDIDATE = 4
    #: per group: :class:`Flag` bits of the last update.
    LAST_FLAGS = 5
    #: per group: observed dᵀHd of the last update, or NaN.
    LAST_CURVATURE = 6
    #: per group: observed gᵀd of the last update, or NaN.
    LAST_SLOPE = 7


class Flag(IntFlag):
    """What happened to a group's rate in its last update (``HLR_FLAG_*`` bits)."""

    #: candidate raised to low·lr.
    BOUNDED_LOW = 1
    #: candidate lowered to high·lr.
    BOUNDED_HIGH = 2
    #: result raised to lr_min.
    CLAMPED_MIN = 4
    #: result lowered to lr_max.
    CLAMPED_MAX = 8
    #: dᵀHd ≤ 0: candidate was decay·lr.
    NEGATIVE_CURVATURE = 16
    #: gᵀd == 0: rate kept.
    ZERO_GRADIENT = 32
    #: gᵀd < 0 (direction update): rate kept.
    NOT_DESCENT = 64


class Direction(IntEnum):
    """Direction of the quadratic model (``HLR_DIRECTION_*``)."""

    #: d = g: observations are gᵀg and gᵀHg.
    GRADIENT = 0
    #: d = u, the optimizer's update (w ← w − lr·u): observations are gᵀu and uᵀHu.
    UPDATE = 1


class Reset(IntEnum):
    """What ``Tuner.reset`` forgets (``HLR_RESET_*``)."""

    #: observations: back to the initial learning rates.
    STATE = 1
    #: every option back to its default.
    OPTIONS = 2
    ALL = 3


class Status(IntEnum):
    """Status codes (``HLR_OK``, ``HLR_ERR_*``)."""

    OK = 0
    NULL_POINTER = 1
    INVALID_HANDLE = 2
    INVALID_ARGUMENT = 3
    UNKNOWN_METHOD = 4
    UNKNOWN_KEY = 5
    NONFINITE = 6
    CALLBACK = 7
    WRONG_STATE = 8
    BUFFER_TOO_SMALL = 9
    SNAPSHOT_CORRUPT = 10
    SNAPSHOT_VERSION = 11
    SNAPSHOT_MISMATCH = 12


class Need(IntEnum):
    """What a tuner needs next at a step (``HLR_NEED_*``); also the observation kinds."""

    #: the step's rates are final.
    NOTHING = 0
    #: [g_kᵀd_k, d_kᵀH d_k] per group (2·groups values).
    CURVATURE = 1
    #: L(w − Σ_k ξ_jk·d_k) at each probe j of ``Tuner.probes`` (one value per probe).
    LOSSES = 2
    #: [L(w), g_0ᵀd_0, …, g_{K−1}ᵀd_{K−1}] (groups + 1 values).
    SLOPE = 3
