"""Python mirrors of the numeric macros of ``include/hessianlr.h``.

Naming: the header's ``HLR_<GROUP>_<NAME>`` becomes ``<Group>.<NAME>`` (``HLR_PARAM_LR_MIN`` is
``Param.LR_MIN``); status codes drop their ``ERR_`` (``HLR_ERR_NONFINITE`` is
``Status.NONFINITE``, ``HLR_OK`` is ``Status.OK``). The schedule families are
``HLR_SCHEDULE_*`` → :class:`ScheduleKind`, ``HLR_SCHED_PARAM_*`` → :class:`ScheduleParam`,
``HLR_ANNEAL_*`` → :class:`AnnealStrategy`, ``HLR_CYCLIC_*`` → :class:`CyclicMode`,
``HLR_DECAY_*`` → :class:`DecayShape`; the estimator families are ``HLR_ESTIMATOR_*`` →
:class:`EstimatorKind`, ``HLR_EST_PARAM_*`` → :class:`EstimatorParam`, ``HLR_WHICH_*`` →
:class:`Which`, ``HLR_PROBE_*`` → :class:`ProbeDistribution`, ``HLR_TERMINATION_*`` →
:class:`Termination`, ``HLR_RESULT_*`` → :class:`Result`, ``HLR_BATCH_SCALING_*`` →
:class:`BatchScaling`. A test parses the header and checks that every macro has
its member with the same value, and vice versa.

Units: learning rates are in weight units per unit of the direction d (the trainer steps
w ← w − lr·d); step counts are 0-based optimizer steps.
"""

from enum import IntEnum, IntFlag

__all__ = [
    "Method",
    "Param",
    "Info",
    "Flag",
    "Direction",
    "Optimizer",
    "Model",
    "Reset",
    "Status",
    "Need",
    "ScheduleKind",
    "ScheduleParam",
    "AnnealStrategy",
    "CyclicMode",
    "DecayShape",
    "EstimatorKind",
    "EstimatorParam",
    "Which",
    "ProbeDistribution",
    "Termination",
    "Result",
    "BatchScaling",
    "ParamFamily",
    "ParamFlag",
]


class Method(IntEnum):
    """Learning-rate rules (``HLR_METHOD_*``)."""

    #: lr* = gᵀd / dᵀHd with warmup, relative bounds, EMA and an absolute clamp (seed 000).
    HESSIANLR = 1
    #: η = σ·EMA(max(gᵀu, 0)) / EMA(|uᵀHu| + ε) (CDAT, seed 002).
    CDAT = 2
    #: quadratic fit of forward losses at ±lr probes, one scale for all groups (GeN, seed 001).
    GEN = 3
    #: per-group rates from a least-squares fit over random per-group probes (Hi-DLR, seed 001).
    HIDLR = 4
    #: Armijo backtracking line search, one rate for all groups (optax defaults).
    ARMIJO = 5
    #: initial_lr per group; with a schedule attached, the schedule's shape.
    CONSTANT = 6
    #: the recommended mode: a bracket search, then forward-loss quadratic models along the
    #: optimizer's previous update, averaged; fast cut on divergence.
    AUTO = 7


class Param(IntEnum):
    """Option keys (``HLR_PARAM_*``); values are doubles, integer options reject fractions.

    Each method has a subset (``param_bounds(method, key)`` gives its range and default). The
    defaults quoted here are HessianLR's unless a method is named.
    """

    #: η₀ per group: the rate before the first update, the warmup target (1e-3; Armijo 1.0, handle-wide).
    INITIAL_LR = 1
    #: HessianLR W: lr(t) = η₀·(t+1)/W for t < W (0).
    WARMUP_STEPS = 2
    #: P: observations at t ≥ W with (t − W) % P == 0 (HessianLR 10, CDAT 1, GeN 4, Hi-DLR 10).
    UPDATE_PERIOD = 3
    #: candidate ≥ low·lr, low in (0, 1] (HessianLR 0.3; GeN/Hi-DLR 0.5).
    LR_BOUND_LOW = 4
    #: candidate ≤ high·lr, high ≥ 1 (HessianLR 3.0; GeN/Hi-DLR 2.0).
    LR_BOUND_HIGH = 5
    #: absolute floor, ≤ lr_max (1e-8).
    LR_MIN = 6
    #: absolute ceiling (1.0).
    LR_MAX = 7
    #: β of an EMA, in [0, 1) (0.9).
    SMOOTHING = 8
    #: HessianLR: candidate = decay·lr when dᵀHd ≤ 0 (0.5).
    NEGATIVE_CURVATURE_DECAY = 9
    #: :class:`Direction` (HessianLR gradient, CDAT update).
    DIRECTION = 10
    #: CDAT σ: 2 on the edge of stability, 1 quadratically greedy (2.0).
    SIGMA = 11
    #: CDAT ε of d = |uᵀHu| + ε, units of uᵀHu (1e-12).
    EPSILON = 12
    #: CDAT, per group: the caller's λ_max for the edge-of-stability diagnostic (0: none).
    SHARPNESS = 13
    #: GeN (≥ 3, default 3) / Hi-DLR (0: automatic max(4K, p + K)): probes per update.
    PROBE_COUNT = 14
    #: GeN, Hi-DLR: probe steps are ±scale·lr (1.0).
    PROBE_SCALE = 15
    #: GeN, Hi-DLR: fits need R² above this (0.99).
    R2_THRESHOLD = 16
    #: GeN, Hi-DLR: rate factor on a rejected fit (0.5).
    FIT_FAILURE_DECAY = 17
    #: Hi-DLR: seed of the random probes (0).
    SEED = 18
    #: Hi-DLR: :class:`Model` (diagonal).
    MODEL = 19
    #: Hi-DLR full model: eigenvalues raised to ≥ floor·λ_max (1e-3).
    EIGEN_FLOOR = 20
    #: Armijo c of f(w − η·d) ≤ f(w) − c·η·gᵀd (1e-4).
    SUFFICIENT_DECREASE = 21
    #: Armijo: trial *= factor after a failed test (0.8).
    DECREASE_FACTOR = 22
    #: Armijo: next first trial = accepted·factor (1.5).
    INCREASE_FACTOR = 23
    #: Armijo: decreases allowed per search (15).
    MAX_BACKTRACKS = 24
    #: auto: :class:`Optimizer` (SGD).
    OPTIMIZER = 25
    #: auto: SGD momentum β or Adam's β₁.
    MOMENTUM = 26
    #: auto: SGD dampening τ.
    DAMPENING = 27
    #: auto: SGD Nesterov (0 or 1).
    NESTEROV = 28
    #: auto: 1 = the probes run along the optimizer's previous update (the torch driver sets it).
    PROBE_PREVIOUS = 29


class Info(IntEnum):
    """Diagnostics keys of ``Tuner.info`` (``HLR_INFO_*``); per-group keys use the group."""

    #: observations applied (curvature updates, fits, completed searches).
    UPDATES = 1
    #: step of the last observation, −1 if none.
    LAST_STEP = 2
    #: next step that will want curvature (−1: none).
    NEXT_CURVATURE_STEP = 3
    #: per group: raw candidate of the last update (gᵀd/dᵀHd, σ·n̂/d̂, b/a, trial), or NaN.
    LAST_CANDIDATE = 4
    #: per group: :class:`Flag` bits of the last update.
    LAST_FLAGS = 5
    #: per group: observed dᵀHd of the last update, or NaN.
    LAST_CURVATURE = 6
    #: per group: observed gᵀd of the last update, or NaN.
    LAST_SLOPE = 7
    #: next step that will need an observation (−1: none).
    NEXT_UPDATE_STEP = 8
    #: GeN/Hi-DLR: c of the last fit (a loss).
    FIT_INTERCEPT = 9
    #: per group: b_k of the last fit (loss per unit step ξ).
    FIT_SLOPE = 10
    #: per group: A_kk of the last fit (loss per unit step²).
    FIT_CURVATURE = 11
    #: R² of the last fit.
    FIT_R2 = 12
    #: per group: sup_{ξ≥0} b_k·ξ − A_kk·ξ²/2 (per-parameter influence, a loss decrease).
    INFLUENCE = 13
    #: per group: 0 = most influential, −1 before a fit.
    INFLUENCE_RANK = 14
    #: per group: lr·sharpness (2 = edge of stability), NaN if no sharpness was given.
    EDGE_OF_STABILITY = 15
    #: per group: CDAT's EMA of max(gᵀu, 0).
    SMOOTHED_NUMERATOR = 16
    #: per group: CDAT's EMA of |uᵀHu| + ε.
    SMOOTHED_DENOMINATOR = 17
    #: Armijo: decreases in the current or last search.
    BACKTRACKS = 18
    #: Armijo: the pending trial rate, NaN if none.
    TRIAL_LR = 19
    #: Armijo: L(w) of the last slope observation.
    REFERENCE_LOSS = 20


class Flag(IntFlag):
    """What happened to a group's rate in its last update (``HLR_FLAG_*`` bits)."""

    #: candidate raised to low·lr.
    BOUNDED_LOW = 1
    #: candidate lowered to high·lr (auto: to 4× the rate per fit, or to a spike's edge).
    BOUNDED_HIGH = 2
    #: result raised to lr_min.
    CLAMPED_MIN = 4
    #: result lowered to lr_max.
    CLAMPED_MAX = 8
    #: dᵀHd ≤ 0: candidate was decay·lr (CDAT: |dᵀHd| used).
    NEGATIVE_CURVATURE = 16
    #: gᵀd == 0: rate kept (auto: probe losses too close to resolve; the rate doubled before an
    #: informative fit since the bracket or a reset, else it was kept).
    ZERO_GRADIENT = 32
    #: gᵀd < 0 (direction update): rate kept.
    NOT_DESCENT = 64
    #: quadratic fit unused: rejected by a gate (rate kept) or failed (RANK_DEFICIENT or
    #: OBSERVATION_FAILED: rate × fit_failure_decay).
    FIT_REJECTED = 128
    #: R² below the threshold.
    POOR_FIT = 256
    #: probes did not determine the fit.
    RANK_DEFICIENT = 512
    #: full A was projected to positive definite.
    PROJECTED = 1024
    #: line search hit max_backtracks.
    BACKTRACK_LIMIT = 2048
    #: the caller reported unmeasurable losses (:meth:`Tuner.observe_failure`).
    OBSERVATION_FAILED = 4096
    #: auto: the last step more than doubled the batch loss; the rate was cut at once.
    LOSS_SPIKE = 8192


class Optimizer(IntEnum):
    """The base optimizer of ``auto`` (``HLR_OPTIMIZER_*``)."""

    #: torch.optim.SGD (momentum, dampening, nesterov).
    SGD = 0
    #: torch.optim.Adam / AdamW (momentum = β₁).
    ADAM = 1


class Direction(IntEnum):
    """Direction of the quadratic model (``HLR_DIRECTION_*``)."""

    #: d = g: observations are gᵀg and gᵀHg.
    GRADIENT = 0
    #: d = u, the optimizer's update (w ← w − lr·u): observations are gᵀu and uᵀHu.
    UPDATE = 1


class Model(IntEnum):
    """Hi-DLR's quadratic model (``HLR_MODEL_*``)."""

    #: L ≈ c − Σ b_k ξ_k + ½ Σ a_k ξ_k² (2K + 1 unknowns).
    DIAGONAL = 0
    #: full symmetric A (K ≤ 16), projected to positive definite.
    FULL = 1


class Reset(IntEnum):
    """What ``Tuner.reset`` forgets (``HLR_RESET_*``)."""

    #: observations: back to the initial learning rates.
    STATE = 1
    #: every option back to its default (and the schedule detached).
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


class ScheduleKind(IntEnum):
    """Schedule kinds (``HLR_SCHEDULE_*``); values are absolute rates, torch semantics."""

    #: base_lr·factor for t < total_iters, then base_lr (torch ConstantLR).
    CONSTANT = 1
    #: torch LinearLR.
    LINEAR = 2
    #: torch StepLR.
    STEP = 3
    #: torch MultiStepLR (milestones through ``Schedule.set_milestones``).
    MULTI_STEP = 4
    #: torch ExponentialLR.
    EXPONENTIAL = 5
    #: torch PolynomialLR.
    POLYNOMIAL = 6
    #: torch CosineAnnealingLR.
    COSINE = 7
    #: torch CosineAnnealingWarmRestarts.
    COSINE_WARM_RESTARTS = 8
    #: torch OneCycleLR (learning rate only).
    ONE_CYCLE = 9
    #: torch CyclicLR (learning rate only).
    CYCLIC = 10
    #: linear warmup, plateau, decay to final_lr.
    WARMUP_STABLE_DECAY = 11
    #: HyperbolicLR (seed 004).
    HYPERBOLIC = 12
    #: ExpHyperbolicLR (seed 004); infimum_lr > 0.
    EXP_HYPERBOLIC = 13
    #: pieces joined at boundaries (``join``).
    JOIN = 14
    #: linear warmup in front of a child (``warmup``).
    WARMUP = 15


class ScheduleParam(IntEnum):
    """Schedule parameter keys (``HLR_SCHED_PARAM_*``); the keyword names of :class:`Schedule`
    are the lower-case member names (``base_lr``, ``t_max``, ...)."""

    BASE_LR = 1
    FACTOR = 2
    TOTAL_ITERS = 3
    START_FACTOR = 4
    END_FACTOR = 5
    STEP_SIZE = 6
    GAMMA = 7
    POWER = 8
    T_MAX = 9
    ETA_MIN = 10
    T_0 = 11
    T_MULT = 12
    MAX_LR = 13
    TOTAL_STEPS = 14
    PCT_START = 15
    #: :class:`AnnealStrategy`.
    ANNEAL_STRATEGY = 16
    DIV_FACTOR = 17
    FINAL_DIV_FACTOR = 18
    #: 0 or 1.
    THREE_PHASE = 19
    STEP_SIZE_UP = 20
    #: −1: same as step_size_up (torch's None).
    STEP_SIZE_DOWN = 21
    #: :class:`CyclicMode`.
    MODE = 22
    WARMUP_STEPS = 23
    STABLE_STEPS = 24
    DECAY_STEPS = 25
    START_LR = 26
    FINAL_LR = 27
    #: :class:`DecayShape`.
    DECAY_SHAPE = 28
    #: HyperbolicLR N.
    MAX_ITER = 29
    #: HyperbolicLR U ≥ N.
    UPPER_BOUND = 30
    #: HyperbolicLR η_inf.
    INFIMUM_LR = 31


class AnnealStrategy(IntEnum):
    """OneCycleLR's annealing (``HLR_ANNEAL_*``; torch's ``anneal_strategy="cos"|"linear"``)."""

    COS = 0
    LINEAR = 1


class CyclicMode(IntEnum):
    """CyclicLR's amplitude policy (``HLR_CYCLIC_*``; torch's ``mode=``)."""

    TRIANGULAR = 0
    TRIANGULAR2 = 1
    EXP_RANGE = 2


class DecayShape(IntEnum):
    """Warmup-stable-decay's decay shape (``HLR_DECAY_*``)."""

    LINEAR = 0
    COSINE = 1
    ONE_MINUS_SQRT = 2


class EstimatorKind(IntEnum):
    """Curvature estimators (``HLR_ESTIMATOR_*``) over an HVP operator H."""

    #: top-k eigenpairs, Lanczos with full reorthogonalisation.
    LANCZOS = 1
    #: top-|λ| eigenpairs, power iteration with deflation.
    POWER_ITERATION = 2
    #: tr(H) ≈ mean zᵀHz, optional per-block traces.
    HUTCHINSON = 3
    #: tr(H) by Hutch++ (sketch + deflated Hutchinson).
    HUTCH_PLUS_PLUS = 4
    #: diag(H) ≈ mean z ⊙ Hz, optional per-block means.
    DIAGONAL = 5
    #: stochastic Lanczos quadrature + Gaussian-smoothed grid.
    SPECTRAL_DENSITY = 6
    #: tr(H) by XTrace, the exchangeable Hutch++.
    XTRACE = 7
    #: diag(H) by XDiag, the exchangeable diagonal estimator; optional per-block means.
    XDIAG = 8


class EstimatorParam(IntEnum):
    """Estimator parameter keys (``HLR_EST_PARAM_*``; ranges and defaults from
    ``hlr_estimator_param_bounds``)."""

    COUNT = 1
    #: :class:`Which`.
    WHICH = 2
    TOLERANCE = 3
    MAX_DIMENSION = 4
    MAX_ITERATIONS = 5
    #: :class:`ProbeDistribution`.
    DISTRIBUTION = 6
    COMPUTE_VECTORS = 7
    SYMMETRY_TOLERANCE = 8
    SAMPLES = 9
    RELATIVE_TOLERANCE = 10
    MIN_SAMPLES = 11
    MATVECS = 12
    SKETCH_SIZE = 13
    RUNS = 14
    STEPS = 15
    GRID_POINTS = 16
    SIGMA = 17
    GRID_LOWER = 18
    GRID_UPPER = 19
    THREADS = 20
    EIGENVALUE_TOLERANCE = 21


class Which(IntEnum):
    """Which eigenvalues first (``HLR_WHICH_*``)."""

    #: largest |λ| first (ties: larger λ first).
    LARGEST_MAGNITUDE = 1
    #: largest λ first (the sharpness).
    LARGEST_ALGEBRAIC = 2
    #: smallest λ first (most negative curvature).
    SMALLEST_ALGEBRAIC = 3


class ProbeDistribution(IntEnum):
    """Random probe vectors (``HLR_PROBE_*``)."""

    #: ±1 with probability 1/2 each.
    RADEMACHER = 1
    #: standard normal (Box-Muller).
    GAUSSIAN = 2


class Termination(IntEnum):
    """Why a Lanczos run stopped (``HLR_TERMINATION_*``)."""

    CONVERGED = 0
    EXHAUSTED = 1
    ITERATION_LIMIT = 2


class Result(IntEnum):
    """Estimator result keys (``HLR_RESULT_*``)."""

    EIGENVALUES = 1
    RESIDUALS = 2
    EIGENVECTORS = 3
    ITERATIONS = 4
    CONVERGED = 5
    TERMINATION = 6
    RESTARTS = 7
    MAX_ASYMMETRY = 8
    HVPS = 9
    TRACE = 10
    STANDARD_ERROR = 11
    BLOCK_TRACES = 12
    BLOCK_TRACE_ERRORS = 13
    SAMPLES = 14
    SKETCH_RANK = 15
    DIAGONAL = 16
    BLOCK_MEANS = 17
    BLOCK_MEAN_ERRORS = 18
    DENSITY_NODES = 19
    DENSITY_WEIGHTS = 20
    RUN_STEPS = 21
    GRID = 22
    DENSITY = 23
    SIGMA = 24
    ERROR_BOUNDS = 25


class BatchScaling(IntEnum):
    """Learning-rate scaling with the batch size (``HLR_BATCH_SCALING_*``, ``hlr_scaled_lr``)."""

    #: SGD: lr·new/old.
    LINEAR = 1
    #: Adam: lr·√(new/old).
    SQRT = 2


class ParamFamily(IntEnum):
    """What ``hlr_param_count`` / ``hlr_param_info`` describe (``HLR_FAMILY_*``)."""

    #: the options of a method (kind = ``Method``).
    TUNER = 1
    #: the parameters of a schedule kind (kind = ``ScheduleKind``).
    SCHEDULE = 2
    #: the parameters of an estimator kind (kind = ``EstimatorKind``).
    ESTIMATOR = 3


class ParamFlag(IntFlag):
    """Bits of ``hlr_param_desc.flags`` (``HLR_PARAM_FLAG_*``)."""

    #: only integers are accepted (counts, choices, flags).
    INTEGRAL = 1
    #: may differ per parameter group (``set_group_param``).
    PER_GROUP = 2
