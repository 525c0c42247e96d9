/*
 * hessianlr.h — the C ABI of libhessianlr, a curvature-aware learning-rate library.
 *
 * The trainer owns tensors and autodiff; the library owns the tuning math and its state. A
 * tuner handle consumes a few scalars per parameter group (observation mode) or flat host
 * buffers plus a Hessian-vector-product callback (host mode) and hands back learning rates.
 *
 * Conventions (modelled on zstd.h and sqlite3.h):
 *   - Every exported symbol and type starts with hlr_ / HLR_.
 *   - Every numeric id belongs to one typed enum per family (hlr_status, hlr_method, hlr_param,
 *     hlr_info, hlr_sched_kind, hlr_sched_param, hlr_est_kind, hlr_est_param, hlr_result, ...;
 *     int-sized), and a function taking one id of a family takes that type: C converts an int
 *     silently (out-of-range values are refused at run time, never a crash), C++ refuses an id of
 *     the wrong family at compile time. Out-parameters that return an id are int * (one type
 *     for C callers' variables); C++ passes such an id back with static_cast to its family
 *     (static_cast<hlr_need>(need)). hlr_strerror takes the int a function returned.
 *   - Every function returns an int status (HLR_OK = 0 or an HLR_ERR_* code) and writes its
 *     outputs through pointers. hlr_strerror(code) describes a code; hlr_last_error() returns
 *     the message of the last failed call on the calling thread, naming the bad argument and
 *     its value, e.g. "hlr_tuner_set_param: smoothing must be in [0.0, 0.9999999999999999], got 1.5".
 *   - A failed call changes nothing: no handle state, no option, no output other than the ones
 *     documented as written on failure.
 *   - Handles (tuners, schedules, estimators) are opaque ids, never reused. A handle that is
 *     NULL, freed, of another kind or was never returned by a create function gives
 *     HLR_ERR_INVALID_HANDLE, never a crash. The free functions accept NULL. Calls on one handle
 *     from several threads are serialised by the library; different handles are independent.
 *   - Options are set by numeric key (HLR_PARAM_*), sticky until hlr_tuner_reset with
 *     HLR_RESET_OPTIONS. hlr_param_bounds reports each option's inclusive range and default;
 *     hlr_param_count / hlr_param_info enumerate every option of a method, schedule kind or
 *     estimator kind with its name, range, default and flags (integral, per group).
 *     Adding an option adds a key; signatures and layouts never change (a changed signature
 *     gets a new _v2 name).
 *   - Steps are 0-based optimizer steps (uint64_t). Observations must come with increasing steps.
 *   - Callbacks receive the caller's void *ctx unchanged; the library never dereferences it and
 *     uses it only during the call that received it. A non-zero return aborts the operation with
 *     HLR_ERR_CALLBACK and leaves the handle as it was. A callback must not free the handle it
 *     is called for.
 *   - The caller allocates every buffer and passes its length. Nothing the library returns
 *     needs freeing except handles (hlr_tuner_free).
 *
 * Link with -lhessianlr (SONAME libhessianlr.so.<major>); the library carries its own Swift
 * runtime, so no Swift toolchain is needed at run time.
 */
#ifndef HESSIANLR_H
#define HESSIANLR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Version                                                                                    */
/* ------------------------------------------------------------------------------------------ */

#define HLR_VERSION_MAJOR 0
#define HLR_VERSION_MINOR 4
#define HLR_VERSION_PATCH 0
#define HLR_VERSION_NUMBER (HLR_VERSION_MAJOR * 10000 + HLR_VERSION_MINOR * 100 + HLR_VERSION_PATCH)
#define HLR_VERSION_STRING "0.4.0"

/* Versioning. While the major version is 0 the API may still change: a release that adds a
 * function, key or flag bumps the minor version (0.2.0 added hlr_tuner_plan); one that removes
 * or changes anything also bumps the minor and says so in its notes. 0.3.0: every family of ids
 * is a typed enum (hlr_status, hlr_method, hlr_param, hlr_info, hlr_sched_kind, hlr_est_kind,
 * ...; the same names and values, int-sized), taken by value where a function takes one id of a
 * family (a C caller compiles unchanged; C++ now refuses an id of the wrong family or a bare
 * int); functions still return int (an hlr_status) and out-parameters stay int *; hlr_tuner_plan
 * moved to the experimental section (HLR_EXPERIMENTAL, at the end). 0.4.0 added
 * hlr_tuner_set_params (options set together, cross-constraints checked on the result) and
 * hlr_strerror takes an int (was hlr_status: C++ refused the int a function returns). The SONAME carries the
 * major version (libhessianlr.so.0). A binding written against header 0.m.p loads a library of
 * the same major version and a number at least as large (hlr_version_number() >=
 * HLR_VERSION_NUMBER of its header): what it calls exists there. From 1.0 on, a change that
 * breaks a caller bumps the major version and the SONAME.
 *
 * HLR_VERSION_NUMBER of the loaded library; bindings compare it with the header they were
 * written against (same major, minor at least as large). */
unsigned hlr_version_number(void);
/* "major.minor.patch" of the loaded library; static storage, never free it. */
const char *hlr_version_string(void);

/* ------------------------------------------------------------------------------------------ */
/* Status codes and errors                                                                    */
/* ------------------------------------------------------------------------------------------ */

typedef enum hlr_status {
    HLR_OK                      = 0,
    HLR_ERR_NULL_POINTER        = 1,  /* a required pointer argument is NULL */
    HLR_ERR_INVALID_HANDLE      = 2,  /* handle is NULL, freed, foreign or of another kind */
    HLR_ERR_INVALID_ARGUMENT    = 3,  /* out of range, not finite, not an integer, inconsistent */
    HLR_ERR_UNKNOWN_METHOD      = 4,  /* method id not implemented by this library */
    HLR_ERR_UNKNOWN_KEY         = 5,  /* parameter or info key this method does not have */
    HLR_ERR_NONFINITE           = 6,  /* an observation (or callback output) is NaN or +-Inf */
    HLR_ERR_CALLBACK            = 7,  /* a callback returned non-zero */
    HLR_ERR_WRONG_STATE         = 8,  /* valid call, wrong moment (step wants no curvature, ...) */
    HLR_ERR_BUFFER_TOO_SMALL    = 9,  /* output buffer too small; the needed size is reported */
    HLR_ERR_SNAPSHOT_CORRUPT   = 10,  /* truncated, bit-flipped or not a snapshot */
    HLR_ERR_SNAPSHOT_VERSION   = 11,  /* written by a newer or a retired snapshot format */
    HLR_ERR_SNAPSHOT_MISMATCH  = 12,  /* snapshot of another method or group count */
} hlr_status;

/* Static description of a status code ("unknown status code" for others). Never NULL. Takes
 * the int every function returns (in C++ too, without a cast). */
const char *hlr_strerror(int code);
/* Message of the last failed call on this thread ("" if none failed yet). Valid until the next
 * failing call on the same thread; never NULL, never free it. Successful calls leave it as is. */
const char *hlr_last_error(void);

/* ------------------------------------------------------------------------------------------ */
/* Methods, options and diagnostics                                                           */
/* ------------------------------------------------------------------------------------------ */

/* Methods (hlr_tuner_create). README.md has each method's exact semantics and protocol. */
typedef enum hlr_method {
    HLR_METHOD_HESSIANLR = 1,  /* lr* = g'd / d'Hd with warmup, bounds, EMA, clamp (seed 000)   */
    HLR_METHOD_CDAT      = 2,  /* sigma * EMA(max(g'u, 0)) / EMA(|u'Hu| + eps) (seed 002)       */
    HLR_METHOD_GEN       = 3,  /* quadratic fit of forward losses at +-lr probes (GeN, seed 001) */
    HLR_METHOD_HIDLR     = 4,  /* Hi-DLR: per-group rates from a least-squares quadratic over random
                                  per-group probes (seed 001). */
    HLR_METHOD_ARMIJO    = 5,  /* Armijo backtracking line search, one rate shared by all groups (seed
                                  002's baseline, optax defaults). */
    HLR_METHOD_CONSTANT  = 6,  /* A constant rate per group (`initial_lr`); with a base schedule
                                  attached (hlr_tuner_set_schedule), the schedule's shape: lr_k(t) =
                                  initial_lr_k · factor(t). */
    /* The recommended mode: at the first step a bracket search over 13 forward losses along the
     * optimizer's update (rows 0, 4^-6 .. 4^6 times the rates), then every 1..update_period steps
     * (adaptive) the quadratic model of 3 forward losses (rows -1, 0, +1) along the optimizer's
     * PREVIOUS update (set HLR_PARAM_PROBE_PREVIOUS to 1 when you probe along it: row -1 is then the
     * previous iterate and the slope is taken where the step started), averaged as CDAT
     * (rate = sigma * EMA(max(b,0)) / EMA(|a|)); a diverged trial (+inf) cuts the rate by
     * fit_failure_decay at once, a step that more than doubled the batch loss by 1/(1+sqrt(q))
     * (HLR_FLAG_LOSS_SPIKE) and keeps the edge it reveals, 2*rate*max(1/(1+sqrt(q)),
     * fit_failure_decay), as a ceiling that no later rise passes (HLR_FLAG_BOUNDED_HIGH); probes too
     * close to resolve double the rate until a fit was informative and hold it afterwards
     * (HLR_FLAG_ZERO_GRADIENT). Forward passes only. Tell it the optimizer (HLR_PARAM_OPTIMIZER,
     * _MOMENTUM, _DAMPENING, _NESTEROV): the bracket divides by the optimizer's steady-state gain,
     * the slope point depends on its momentum. README.md and
     * Sources/HessianLR/Tuners/Auto/AutoRule.swift have the derivation and every default. */
    HLR_METHOD_AUTO      = 7,  /* The recommended mode: a wide bracket search at the first step, then
                                  the quadratic model of forward losses along the optimizer's previous
                                  update, averaged (AutoRule.swift documents the algorithm). */
} hlr_method;

/* Option keys (value type double; integer options reject fractional values). Each method has a
 * subset; hlr_param_bounds gives a method's range and default of each key (HLR_ERR_UNKNOWN_KEY
 * for keys the method lacks). Defaults in brackets are HessianLR's. */
typedef enum hlr_param {
    HLR_PARAM_INITIAL_LR                = 1,  /* η₀, the learning rate before the first curvature update
                                                 and the warmup target (per group). */
    HLR_PARAM_WARMUP_STEPS              = 2,  /* W: lr(t) = eta0*(t+1)/W for t < W              */
    HLR_PARAM_UPDATE_PERIOD             = 3,  /* P: curvature at t >= W, (t-W) % P == 0         */
    HLR_PARAM_LR_BOUND_LOW              = 4,  /* Lower multiplicative bound on the change per update:
                                                 candidate ≥ low·lr. */
    HLR_PARAM_LR_BOUND_HIGH             = 5,  /* Upper multiplicative bound on the change per update:
                                                 candidate ≤ high·lr. */
    HLR_PARAM_LR_MIN                    = 6,  /* absolute floor, <= lr_max                      */
    HLR_PARAM_LR_MAX                    = 7,  /* absolute ceiling; +INFINITY = none           */
    /* Each method's ranges and defaults: hlr_param_info(HLR_FAMILY_TUNER, method, ...). lr_max is
     * the ceiling of the method's source where it has one and +INFINITY (none) where it has none;
     * a rate handed out is always finite (at most DBL_MAX; GeN and Hi-DLR also keep
     * probe_scale * lr <= 1e150). */
    HLR_PARAM_SMOOTHING                 = 8,  /* beta of lr <- beta*lr + (1-beta)*cand, [0,1)       */
    HLR_PARAM_NEGATIVE_CURVATURE_DECAY  = 9,  /* Factor applied to the current lr when dᵀHd ≤ 0
                                                 (negative or zero curvature). */
    HLR_PARAM_DIRECTION                = 10,  /* 0: d = g (gradient); 1: d = u (the optimizer's update,
                                                 step w ← w − η·u). */
    HLR_PARAM_SIGMA                    = 11,  /* σ of CDAT, η = σ·n̂/d̂: 2 keeps training on the edge of
                                                 stability, 1 is quadratically greedy. */
    HLR_PARAM_EPSILON                  = 12,  /* ε of CDAT's denominator d = |uᵀHu| + ε, in the units of
                                                 uᵀHu. */
    HLR_PARAM_SHARPNESS                = 13,  /* Per group: λ_max of the Hessian (sharpness) supplied by
                                                 the caller for the edge-of-stability diagnostic
                                                 η·λ_max; 0 = not supplied. Never changes a rate. */
    HLR_PARAM_PROBE_COUNT              = 14,  /* m, number of forward-loss probes per update (GeN: ≥ 3;
                                                 Hi-DLR: 0 = automatic). */
    HLR_PARAM_PROBE_SCALE              = 15,  /* GeN, Hi-DLR: probe steps are +-scale*lr        */
    HLR_PARAM_R2_THRESHOLD             = 16,  /* GeN, Hi-DLR: fits need R^2 above this          */
    HLR_PARAM_FIT_FAILURE_DECAY        = 17,  /* GeN, Hi-DLR: rate factor on a failed fit       */
    HLR_PARAM_SEED                     = 18,  /* Seed of the counter-based generator of random probes
                                                 (stream `perturbation`). */
    HLR_PARAM_MODEL                    = 19,  /* Hi-DLR model: 0 diagonal (2K + 1 unknowns), 1 full A
                                                 (K(K+1)/2 + K + 1 unknowns; K <= 16 groups). */
    HLR_PARAM_EIGEN_FLOOR              = 20,  /* Full A model: eigenvalues are raised to at least
                                                 eigen_floor·λ_max(A) (A in probe units). */
    HLR_PARAM_SUFFICIENT_DECREASE      = 21,  /* Armijo: c of f(w-eta d) <= f(w)-c eta g'd       */
    HLR_PARAM_DECREASE_FACTOR          = 22,  /* Armijo: trial *= factor after a failed test    */
    HLR_PARAM_INCREASE_FACTOR          = 23,  /* The first trial of a search is min(previous accepted
                                                 rate·increase_factor, lr_max). */
    HLR_PARAM_MAX_BACKTRACKS           = 24,  /* Largest number of decreases in one line search
                                                 (max_backtracks + 1 trials). */
    HLR_PARAM_OPTIMIZER                = 25,  /* The base optimizer whose update the rates scale (auto):
                                                 0 SGD (torch.optim.SGD, with the momentum, dampening
                                                 and nesterov options), 1 Adam / AdamW (momentum = β₁). */
    HLR_PARAM_MOMENTUM                 = 26,  /* auto: SGD momentum beta, or Adam's beta1, [0,1)  */
    HLR_PARAM_DAMPENING                = 27,  /* auto: SGD dampening, [0, 1]                      */
    HLR_PARAM_NESTEROV                 = 28,  /* SGD's Nesterov flag: 0 or 1 (needs momentum > 0 and
                                                 dampening 0, as torch). */
    HLR_PARAM_PROBE_PREVIOUS           = 29,  /* Whether the probes run along the optimizer's previous
                                                 update (1: the row ρ = −1 is the previous iterate) or
                                                 its current one (0) (auto). */
} hlr_param;

typedef enum hlr_optimizer {
    HLR_OPTIMIZER_SGD  = 0,  /* torch.optim.SGD (momentum, dampening, nesterov) */
    HLR_OPTIMIZER_ADAM = 1,  /* torch.optim.Adam / AdamW (momentum = beta1)      */
} hlr_optimizer;

typedef enum hlr_direction {
    HLR_DIRECTION_GRADIENT = 0,  /* d = g: observations are g'g and g'Hg */
    HLR_DIRECTION_UPDATE   = 1,  /* d = u (step w <- w - lr*u): observations are g'u and u'Hu */
} hlr_direction;

typedef enum hlr_model {
    HLR_MODEL_DIAGONAL = 0,  /* Hi-DLR: L ~ c - sum b_k xi_k + 1/2 sum a_k xi_k^2 (2K+1 unknowns) */
    HLR_MODEL_FULL     = 1,  /* Hi-DLR: full symmetric A, projected to positive definite        */
} hlr_model;

/* Diagnostics (hlr_tuner_get_info). Per-group keys use the group argument; others ignore it. */
typedef enum hlr_info {
    HLR_INFO_UPDATES              = 1,  /* Updates applied since creation or the last state reset:
                                           curvature observations (HessianLR, CDAT), fits (GeN, Hi-DLR,
                                           accepted or rejected), finished line searches (Armijo). */
    HLR_INFO_LAST_STEP            = 2,  /* step of the last observation, -1 if none           */
    HLR_INFO_NEXT_CURVATURE_STEP  = 3,  /* The next step that wants curvature (after
                                           HLR_INFO_LAST_STEP), or −1 when none fits in a uint64_t or
                                           the method never observes curvature (GeN, Hi-DLR, Armijo). */
    HLR_INFO_LAST_CANDIDATE       = 4,  /* Per group: the candidate of the last update before the
                                           safeguards, NaN when there was none (no update yet; for
                                           HessianLR also a kept rate or dᵀHd <= 0, which has no
                                           quadratic candidate: the flags say which). HessianLR: gᵀd / dᵀHd;
                                           CDAT: σ·n̂/d̂; GeN: b_k/a_k; Hi-DLR: η_k of the fitted model;
                                           Armijo: the last trial rate tested (the same for every
                                           group). */
    HLR_INFO_LAST_FLAGS           = 5,  /* per group: HLR_FLAG_* bits of the last update      */
    HLR_INFO_LAST_CURVATURE       = 6,  /* Per group: the observed dᵀHd of the last update (HessianLR,
                                           CDAT; NaN before the first). */
    HLR_INFO_LAST_SLOPE           = 7,  /* Per group: the observed gᵀd of the last update (HessianLR,
                                           CDAT, Armijo's slope observation; NaN before the first). */
    HLR_INFO_NEXT_UPDATE_STEP     = 8,  /* The next step after HLR_INFO_LAST_STEP that needs any
                                           observation (curvature, losses or slope), or −1 when none
                                           fits in a uint64_t. During an unfinished line search: that
                                           search's step. Every method but HessianLR (whose
                                           HLR_INFO_NEXT_CURVATURE_STEP is the same thing). */
    HLR_INFO_FIT_INTERCEPT        = 9,  /* c of the last quadratic fit L(ξ) ≈ c − Σ b_k ξ_k + ½ ξᵀAξ
                                           (GeN, Hi-DLR), NaN before the first; units of the loss. */
    HLR_INFO_FIT_SLOPE           = 10,  /* Per group: b_k of the last fit, in loss per unit of group k's
                                           step ξ_k (ξ in learning-rate units along d_k); NaN before the
                                           first fit. */
    HLR_INFO_FIT_CURVATURE       = 11,  /* Per group: A_kk of the last fit (loss per ξ_k²); NaN before
                                           the first fit. */
    HLR_INFO_FIT_R2              = 12,  /* R² = 1 − RSS/TSS of the last fit; NaN before the first. */
    HLR_INFO_INFLUENCE           = 13,  /* Per group: per-parameter influence (PPI) from the last fit:
                                           sup over ξ ≥ 0 of b_k ξ − ½ A_kk ξ², the largest decrease of
                                           the fitted loss that moving group k alone can give (b²/(2a)
                                           for a, b > 0; 0 for b ≤ 0 < a; +∞ when A_kk ≤ 0 < b or A_kk <
                                           0). NaN before the first fit. */
    HLR_INFO_INFLUENCE_RANK      = 14,  /* Per group: rank of the group by influence (0 = most
                                           influential; ties by group index); −1 before the first fit. */
    HLR_INFO_EDGE_OF_STABILITY   = 15,  /* Per group: η_k·λ_max,k with λ_max,k the caller's
                                           HLR_PARAM_SHARPNESS (CDAT); 2 is the edge of stability of
                                           gradient descent. NaN when no sharpness was supplied. */
    HLR_INFO_SMOOTHED_NUMERATOR  = 16,  /* Per group: n̂, CDAT's EMA of n = max(gᵀu, 0) (0 before the
                                           first observation). */
    HLR_INFO_SMOOTHED_DENOMINATOR = 17, /* Per group: d̂, CDAT's EMA of d = |uᵀHu| + ε (0 before the
                                           first observation). */
    HLR_INFO_BACKTRACKS          = 18,  /* Armijo: decreases in the current or last search    */
    HLR_INFO_TRIAL_LR            = 19,  /* The trial rate the unfinished line search waits for, NaN when
                                           none is pending. */
    HLR_INFO_REFERENCE_LOSS      = 20,  /* L(w) of the last slope observation (the Armijo reference),
                                           NaN before the first. */
} hlr_info;

/* What happened to a group's rate in its last update (HLR_INFO_LAST_FLAGS bits). */
typedef enum hlr_flag {
    HLR_FLAG_BOUNDED_LOW         = 1,  /* candidate raised to low*lr                */
    HLR_FLAG_BOUNDED_HIGH        = 2,  /* candidate lowered to high*lr (auto: to 4x
                                        * the rate per fit, or to a spike's edge)    */
    HLR_FLAG_CLAMPED_MIN         = 4,  /* result raised to lr_min                   */
    HLR_FLAG_CLAMPED_MAX         = 8,  /* result lowered to lr_max                  */
    HLR_FLAG_NEGATIVE_CURVATURE = 16,  /* d'Hd <= 0: candidate was decay*lr         */
    HLR_FLAG_ZERO_GRADIENT      = 32,  /* g'd == 0: rate kept (auto: unresolved probes) */
    HLR_FLAG_NOT_DESCENT        = 64,  /* g'd < 0 (direction update): rate kept; auto: no
                                        * bracket trial below the current loss (NaN
                                        * trials included): rate cut by 4^-7         */
    HLR_FLAG_FIT_REJECTED      = 128,  /* fit unused: gate -> rate kept; RANK_DEFICIENT -> decayed */
    HLR_FLAG_POOR_FIT          = 256,  /* R^2 below the threshold                   */
    HLR_FLAG_RANK_DEFICIENT    = 512,  /* probes did not determine the fit          */
    HLR_FLAG_PROJECTED        = 1024,  /* full A was projected to positive definite */
    HLR_FLAG_BACKTRACK_LIMIT  = 2048,  /* line search hit max_backtracks            */
    HLR_FLAG_OBSERVATION_FAILED = 4096, /* hlr_tuner_observe_failure: loss unmeasurable */
    HLR_FLAG_LOSS_SPIKE        = 8192, /* auto: the last step more than doubled the batch loss; rate cut */
} hlr_flag;

/* Inclusive range and default of option `key` of `method`. Any of the output pointers may be
 * NULL. HLR_ERR_UNKNOWN_METHOD / HLR_ERR_UNKNOWN_KEY when the pair does not exist. */
int hlr_param_bounds(hlr_method method, hlr_param key, double *min, double *max, double *default_value);

/* Self-description: every parameter of a method (HLR_FAMILY_TUNER, kind = HLR_METHOD_*), a
 * schedule kind (HLR_FAMILY_SCHEDULE, kind = HLR_SCHEDULE_*) or an estimator kind
 * (HLR_FAMILY_ESTIMATOR, kind = HLR_ESTIMATOR_*), in a fixed order, with the values the
 * *_param_bounds functions report plus its name and flags. Enumerate with index = 0 ..
 * count - 1 (hlr_param_count), or until hlr_param_info returns HLR_ERR_INVALID_ARGUMENT. */
typedef enum hlr_family {
    HLR_FAMILY_TUNER      = 1,  /* kind = HLR_METHOD_*    */
    HLR_FAMILY_SCHEDULE   = 2,  /* kind = HLR_SCHEDULE_*  */
    HLR_FAMILY_ESTIMATOR  = 3,  /* kind = HLR_ESTIMATOR_* */
} hlr_family;

typedef enum hlr_param_flag {
    HLR_PARAM_FLAG_INTEGRAL   = 1,  /* only integers are accepted (counts, choices, flags)      */
    HLR_PARAM_FLAG_PER_GROUP  = 2,  /* may differ per group (hlr_tuner_set_group_param)        */
} hlr_param_flag;

/* Versioned like hlr_vector_ops: set struct_size = sizeof(hlr_param_desc) before the call.
 * Fields are only ever appended; a larger struct_size (a newer header) is accepted and the
 * library writes only the fields it knows, leaving the rest untouched; a struct_size smaller
 * than the fields below is refused (HLR_ERR_INVALID_ARGUMENT). struct_size is never written. */
typedef struct hlr_param_desc {
    size_t struct_size;    /* sizeof(hlr_param_desc), set by the caller                        */
    int key;               /* HLR_PARAM_* / HLR_SCHED_PARAM_* / HLR_EST_PARAM_*                 */
    unsigned flags;        /* HLR_PARAM_FLAG_* bits                                             */
    double min, max;       /* inclusive range (a bound may be infinite: see *_param_bounds)     */
    double default_value;  /* the value a new handle starts with                                */
    char name[48];         /* snake_case name, NUL-terminated ("initial_lr", "t_max")           */
} hlr_param_desc;

/* *count = the number of parameters of `kind` of `family` (0 for HLR_SCHEDULE_JOIN).
 * HLR_ERR_INVALID_ARGUMENT for an unknown family, HLR_ERR_UNKNOWN_METHOD for an unknown kind. */
int hlr_param_count(hlr_family family, int kind, size_t *count);
/* Fills *out with parameter `index` (0-based) of `kind` of `family`. Errors as hlr_param_count,
 * plus HLR_ERR_INVALID_ARGUMENT for index >= count (the message names both) or a too small
 * out->struct_size. A failed call writes nothing. */
int hlr_param_info(hlr_family family, int kind, size_t index, hlr_param_desc *out);

/* ------------------------------------------------------------------------------------------ */
/* Tuner handles                                                                              */
/* ------------------------------------------------------------------------------------------ */

typedef struct hlr_tuner hlr_tuner;

/* Creates a tuner of `method` for `groups` parameter groups (1 <= groups <= 2^20; Hi-DLR at most
 * 256, and 16 with its full model) with default options. *out is set to the handle, or to NULL
 * on failure. */
int hlr_tuner_create(hlr_method method, size_t groups, hlr_tuner **out);
/* Frees a handle; NULL is a no-op. A handle that is not live gives HLR_ERR_INVALID_HANDLE. */
int hlr_tuner_free(hlr_tuner *tuner);

typedef enum hlr_reset {
    HLR_RESET_STATE   = 1,  /* forget observations: back to the initial learning rates */
    HLR_RESET_OPTIONS = 2,  /* restore every option's default */
    HLR_RESET_ALL     = 3,
} hlr_reset;
int hlr_tuner_reset(hlr_tuner *tuner, hlr_reset what);

/* The method id and the group count the handle was created with. */
int hlr_tuner_method(const hlr_tuner *tuner, int *method);
int hlr_tuner_group_count(const hlr_tuner *tuner, size_t *groups);

/* Sets an option for every group. Checks the range (hlr_param_bounds) and cross-constraints
 * (lr_min <= lr_max); a rejected value changes nothing. */
int hlr_tuner_set_param(hlr_tuner *tuner, hlr_param key, double value);
/* Sets n options at once (keys[i] = values[i], each for every group as hlr_tuner_set_param):
 * every range checked, then the cross-constraints only on the result, so the order of the keys
 * does not matter (one at a time, moving [lr_min, lr_max] above its current lr_max, or auto from
 * SGD with Nesterov to Adam, fails whichever option goes first). All or nothing; a key given
 * twice is refused; n = 0 does nothing (keys and values may then be NULL). (0.4.0) */
int hlr_tuner_set_params(hlr_tuner *tuner, const int *keys, const double *values, size_t n);
/* Reads an option; for per-group options (HLR_PARAM_INITIAL_LR) this is group 0's value. */
int hlr_tuner_get_param(const hlr_tuner *tuner, hlr_param key, double *value);
/* Sets / reads a per-group option for one group (HLR_ERR_INVALID_ARGUMENT for handle-wide keys
 * on set, or a group out of range). */
int hlr_tuner_set_group_param(hlr_tuner *tuner, size_t group, hlr_param key, double value);
int hlr_tuner_get_group_param(const hlr_tuner *tuner, size_t group, hlr_param key, double *value);

/* Diagnostics: *value = the HLR_INFO_* quantity (group ignored for handle-wide keys). */
int hlr_tuner_get_info(const hlr_tuner *tuner, hlr_info key, size_t group, double *value);

/* ------------------------------------------------------------------------------------------ */
/* Observation mode: only scalars cross                                                       */
/* ------------------------------------------------------------------------------------------ */

/* Three ways to drive a tuner, one loop in the library:
 *   hlr_tuner_step (below, "The step driver")  the library runs the whole step through the
 *       caller's tensor callbacks (hlr_step_ops): the recommended path for every method;
 *   hlr_tuner_step_host_*                       the same driver over flat host buffers;
 *   hlr_tuner_need / get_probes / observe / observe_failure   the caller runs the loop itself
 *       (any language, any framework, nothing but scalars).
 * hlr_tuner_wants_curvature, hlr_tuner_observe_curvature and hlr_tuner_observe_host_* are kept
 * as thin conveniences for the common one-observation case (HessianLR, CDAT): each is exactly
 * need == HLR_NEED_CURVATURE / observe(HLR_NEED_CURVATURE, ...) / one host curvature
 * observation, with no policy of its own; a C user with a hand-written HVP loop would otherwise
 * write the need/observe dance for the one thing these methods ask. */

/* *wants = 1 if the tuner wants a curvature observation at `step`, else 0. Ask before paying
 * for a Hessian-vector product: on other steps no double-backward graph is needed. */
int hlr_tuner_wants_curvature(const hlr_tuner *tuner, uint64_t step, int *wants);

/* Feeds the curvature observation of a step that wants one: values = [s_0, c_0, s_1, c_1, ...],
 * n = 2 * groups, with s_k = g_k'd_k and c_k = d_k'H d_k measured on group k alone (d = g or
 * u per HLR_PARAM_DIRECTION). HLR_ERR_WRONG_STATE if the step wants no curvature,
 * HLR_ERR_NONFINITE for NaN/Inf, HLR_ERR_INVALID_ARGUMENT for a negative g'g or a wrong n; in
 * every error case nothing changes. */
int hlr_tuner_observe_curvature(hlr_tuner *tuner, uint64_t step, const double *values, size_t n);

/* The general protocol, for every method. A step may need several observations in turn (a line
 * search asks for one trial loss after another); HLR_NEED_NOTHING means its rates are final. */
typedef enum hlr_need {
    HLR_NEED_NOTHING   = 0,  /* read the rates                                                */
    HLR_NEED_CURVATURE = 1,  /* [g_k'd_k, d_k'H d_k] per group k: 2 * groups values           */
    HLR_NEED_LOSSES    = 2,  /* L(w - sum_k xi_jk d_k) at each probe j (hlr_tuner_get_probes) */
    HLR_NEED_SLOPE     = 3,  /* [L(w), g_0'd_0, ..., g_{K-1}'d_{K-1}]: groups + 1 values        */
} hlr_need;

/* What the tuner needs next at `step` and how many values the observation carries (count may be
 * NULL). */
int hlr_tuner_need(const hlr_tuner *tuner, uint64_t step, int *need, size_t *count);
/* When the need is HLR_NEED_LOSSES: the probe matrix, row-major, n = probes * groups; entry
 * [j * groups + k] is the step size xi_jk of group k in probe j (all zero: the current loss). */
int hlr_tuner_get_probes(const hlr_tuner *tuner, uint64_t step, double *probes, size_t n);
/* Feeds an observation of the kind (HLR_NEED_*) the step needs, with the count hlr_tuner_need
 * reported. Same errors as hlr_tuner_observe_curvature; nothing changes on failure. */
int hlr_tuner_observe(hlr_tuner *tuner, uint64_t step, hlr_need kind, const double *values, size_t n);
/* The caller could not measure the losses the step needs (HLR_NEED_LOSSES): a probe or trial loss
 * was NaN or +-Inf, or its forward pass failed. hlr_tuner_observe refuses such values
 * (HLR_ERR_NONFINITE, nothing changes; auto alone takes +INFINITY at a trial row: a diverged
 * trial); this reports the failure instead, as GeN's reference does when its fit raises. GeN,
 * Hi-DLR: the fit failed, every rate *= fit_failure_decay (clamped), flags FIT_REJECTED |
 * OBSERVATION_FAILED, counted as an update. Armijo: the trial fails the sufficient-decrease test
 * (backtrack, or give up at max_backtracks). auto: every trial at +INFINITY.
 * HLR_ERR_WRONG_STATE, nothing changed, unless the step needs losses. */
int hlr_tuner_observe_failure(hlr_tuner *tuner, uint64_t step);

/* The learning rate of `group` for the update at `step`. */
int hlr_tuner_get_lr(const hlr_tuner *tuner, uint64_t step, size_t group, double *lr);
/* All groups' learning rates at `step`; n must equal the group count. */
int hlr_tuner_get_lrs(const hlr_tuner *tuner, uint64_t step, double *lrs, size_t n);
/* hlr_tuner_plan (one call per step for a caller that keeps the rates): the experimental
 * section at the end. */

/* ------------------------------------------------------------------------------------------ */
/* Host mode: flat buffers and a Hessian-vector-product callback                              */
/* ------------------------------------------------------------------------------------------ */

/* Writes out = H v for vectors of length n. Return 0 on success, anything else to abort.
 * v and out never alias; out is zeroed before the call. */
typedef int (*hlr_hvp_f32)(void *ctx, const float *v, float *out, size_t n);
typedef int (*hlr_hvp_f64)(void *ctx, const double *v, double *out, size_t n);

/* Computes the observation of hlr_tuner_observe_curvature itself and applies it. gradient
 * (and update, required iff direction is update, NULL otherwise) hold n >= 1 elements.
 * group_offsets holds groups + 1 non-decreasing offsets from 0 to n (group k is
 * [offsets[k], offsets[k+1])); NULL with n_offsets = 0 means one group. One HVP per group
 * (of d restricted to the group); dot products accumulate in double in a fixed order, so results
 * are reproducible bit for bit. A non-zero callback return gives HLR_ERR_CALLBACK, NaN/Inf in
 * the buffers or the callback's output gives HLR_ERR_NONFINITE; nothing changes in either case.
 * The callback may call other library functions, also on this handle. */
int hlr_tuner_observe_host_f32(hlr_tuner *tuner, uint64_t step, const float *gradient,
                               const float *update, size_t n, const size_t *group_offsets,
                               size_t n_offsets, hlr_hvp_f32 hvp, void *ctx);
int hlr_tuner_observe_host_f64(hlr_tuner *tuner, uint64_t step, const double *gradient,
                               const double *update, size_t n, const size_t *group_offsets,
                               size_t n_offsets, hlr_hvp_f64 hvp, void *ctx);

/* Writes *loss = L(w) for the n weights w. Return 0 on success, anything else to abort. */
typedef int (*hlr_loss_f32)(void *ctx, const float *w, size_t n, double *loss);
typedef int (*hlr_loss_f64)(void *ctx, const double *w, size_t n, double *loss);

/* Host mode for every method: runs step `step` to completion. While the tuner needs something it
 * computes it on the host and observes it: curvature through `hvp` (as hlr_tuner_observe_host_*),
 * losses at probe points L(w - sum_k xi_jk d_k) and the slope [L(w), g_k'd_k] through `loss`
 * (trial weights in a library-owned scratch buffer), with d = update, or the gradient when
 * update is NULL. weights and gradient are required; current_loss is L(w) if the caller has it
 * (NaN otherwise: then `loss` computes it). A callback the method never needs may be NULL; a
 * needed one that is NULL (and a NULL update with direction update) is HLR_ERR_NULL_POINTER.
 * This is hlr_tuner_step over host buffers (the same driver, observations and failure policy):
 * a NaN/Inf trial loss is a failed observation (hlr_tuner_observe_failure), not an error.
 * All or nothing: on any error (callback failure HLR_ERR_CALLBACK, NaN/Inf in the buffers, a
 * slope, a curvature or the loss at w HLR_ERR_NONFINITE, a needed callback missing, another
 * call changing the tuner meanwhile HLR_ERR_WRONG_STATE) nothing changes. *rounds (may be NULL)
 * receives the number of observations made. The rates of the step are then
 * hlr_tuner_get_lrs(step). */
int hlr_tuner_step_host_f32(hlr_tuner *tuner, uint64_t step, const float *weights,
                            const float *gradient, const float *update, size_t n,
                            const size_t *group_offsets, size_t n_offsets, double current_loss,
                            hlr_hvp_f32 hvp, hlr_loss_f32 loss, void *ctx, size_t *rounds);
int hlr_tuner_step_host_f64(hlr_tuner *tuner, uint64_t step, const double *weights,
                            const double *gradient, const double *update, size_t n,
                            const size_t *group_offsets, size_t n_offsets, double current_loss,
                            hlr_hvp_f64 hvp, hlr_loss_f64 loss, void *ctx, size_t *rounds);

/* ------------------------------------------------------------------------------------------ */
/* The step driver: one whole step over the caller's tensors                                  */
/* ------------------------------------------------------------------------------------------ */

/* The caller's side of one optimizer step, for tensors the library never sees (GPU memory,
 * framework parameters): the library runs the need -> measure -> observe loop, assembles every
 * observation and applies one failure policy; the callbacks do the tensor work and return only
 * scalars. With K groups, g the gradient at the current weights w and d the direction the
 * optimizer steps along (w <- w - lr_k d_k on group k: g for plain SGD, the optimizer's update
 * otherwise), d_k = d on group k and 0 elsewhere:
 *
 *   slopes      out[k] = g_k'd_k, k < K (accumulate in double)              [curvature, slope]
 *   curvatures  out[k] = d_k' H d_k, one Hessian-vector product per group   [curvature]
 *   set_trial   weights <- w - sum_k steps[k] d_k, computed from w (steps[k] = 0 must leave
 *               group k at w bit for bit)                                   [losses, slope]
 *   loss        *out = the loss at the weights as they are (w, or the trial) [losses, slope]
 *   restore     weights <- w bit for bit                                    [losses, slope]
 *   all_reduce  optional: values[i] <- the sum of values[i] over the caller's processes (same
 *               count and order on every process, the same result everywhere: an all-reduce).
 *
 * Each callback returns 0 on success, anything else to abort the step (HLR_ERR_CALLBACK, naming
 * the callback and the value). Brackets: the observations (HLR_NEED_*) that call it; callbacks
 * a method never needs may be NULL. The library calls restore once after the trial losses of
 * each losses observation and on every exit path after a set_trial, so the weights are w again
 * when hlr_tuner_step returns; slopes and curvatures are called only at w.
 *
 * Set struct_size = sizeof(hlr_step_ops): fields are only ever appended, a larger struct_size is
 * accepted (the library reads the fields it knows), a smaller one than this version's is refused
 * with HLR_ERR_INVALID_ARGUMENT. Every field is a size_t or a function pointer: field i lies at
 * byte offset i * sizeof(void *). */
typedef struct hlr_step_ops {
    size_t struct_size;
    int (*slopes)(void *ctx, double *out, size_t groups);
    int (*curvatures)(void *ctx, double *out, size_t groups);
    int (*set_trial)(void *ctx, const double *steps, size_t groups);
    int (*loss)(void *ctx, double *out);
    int (*restore)(void *ctx);
    int (*all_reduce)(void *ctx, double *values, size_t count);
} hlr_step_ops;

/* Runs step `step` to completion: while hlr_tuner_need(step) asks for something, measures it
 * through `ops` and observes it; the rates of the step are then hlr_tuner_get_lrs(step).
 *   CURVATURE  [s_0, c_0, s_1, c_1, ...] from slopes and curvatures;
 *   SLOPE      [L(w), s_0, ..., s_{K-1}], L(w) = current_loss, or one loss() at w if NaN;
 *   LOSSES     for each probe row j: set_trial(row j), loss(); a row of zeros uses current_loss
 *              when it is not NaN; one restore() after the rows.
 * Distributed (all_reduce not NULL): every observation's values, with 1 appended, go through one
 * all_reduce and are divided by the resulting process count (the mean over processes) before
 * any check, so every process feeds the same observation and gets the same rates; e.g. under
 * data parallelism the curvatures and losses of each process's batch average to the global
 * batch's. Every process must call hlr_tuner_step for the same steps on tuners in the same state.
 *
 * Failure policy (the same for hlr_tuner_step_host_*): a NaN/Inf trial loss (a probe row with a
 * non-zero step) means the step was too long: the observation is reported as failed
 * (hlr_tuner_observe_failure: GeN and Hi-DLR decay every rate, Armijo backtracks) and counted in
 * *failures; without all_reduce the rows after it are not evaluated. A NaN/Inf slope, curvature
 * or loss at w (a zero row, the slope's L(w), current_loss) is HLR_ERR_NONFINITE.
 *
 * The first observation's callbacks must not be NULL (HLR_ERR_NULL_POINTER naming the first
 * missing one; SLOPE requires the trial callbacks too, for the line search that follows).
 * All or nothing: on any error (HLR_ERR_CALLBACK, HLR_ERR_NONFINITE, a wrong process count from
 * all_reduce HLR_ERR_CALLBACK, another call changing the tuner meanwhile HLR_ERR_WRONG_STATE)
 * the tuner is unchanged. current_loss: L(w) on this process, or NaN. *rounds and *failures
 * (each may be NULL) receive the observations made and those reported as failed. Callbacks may
 * call the library, also on this handle (no lock is held while they run); they must not free
 * it. */
int hlr_tuner_step(hlr_tuner *tuner, uint64_t step, const hlr_step_ops *ops, void *ctx,
                   double current_loss, size_t *rounds, size_t *failures);

/* ------------------------------------------------------------------------------------------ */
/* Schedules: closed-form lr(step), composable, torch.optim.lr_scheduler semantics            */
/* ------------------------------------------------------------------------------------------ */

/* A schedule is a value: create one by kind, set its parameters (HLR_SCHED_PARAM_*; ranges and
 * defaults from hlr_schedule_param_bounds), evaluate it at any step. Rates are absolute (the
 * multiplicative torch schedulers take base_lr, torch's initial lr); step t is the value torch's
 * get_last_lr() reports after t calls of scheduler.step(). Every schedule is defined for every
 * step up to UINT64_MAX (past its end it holds its final value) and stays within its bounds.
 * The periodic kinds cosine and cyclic compute their phase from t in double
 * precision as torch does, without reducing t modulo the period first: exact for any realistic
 * step count, about 3e-8 relative at t = 10^12, and at t near 2^64 a value anywhere in the
 * cycle's range. */
typedef struct hlr_schedule hlr_schedule;

typedef enum hlr_sched_kind {
    HLR_SCHEDULE_CONSTANT             = 1,  /* base_lr·factor for t < total_iters, base_lr after (torch
                                               ConstantLR; defaults make it a plain constant base_lr). */
    HLR_SCHEDULE_LINEAR               = 2,  /* base_lr·(s + (e − s)·min(t, T)/T) (torch LinearLR). */
    HLR_SCHEDULE_STEP                 = 3,  /* torch StepLR                                    */
    HLR_SCHEDULE_MULTI_STEP           = 4,  /* torch MultiStepLR (hlr_schedule_set_milestones) */
    HLR_SCHEDULE_EXPONENTIAL          = 5,  /* torch ExponentialLR                             */
    HLR_SCHEDULE_POLYNOMIAL           = 6,  /* base_lr·(1 − min(t, T)/T)^power (torch PolynomialLR). */
    HLR_SCHEDULE_COSINE               = 7,  /* η_min + (base_lr − η_min)·(1 + cos(π·t/T_max))/2 for
                                               every t (torch CosineAnnealingLR, which keeps oscillating
                                               with period 2·T_max). */
    HLR_SCHEDULE_COSINE_WARM_RESTARTS = 8,  /* Cosine annealing restarted after T_0, T_0·T_mult,
                                               T_0·T_mult², … steps (torch CosineAnnealingWarmRestarts). */
    HLR_SCHEDULE_ONE_CYCLE            = 9,  /* The 1cycle policy (torch OneCycleLR), holding its last
                                               value from total_steps − 1 on. */
    HLR_SCHEDULE_CYCLIC              = 10,  /* Cyclical learning rates between base_lr and max_lr (torch
                                               CyclicLR, rate only). */
    HLR_SCHEDULE_WARMUP_STABLE_DECAY = 11,  /* linear warmup, plateau, decay to final_lr       */
    HLR_SCHEDULE_HYPERBOLIC          = 12,  /* HyperbolicLR (Kim 2024): η₀ + (η₀ − η_inf)·(h(x) − h(0)). */
    HLR_SCHEDULE_EXP_HYPERBOLIC      = 13,  /* ExpHyperbolicLR (seed 004); infimum_lr > 0      */
    HLR_SCHEDULE_JOIN                = 14,  /* Pieces joined at step boundaries; each piece counts steps
                                               from its own boundary (optax `join_schedules`). */
    HLR_SCHEDULE_WARMUP              = 15,  /* Linear warmup from start_lr to the child's value at 0
                                               over warmup_steps, then the child counted from
                                               warmup_steps. */
} hlr_sched_kind;

typedef enum hlr_sched_param {
    HLR_SCHED_PARAM_BASE_LR           = 1,  /* The schedule's base rate: torch's param-group `lr` (its
                                               `initial_lr`) for the multiplicative schedulers, the
                                               lower bound of CyclicLR, the peak of warmup-stable-decay,
                                               η₀ of the hyperbolic schedules. */
    HLR_SCHED_PARAM_FACTOR            = 2,  /* ConstantLR's factor: the rate is base_lr·factor before
                                               `total_iters`. */
    HLR_SCHED_PARAM_TOTAL_ITERS       = 3,  /* Number of steps a ConstantLR / LinearLR / PolynomialLR
                                               phase lasts. */
    HLR_SCHED_PARAM_START_FACTOR      = 4,  /* LinearLR's multiplier at step 0. */
    HLR_SCHED_PARAM_END_FACTOR        = 5,  /* LinearLR's multiplier from step `total_iters` on. */
    HLR_SCHED_PARAM_STEP_SIZE         = 6,  /* StepLR's period. */
    HLR_SCHED_PARAM_GAMMA             = 7,  /* Multiplicative decay (StepLR, MultiStepLR, ExponentialLR)
                                               or CyclicLR's exp_range base. */
    HLR_SCHED_PARAM_POWER             = 8,  /* PolynomialLR's exponent. */
    HLR_SCHED_PARAM_T_MAX             = 9,  /* CosineAnnealingLR's half period T_max. */
    HLR_SCHED_PARAM_ETA_MIN          = 10,  /* Lowest rate of the cosine schedules. */
    HLR_SCHED_PARAM_T_0              = 11,  /* CosineAnnealingWarmRestarts' first period T_0. */
    HLR_SCHED_PARAM_T_MULT           = 12,  /* CosineAnnealingWarmRestarts' period multiplier T_mult. */
    HLR_SCHED_PARAM_MAX_LR           = 13,  /* Peak rate of OneCycleLR and CyclicLR. */
    HLR_SCHED_PARAM_TOTAL_STEPS      = 14,  /* OneCycleLR's cycle length. */
    HLR_SCHED_PARAM_PCT_START        = 15,  /* OneCycleLR's fraction of the cycle spent increasing the
                                               rate. */
    HLR_SCHED_PARAM_ANNEAL_STRATEGY  = 16,  /* OneCycleLR's annealing: HLR_ANNEAL_* (0 cos, 1 linear). */
    HLR_SCHED_PARAM_DIV_FACTOR       = 17,  /* OneCycleLR: initial rate = max_lr / div_factor. */
    HLR_SCHED_PARAM_FINAL_DIV_FACTOR = 18,  /* OneCycleLR: final rate = initial rate / final_div_factor. */
    HLR_SCHED_PARAM_THREE_PHASE      = 19,  /* OneCycleLR: 1 for the three-phase variant, 0 for two
                                               phases. */
    HLR_SCHED_PARAM_STEP_SIZE_UP     = 20,  /* CyclicLR: steps of the increasing half of a cycle. */
    HLR_SCHED_PARAM_STEP_SIZE_DOWN   = 21,  /* CyclicLR: steps of the decreasing half; −1 means "equal
                                               to step_size_up" (torch's None). */
    HLR_SCHED_PARAM_MODE             = 22,  /* CyclicLR: HLR_CYCLIC_* (0 triangular, 1 triangular2, 2
                                               exp_range). */
    HLR_SCHED_PARAM_WARMUP_STEPS     = 23,  /* Linear-warmup length (warmup-stable-decay and the warmup
                                               wrapper). */
    HLR_SCHED_PARAM_STABLE_STEPS     = 24,  /* Warmup-stable-decay: steps held at the peak. */
    HLR_SCHED_PARAM_DECAY_STEPS      = 25,  /* Warmup-stable-decay: steps of the decay to `final_lr`. */
    HLR_SCHED_PARAM_START_LR         = 26,  /* Rate at step 0 of a linear warmup. */
    HLR_SCHED_PARAM_FINAL_LR         = 27,  /* Warmup-stable-decay: rate at the end of the decay and
                                               after it. */
    HLR_SCHED_PARAM_DECAY_SHAPE      = 28,  /* Warmup-stable-decay: HLR_DECAY_* (0 linear, 1 cosine, 2
                                               one_minus_sqrt). */
    HLR_SCHED_PARAM_MAX_ITER         = 29,  /* Hyperbolic schedules: N, the step at which the decay ends
                                               (held after). */
    HLR_SCHED_PARAM_UPPER_BOUND      = 30,  /* Hyperbolic schedules: U ≥ N, the upper bound on the
                                               max_iter values one would try. */
    HLR_SCHED_PARAM_INFIMUM_LR       = 31,  /* Hyperbolic schedules: η_inf, the infimum the curve
                                               approaches as N → U. */
} hlr_sched_param;

typedef enum hlr_anneal {
    HLR_ANNEAL_COS              = 0,
    HLR_ANNEAL_LINEAR           = 1,
} hlr_anneal;
typedef enum hlr_cyclic_mode {
    HLR_CYCLIC_TRIANGULAR       = 0,
    HLR_CYCLIC_TRIANGULAR2      = 1,
    HLR_CYCLIC_EXP_RANGE        = 2,
} hlr_cyclic_mode;
typedef enum hlr_decay_shape {
    HLR_DECAY_LINEAR            = 0,
    HLR_DECAY_COSINE            = 1,
    HLR_DECAY_ONE_MINUS_SQRT    = 2,
} hlr_decay_shape;

/* Creates a schedule of `kind` with default parameters (*out = NULL on failure). */
int hlr_schedule_create(hlr_sched_kind kind, hlr_schedule **out);
/* Frees a schedule; NULL is a no-op. */
int hlr_schedule_free(hlr_schedule *schedule);
int hlr_schedule_kind(const hlr_schedule *schedule, int *kind);
/* Inclusive range and default of parameter `key` of `kind` (outputs may be NULL). */
int hlr_schedule_param_bounds(hlr_sched_kind kind, hlr_sched_param key, double *min, double *max,
                              double *default_value);
/* Sets one parameter (range and cross-constraints checked; a refusal changes nothing). */
int hlr_schedule_set_param(hlr_schedule *schedule, hlr_sched_param key, double value);
/* Sets n parameters at once; cross-constraints (e.g. upper_bound >= max_iter) are checked on
 * the result only. */
int hlr_schedule_set_params(hlr_schedule *schedule, const int *keys, const double *values,
                            size_t n);
int hlr_schedule_get_param(const hlr_schedule *schedule, hlr_sched_param key, double *value);
/* MULTI_STEP only: the milestones (any order, repeats allowed as in torch; at most 4096). */
int hlr_schedule_set_milestones(hlr_schedule *schedule, const uint64_t *milestones, size_t n);
/* optax join_schedules: piece i runs from boundaries[i-1] (0 for the first), counting its steps
 * from there; n_boundaries = n_pieces - 1, strictly increasing. The pieces are copied (read
 * only). In C declare the array `const hlr_schedule *pieces[] = {a, b};` (C, unlike C++, does
 * not convert `hlr_schedule **` to `const hlr_schedule *const *` implicitly). */
int hlr_schedule_join(const hlr_schedule *const *pieces, size_t n_pieces,
                      const uint64_t *boundaries, size_t n_boundaries, hlr_schedule **out);
/* Linear warmup from start_lr to child(0) over `steps` steps, then child(t - steps) (copied). */
int hlr_schedule_warmup(const hlr_schedule *child, uint64_t steps, double start_lr,
                        hlr_schedule **out);
/* The rate at `step`, or at steps first_step .. first_step + n - 1 (HLR_ERR_INVALID_ARGUMENT when
 * first_step + n exceeds 2^64: steps past 2^64 - 1 do not exist). */
int hlr_schedule_value(const hlr_schedule *schedule, uint64_t step, double *value);
int hlr_schedule_values(const hlr_schedule *schedule, uint64_t first_step, double *values,
                        size_t n);
/* The largest rate the schedule names (its base_lr, max_lr, ...): value / nominal is the factor
 * a schedule attached to a tuner multiplies the tuner's rates by. */
int hlr_schedule_nominal(const hlr_schedule *schedule, double *rate);
/* value(step) / nominal in [0, 1] (0 when the nominal rate is 0): the factor an attached schedule
 * multiplies a tuner's rates by. */
int hlr_schedule_factor(const hlr_schedule *schedule, uint64_t step, double *factor);
/* A new schedule: `schedule` for a parameter group whose learning rate is `nominal` (finite, in
 * [0, 1e300]), what a torch scheduler runs for each param group of an optimizer. With N the
 * schedule's nominal rate, every rate parameter x of every node becomes `nominal` if x == N,
 * else x * (nominal / N), except ETA_MIN of COSINE and COSINE_WARM_RESTARTS, which torch keeps
 * absolute; step counts, factors and choices are unchanged. A schedule whose N is 0 is copied as
 * it is; a HYPERBOLIC / EXP_HYPERBOLIC node rescaled to 0 becomes the constant 0.
 * HLR_ERR_INVALID_ARGUMENT, naming the value, for a bad `nominal` or a rescaled rate out of range. */
int hlr_schedule_rescale(const hlr_schedule *schedule, double nominal, hlr_schedule **out);
/* Snapshots of a schedule (magic "HLSC", version, CRC-32) and a new handle from one. */
int hlr_schedule_snapshot_size(const hlr_schedule *schedule, size_t *size);
int hlr_schedule_save(const hlr_schedule *schedule, void *buffer, size_t capacity,
                      size_t *written);
int hlr_schedule_load(const void *buffer, size_t size, hlr_schedule **out);

/* Attaches a copy of `schedule` as the tuner's base schedule (NULL detaches): the tuner's rates
 * become rate_k(t) * value(t) / nominal, clamped once more to the method's [lr_min, lr_max] (so
 * every rate stays finite and within them; a schedule decaying to 0 ends at lr_min). The method still observes and decides as before; with
 * HLR_METHOD_CONSTANT and initial_lr = nominal the rates are the schedule's values (to within an
 * ulp). The tuner's snapshot carries the schedule; HLR_RESET_OPTIONS detaches it. */
int hlr_tuner_set_schedule(hlr_tuner *tuner, const hlr_schedule *schedule);
/* A new handle holding a copy of the tuner's base schedule, or *out = NULL if none. */
int hlr_tuner_get_schedule(const hlr_tuner *tuner, hlr_schedule **out);

/* ------------------------------------------------------------------------------------------ */
/* Snapshots: options + state, versioned and checksummed                                      */
/* ------------------------------------------------------------------------------------------ */

/* Size in bytes of the snapshot hlr_tuner_save would write now. */
int hlr_tuner_snapshot_size(const hlr_tuner *tuner, size_t *size);
/* Writes the snapshot into buffer[0, capacity); *written (may be NULL) receives its size, also
 * on HLR_ERR_BUFFER_TOO_SMALL. */
int hlr_tuner_save(const hlr_tuner *tuner, void *buffer, size_t capacity, size_t *written);
/* Replaces the handle's options and state with a snapshot's. The library reads the 16-byte
 * header first and then only the length it declares: a `size` larger than that is refused
 * (HLR_ERR_SNAPSHOT_CORRUPT) without reading past the declared end; a `size` above 2^40, larger
 * than any snapshot, is refused as an argument (HLR_ERR_INVALID_ARGUMENT) before any read. A truncated or corrupt blob
 * (HLR_ERR_SNAPSHOT_CORRUPT), a newer or retired format (HLR_ERR_SNAPSHOT_VERSION; tuner format 1
 * of earlier builds is retired) or another method or group count (HLR_ERR_SNAPSHOT_MISMATCH) is
 * refused and the handle is left untouched. A restored handle continues bit-identically to the
 * one that was saved. */
int hlr_tuner_restore(hlr_tuner *tuner, const void *buffer, size_t size);

/* ------------------------------------------------------------------------------------------ */
/* Curvature estimators: eigenvalues, traces, diagonals, spectral densities of an HVP operator */
/* ------------------------------------------------------------------------------------------ */

/* An estimator is a configuration handle: create one by kind, set its parameters
 * (HLR_EST_PARAM_*; ranges and defaults from hlr_estimator_param_bounds, the defaults being the
 * estimators' documented ones), the probe seed and, for per-block results, block offsets; then
 * run it on an operator H (symmetric, given only through Hessian-vector products) and read the
 * results of the last run by key (HLR_RESULT_*). README.md "Curvature estimators" has the math
 * and the stopping rules of each kind.
 *
 * Two backends:
 *   - host: the library owns the vectors (n floats or doubles each, n <= 2^31) and calls the
 *     caller's hlr_hvp_f32/_f64 callback (the host-mode callback type above; out is zeroed before
 *     each call and scanned for NaN/Inf after it). Dot products accumulate in double in a fixed
 *     order, so a run is reproducible bit for bit, whatever HLR_EST_PARAM_THREADS is. The order:
 *     the vector is cut into chunks of 8192 elements from its start (the last one shorter); in a
 *     chunk of c elements, float64 products, eight lanes over the first floor(c/8)*8 elements
 *     (lane l takes the elements i = l mod 8, in index order), the lanes combined as
 *     ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7)), then the chunk's tail elements in index order; the
 *     chunks' sums added in chunk order, starting from 0.
 *   - ops: the caller owns the vectors (GPU tensors, ...) and passes a table of operations on
 *     uint64_t vector handles (hlr_vector_ops). Only scalars cross the boundary. If the callbacks
 *     compute what the host backend computes (the dot product in the order above; axpy and scale
 *     elementwise in the element type, a rounded to it, one rounding per operation: y + (a*x),
 *     a*x), an ops run
 *     returns bit-identical results; a dot summed in another order gives results that differ in
 *     the last bits for the estimators that compare or normalise by dot products (power
 *     iteration, the diagonal, the spectral density, XDiag).
 *
 * Worst-case work of one run (m = min(max_dimension, n), k = count, I = max_iterations,
 * s = sketch or test vectors, r = runs, p = grid_points; dense work in multiply-adds):
 *   lanczos          m HVPs,               m^2 n + m^3
 *   power_iteration  k I HVPs,             k^2 I n
 *   hutchinson       samples HVPs,         samples n          (diagonal: the same)
 *   hutch_plus_plus  matvecs HVPs,         matvecs min(s,n) n + min(s,n)^3
 *   xtrace           matvecs HVPs,         s min(s,n) n + min(s,n)^3, s = matvecs/2
 *   xdiag            matvecs HVPs,         s min(s,n) n + min(s,n)^3, s = matvecs/2 (2s + 5 vectors);
 *                                          with blocks b of them, + 3.5 s^2 n + b s^3 (block errors)
 *   spectral_density r min(steps,n) HVPs,  r m^2 n + r m p (smoothing), m = min(steps, n)
 * A run whose HVP bound exceeds 2^31, or whose smoothing exceeds 2^34 terms, is refused with
 * HLR_ERR_INVALID_ARGUMENT before the first callback.
 *
 * Runs validate everything (parameters against each other and against n, block offsets, the
 * callback table) before the first callback. A non-zero callback return aborts the run with
 * HLR_ERR_CALLBACK, naming the callback and the value; a NaN/Inf HVP output or dot product gives
 * HLR_ERR_NONFINITE; a non-symmetric operator makes a run fail with HLR_ERR_INVALID_ARGUMENT
 * ("the operator is not symmetric: ...") where the kind checks symmetry (SYMMETRY_TOLERANCE):
 * for free, from pairs of vectors and their HVPs the method has anyway, in Lanczos and the
 * spectral density (the Krylov basis), power iteration (consecutive iterates: v'Hw = (Hv)'w),
 * Hutch++, XTrace and XDiag (Q'HQ is symmetric); on request in Hutchinson and the diagonal
 * (SYMMETRY_TOLERANCE finite: consecutive probes z, z' must give z'(Hz') = (Hz)'z', no extra HVP
 * but 2 more vectors and 2 dot products per probe; off by default). The check sees the
 * asymmetry the vectors reveal: power iteration's iterates align as it converges, so it catches
 * asymmetry in the first iterations only. On every failure all vectors the run allocated are released, and the
 * handle keeps its configuration and the results of its previous run. ctx is passed to every
 * callback unchanged and used only during the run call. Callbacks may call the library, also on
 * this handle (the run holds no lock while they run); they must not free it. Every callback is
 * called on the thread that called the run (THREADS only parallelises the library's own vector
 * loops). Concurrent runs on one handle are allowed: the results are those of the run that
 * finished last.
 */
typedef struct hlr_estimator hlr_estimator;

/* Kinds (hlr_estimator_create). */
typedef enum hlr_est_kind {
    HLR_ESTIMATOR_LANCZOS          = 1,  /* top-k eigenpairs, Lanczos with full reorthogonalisation */
    HLR_ESTIMATOR_POWER_ITERATION  = 2,  /* Top-|λ| eigenpairs by power iteration with deflation. */
    HLR_ESTIMATOR_HUTCHINSON       = 3,  /* tr(H) ~ mean z'Hz, optional per-block traces             */
    HLR_ESTIMATOR_HUTCH_PLUS_PLUS  = 4,  /* tr(H) by Hutch++ (sketch + deflated Hutchinson)          */
    HLR_ESTIMATOR_DIAGONAL         = 5,  /* diag(H) ~ mean z .* Hz, optional per-block means         */
    HLR_ESTIMATOR_SPECTRAL_DENSITY = 6,  /* Spectral density by stochastic Lanczos quadrature, smoothed
                                            on a grid (Gaussian kernel). */
    HLR_ESTIMATOR_XTRACE           = 7,  /* tr(H) by XTrace, the exchangeable Hutch++ (Epperly et al.);
                                            exact once its test vectors span R^n (MATVECS >= 2n;
                                            Gaussian ones always), and none drawn past that */
    /* diag(H) by XDiag (Epperly, Tropp, Webber 2024), the exchangeable Diag++, symmetric form: with
     * s = MATVECS/2 test vectors w_i (probes 0..s-1 of stream 10), H*Omega = QR, P_i the projector
     * onto range(H*Omega) without column i and B_i = (I - P_i) H (I - P_i),
     *     d = (1/s) sum_i [ diag(H - B_i) + w_i .* (B_i w_i) ],
     * unbiased; diag(H - B_i) is exact given P_i, only the deflated remainder is sampled (relative
     * error ~ ||B_i||_F, small when the spectrum decays; the one-sided form of the paper and
     * curvlinops, diag(P_i H) + w_i .* (I - P_i) H w_i, has error ~ ||(I - P_i) H||_F). 2s HVPs,
     * per-block means and their jackknife standard errors with blocks; TRACE is XTrace's estimate
     * from the same vectors. Once the test vectors span R^n (MATVECS >= 2n; n Gaussian ones always)
     * no more are drawn and the result is exact. Rank-deficient H*Omega (rank(H) < s): exact
     * diag(PH + HP - PHP) plus Hutchinson on the remainder with the s - rank HVPs left (probes s,
     * s+1, ...). */
    HLR_ESTIMATOR_XDIAG            = 8,  /* diag(H) by XDiag, the exchangeable Diag++ (Epperly et al.) */
} hlr_est_kind;

/* Parameters (double values; counts, choices and flags reject fractions). Kinds in brackets;
 * each kind's ranges and defaults: hlr_param_info(HLR_FAMILY_ESTIMATOR, kind, ...). */
typedef enum hlr_est_param {
    HLR_EST_PARAM_COUNT               = 1,  /* [1,2] k, eigenpairs wanted (Lanczos, power iteration; 1 ≤
                                               k ≤ n at run time). */
    HLR_EST_PARAM_WHICH               = 2,  /* [1] Lanczos: which end of the spectrum, HLR_WHICH_*:
                                                    1 largest |lambda| (default), 2 largest lambda, 3
                                                    smallest lambda (Swift: EigenTarget.rawValue). */
    HLR_EST_PARAM_TOLERANCE           = 3,  /* [1] relative Ritz residual;
                                                    [2] relative change of lambda                       */
    HLR_EST_PARAM_MAX_DIMENSION       = 4,  /* [1] Krylov dimension m >= k, capped at n            */
    HLR_EST_PARAM_MAX_ITERATIONS      = 5,  /* [2] HVPs per eigenpair at most                      */
    HLR_EST_PARAM_DISTRIBUTION        = 6,  /* [1,2,3,4,6,7,8] HLR_PROBE_*: Gaussian for [1,2],
                                                    Rademacher for [3,4,6,7,8]; [5] is always
                                                    Rademacher                                         */
    HLR_EST_PARAM_COMPUTE_VECTORS     = 7,  /* [1,2] Lanczos, power iteration: 1 to return the
                                               eigenvectors, 0 not to. */
    HLR_EST_PARAM_SYMMETRY_TOLERANCE  = 8,  /* [all] max relative asymmetry, INFINITY: no check
                                                   (opt-in for [3,5])                */
    HLR_EST_PARAM_SAMPLES             = 9,  /* [3] probes (at most, if adaptive); [5] probes       */
    HLR_EST_PARAM_RELATIVE_TOLERANCE = 10,  /* [3,4] Hutchinson, Hutch++: 0 for a fixed budget, > 0 to
                                               stop once the standard error is at most this fraction of
                                               |estimate|. */
    HLR_EST_PARAM_MIN_SAMPLES        = 11,  /* [3,4] Hutchinson, Hutch++ (residual probes): samples
                                               before the adaptive rule may stop. */
    HLR_EST_PARAM_MATVECS            = 12,  /* [4] HVP budget m; [7,8] m/2 test vectors, 2*(m/2)
                                                    HVPs, 2 .. 131072                                    */
    HLR_EST_PARAM_SKETCH_SIZE        = 13,  /* [4] sketch columns s; 0: automatic, m/3             */
    HLR_EST_PARAM_RUNS               = 14,  /* [6] independent Lanczos runs n_v                    */
    HLR_EST_PARAM_STEPS              = 15,  /* [6] Lanczos steps per run, capped at n              */
    HLR_EST_PARAM_GRID_POINTS        = 16,  /* [6] density grid points, 2 .. 10^7                  */
    HLR_EST_PARAM_SIGMA              = 17,  /* [6] Gaussian width; 0: automatic, 1% of the
                                                    node spread                                         */
    HLR_EST_PARAM_GRID_LOWER         = 18,  /* [6] lower grid end; -INFINITY: automatic,
                                                    min node - 5 sigma                                  */
    HLR_EST_PARAM_GRID_UPPER         = 19,  /* [6] upper grid end; +INFINITY: automatic,
                                                    max node + 5 sigma                                  */
    HLR_EST_PARAM_THREADS            = 20,  /* [all] host runs: threads for vector operations,
                                                    1 .. 256; results do not depend on it               */
    HLR_EST_PARAM_EIGENVALUE_TOLERANCE = 21, /* [1] Lanczos: 0 (off) or a requested relative eigenvalue
                                                accuracy ε: also stop once every wanted Ritz value's
                                                error estimate min(r, r²/gap) is ≤ ε·|θ|
                                                (HLR_RESULT_ERROR_BOUNDS). */
    HLR_EST_PARAM_HVP_BLOCK          = 22,  /* [3,4,5,6,7,8] products per ops->hvp_block call (1: one at a time;
                                               [6]: runs stepped together); no effect without hvp_block */
} hlr_est_param;

typedef enum hlr_which {
    HLR_WHICH_LARGEST_MAGNITUDE  = 1,  /* largest |lambda| first (ties: larger lambda first) */
    HLR_WHICH_LARGEST_ALGEBRAIC  = 2,  /* largest lambda first (the sharpness)                */
    HLR_WHICH_SMALLEST_ALGEBRAIC = 3,  /* smallest lambda first (most negative curvature)     */
} hlr_which;

typedef enum hlr_probe_distribution {
    HLR_PROBE_RADEMACHER = 1,  /* +-1 with probability 1/2 each */
    HLR_PROBE_GAUSSIAN   = 2,  /* standard normal (Box-Muller)   */
} hlr_probe_distribution;

typedef enum hlr_termination {
    HLR_TERMINATION_CONVERGED       = 0,  /* every wanted pair met TOLERANCE or EIGENVALUE_TOLERANCE */
    HLR_TERMINATION_EXHAUSTED       = 1,  /* invariant subspace or whole space: values are exact  */
    HLR_TERMINATION_ITERATION_LIMIT = 2,  /* max_dimension (or n) reached first                   */
} hlr_termination;

/* Results (arrays of doubles; a scalar is an array of 1, counts and flags are exact integers).
 * Kinds in brackets; a key a run did not produce gives HLR_ERR_WRONG_STATE. */
typedef enum hlr_result {
    HLR_RESULT_EIGENVALUES        = 1,  /* [1,2] Lanczos, power iteration: θ₁ … θ_k (Lanczos in `which`
                                           order; power iteration in the order found). */
    HLR_RESULT_RESIDUALS          = 2,  /* [1,2] Lanczos, power iteration: residual estimates ‖H yᵢ − θᵢ
                                           yᵢ‖, one per eigenvalue. */
    HLR_RESULT_EIGENVECTORS       = 3,  /* [1,2] with COMPUTE_VECTORS: host k*n row-major; ops k
                                                vector handles (hlr_estimator_get_vectors)            */
    HLR_RESULT_ITERATIONS         = 4,  /* [1] Krylov dimension m; [2] HVPs per eigenpair (k)     */
    HLR_RESULT_CONVERGED          = 5,  /* [1,3,4,7] Lanczos, Hutchinson, Hutch++: [1 or 0]; power
                                           iteration: one flag per eigenpair. */
    HLR_RESULT_TERMINATION        = 6,  /* [1] Lanczos: [HLR_TERMINATION_*], why the run stopped. */
    HLR_RESULT_RESTARTS           = 7,  /* [1] restarts after an invariant subspace               */
    HLR_RESULT_MAX_ASYMMETRY      = 8,  /* [all] largest relative asymmetry measured (0: no check) */
    HLR_RESULT_HVPS               = 9,  /* [all] HVPs spent                                       */
    HLR_RESULT_TRACE             = 10,  /* [3,4,7] tr(H) estimate; [5] mean z'Hz of its probes (the
                                                sum of DIAGONAL up to rounding); [8] the XTrace
                                                estimate of its test vectors (the sum of DIAGONAL up
                                                to rounding);
                                                [6] n * mean v'Hv of the quadrature probes            */
    HLR_RESULT_STANDARD_ERROR    = 11,  /* [3,4,7] of the trace (Hutch++: of its residual part;
                                                XTrace: the jackknife's, over the s estimates that
                                                leave one test vector out (conservative; the
                                                std/sqrt(s) of the leave-one-out terms under-covers);
                                                INFINITY with a single probe)                         */
    HLR_RESULT_BLOCK_TRACES      = 12,  /* [3,4] with blocks: one per block, they sum to TRACE    */
    HLR_RESULT_BLOCK_TRACE_ERRORS = 13, /* [3,4] with blocks: standard error per block            */
    HLR_RESULT_SAMPLES           = 14,  /* [3,5] probes; [4] residual probes; [7,8] test vectors s (or
                                                the fallback's residual probes if A*Omega is rank-deficient) */
    HLR_RESULT_SKETCH_RANK       = 15,  /* [4,7,8] rank of the sketch basis Q. SKETCH_RANK = n with
                                                SAMPLES = 0 (and STANDARD_ERROR = 0): Q spans the whole
                                                space and the result is exact, not an estimate         */
    HLR_RESULT_DIAGONAL          = 16,  /* [5,8] host: n values; ops: 1 vector handle             */
    HLR_RESULT_BLOCK_MEANS       = 17,  /* [5,8] with blocks: mean of the diagonal per block      */
    HLR_RESULT_BLOCK_MEAN_ERRORS = 18,  /* [5,8] with blocks: standard error per block mean
                                                (XDiag: the jackknife over leaving one test vector
                                                out, conservative like XTrace's)                      */
    HLR_RESULT_DENSITY_NODES     = 19,  /* [6] Ritz values of run 0, then run 1, ... (ascending
                                                within a run); RUN_STEPS gives the run lengths        */
    HLR_RESULT_DENSITY_WEIGHTS   = 20,  /* [6] quadrature weights aligned with the nodes; each
                                                run's weights sum to 1                                */
    HLR_RESULT_RUN_STEPS         = 21,  /* [6] nodes per run (fewer than STEPS after a breakdown) */
    HLR_RESULT_GRID              = 22,  /* [6] GRID_POINTS ascending, uniformly spaced t_g        */
    HLR_RESULT_DENSITY           = 23,  /* [6] SLQ: the smoothed density φ(t_g), trapezoid-normalised to
                                           integrate to 1 on the grid. */
    HLR_RESULT_SIGMA             = 24,  /* [6] the Gaussian width used                            */
    HLR_RESULT_ERROR_BOUNDS      = 25,  /* [1] k estimated eigenvalue errors min(r, r^2/gap), gap:
                                                to the other Ritz values less their residuals         */
} hlr_result;

/* Creates an estimator of `kind` with default parameters and seed 0 (*out = NULL on failure;
 * HLR_ERR_UNKNOWN_METHOD for an unknown kind). */
int hlr_estimator_create(hlr_est_kind kind, hlr_estimator **out);
/* Frees an estimator; NULL is a no-op. Vector handles an ops run returned stay the caller's. */
int hlr_estimator_free(hlr_estimator *estimator);
int hlr_estimator_kind(const hlr_estimator *estimator, int *kind);
/* Inclusive range and default of parameter `key` of `kind` (outputs may be NULL).
 * HLR_ERR_UNKNOWN_METHOD / HLR_ERR_UNKNOWN_KEY when the pair does not exist. A bound may be
 * infinite: then that infinite value itself is accepted (see SYMMETRY_TOLERANCE, GRID_*). */
int hlr_estimator_param_bounds(hlr_est_kind kind, hlr_est_param key, double *min, double *max, double *default_value);
/* Sets one parameter (range checked; NaN always refused; a refusal changes nothing). Constraints
 * between parameters and against n (COUNT <= MAX_DIMENSION, COUNT <= n, Hutch++ MATVECS >=
 * 2 * SKETCH_SIZE + 1 (+ MIN_SAMPLES - 1 when adaptive), adaptive Hutchinson MIN_SAMPLES <=
 * SAMPLES, GRID_LOWER < GRID_UPPER) are checked
 * when a run starts, so parameters can be set in any order. */
int hlr_estimator_set_param(hlr_estimator *estimator, hlr_est_param key, double value);
int hlr_estimator_get_param(const hlr_estimator *estimator, hlr_est_param key, double *value);
/* The probe seed (default 0), a full 64-bit value. */
int hlr_estimator_set_seed(hlr_estimator *estimator, uint64_t seed);
int hlr_estimator_get_seed(const hlr_estimator *estimator, uint64_t *seed);
/* Block offsets for per-block results (HUTCHINSON, HUTCH_PLUS_PLUS, DIAGONAL, XDIAG; other kinds give
 * HLR_ERR_INVALID_ARGUMENT): n_offsets = blocks + 1 (2 .. 2^20 + 1) non-decreasing values from 0
 * to n; block b is [offsets[b], offsets[b+1]). The last offset must equal n at run time. NULL with
 * n_offsets = 0 clears them. The offsets are copied. */
int hlr_estimator_set_blocks(hlr_estimator *estimator, const size_t *offsets, size_t n_offsets);

/* Runs on library-owned host vectors of n elements (1 <= n <= 2^31) with the caller's HVP
 * callback. Vector results are copied into library-owned doubles, read with
 * hlr_estimator_get_result (eigenvectors row-major k x n; k * n must be <= 2^31). */
int hlr_estimator_run_host_f32(hlr_estimator *estimator, size_t n, hlr_hvp_f32 hvp, void *ctx);
int hlr_estimator_run_host_f64(hlr_estimator *estimator, size_t n, hlr_hvp_f64 hvp, void *ctx);

/* Vector operations on the caller's vectors, identified by uint64_t handles the caller chooses
 * (any value, 0 included). Every callback but release returns 0 on success, anything else to
 * abort the run (HLR_ERR_CALLBACK naming the callback and the value). Arguments may alias unless
 * noted. Set struct_size = sizeof(hlr_vector_ops): fields are only ever appended, a larger
 * struct_size from a newer header is accepted (the library reads the fields it knows), one that
 * does not cover version 1 (the 12 fields up to block_dots) is refused with
 * HLR_ERR_INVALID_ARGUMENT, and fields past struct_size are never read (NULL). Every field is a size_t or a
 * function pointer (no padding): field i lies at byte offset i * sizeof(void *). A required
 * callback that is NULL gives HLR_ERR_NULL_POINTER before anything runs. */
typedef struct hlr_vector_ops {
    size_t struct_size; /* sizeof(hlr_vector_ops)                                            */
    size_t n;           /* vector length, 1 <= n <= 2^48                                      */
    /* *out = a new vector of n zeros, owned by the run until release (or, for result vectors,
     * handed to the caller when the run succeeds). */
    int (*alloc)(void *ctx, uint64_t *out);
    /* Frees a vector. Cannot fail. Called for every vector the run allocated and does not
     * return, on every exit path. */
    void (*release)(void *ctx, uint64_t v);
    /* dst <- src (never aliased). */
    int (*copy)(void *ctx, uint64_t src, uint64_t dst);
    /* *out = x'y, accumulated in double (deterministic reductions make runs reproducible). */
    int (*dot)(void *ctx, uint64_t x, uint64_t y, double *out);
    /* y <- y + a x. */
    int (*axpy)(void *ctx, double a, uint64_t x, uint64_t y);
    /* x <- a x. */
    int (*scale)(void *ctx, double a, uint64_t x);
    /* v[i] <- probe element i (0-based) of vector `index` in `stream` under `seed`, HLR_PROBE_*
     * `distribution`, rounded to the element type. The formula (all uint64 arithmetic wrapping):
     *   mix(z): z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB;
     *           z ^= z >> 31  (SplitMix64's finalizer)
     *   key     = mix(mix(mix(seed + 0x9E3779B97F4A7C15) ^ (stream * 0xD1B54A32D192ED03))
     *                 ^ (index * 0x8CB92BA72F3D8DD7))
     *   bits(i) = mix(key + (i + 1) * 0x9E3779B97F4A7C15)
     *   Rademacher: +1 if bits(i) >> 63 == 0, else -1
     *   Gaussian:   u1 = ((bits(i) >> 11) + 0.5) * 2^-53, u2 = (mix(bits(i)) >> 11) * 2^-53,
     *               sqrt(-2 log u1) * cos(2 pi u2), in double with the library's own log (fdlibm's
     *               algorithm) and cos (exact quadrant reduction of u2, Taylor series): within 3.5
     *               ulp of the exact value (3.43 the largest over 4e7 elements); the same formula
     *               with libm's log and cos differs by at most 3e-15 (2.9e-15 over 1e7)
     * hlr_probe_fill_f32/_f64 compute it on the host (fill there and upload). Streams are the
     * library's: 1 Lanczos start, 2 power iteration, 3 Hutchinson, 4 Hutch++ sketch, 5 Hutch++
     * residual, 6 diagonal, 7 spectral density, 8 Hi-DLR perturbations (tuner probes), 9 XTrace,
     * 10 XDiag. */
    int (*fill_probe)(void *ctx, uint64_t v, uint64_t seed, uint64_t stream, uint64_t index,
                      int distribution);
    /* out <- H v (overwrite out; v and out never alias; v unchanged). */
    int (*hvp)(void *ctx, uint64_t v, uint64_t out);
    /* Optional (required by HLR_ESTIMATOR_DIAGONAL and HLR_ESTIMATOR_XDIAG): acc <- acc + a (x .* y), elementwise. */
    int (*mul_acc)(void *ctx, double a, uint64_t x, uint64_t y, uint64_t acc);
    /* Optional (required when block offsets are set): out[b] = sum over i in [offsets[b],
     * offsets[b+1]) of x_i y_i, in double, for b < n_offsets - 1. */
    int (*block_dots)(void *ctx, uint64_t x, uint64_t y, const size_t *offsets, size_t n_offsets,
                      double *out);
    /* Optional, appended after version 1 (a struct_size that does not cover it means NULL):
     * vectors SHARDED across the caller's processes. values[i] <- the sum of values[i] over the
     * processes (an all-reduce: same count and order everywhere, same result everywhere). Each
     * process runs hlr_estimator_run_ops with its own shard: n is the shard's length, every
     * callback works on the local shard (hvp exchanges what it needs itself; fill_probe must fill
     * local element j with the probe's element offset + j, hlr_probe_fill_*'s `first`), and the
     * library sums every dot product over the processes, the dimension being the sum of the n's.
     * Block offsets are refused with it. Every process gets the same results (eigenvalues,
     * traces; result vectors are each process's shards). */
    int (*all_reduce)(void *ctx, double *values, size_t count);
    /* Optional, appended after all_reduce (0.3.0; NULL or not covered: one hvp call per
     * product): out[j] <- H v[j] for j < k, 2 <= k <= the estimator's HLR_EST_PARAM_HVP_BLOCK
     * (never aliased, v[j] unchanged), e.g. one vmapped double backward for k vectors. Hutchinson,
     * Hutch++, the diagonal, XTrace and XDiag then draw their probes and sketch products in
     * blocks (about 2 * hvp_block more work vectors for the probing ones), the spectral density
     * steps hvp_block of its runs together (min(hvp_block, runs) * (min(steps, n) + 1) vectors
     * held); their
     * estimates are those of one-at-a-time runs given the same products. */
    int (*hvp_block)(void *ctx, size_t k, const uint64_t *v, const uint64_t *out);
    /* Optional, appended after hvp_block (0.3.0; NULL or not covered: one dot / axpy call each):
     * out[j] <- x[j]'y for j < k, each as dot computes it (with all_reduce, the library sums the k
     * values over the processes in one call); and y <- y + a[0] x[0], then y <- y + a[1] x[1], ...
     * in that order (y may be one of the x[j]; the bits of those axpy calls). The Gram-Schmidt
     * passes of Lanczos, Hutch++, XTrace and XDiag and their projections QᵀAQ, QᵀΩ make k dots
     * against one vector at a time: one call (one device synchronisation) instead of k. */
    int (*multi_dot)(void *ctx, size_t k, const uint64_t *x, uint64_t y, double *out);
    int (*multi_axpy)(void *ctx, size_t k, const double *a, const uint64_t *x, uint64_t y);
} hlr_vector_ops;

/* Runs on the caller's vectors. When it succeeds, the result vectors (EIGENVECTORS with
 * COMPUTE_VECTORS, the DIAGONAL) belong to the caller, who releases them; every other vector was
 * released before the call returned. The table is read during the call only. */
int hlr_estimator_run_ops(hlr_estimator *estimator, const hlr_vector_ops *ops, void *ctx);

/* Results of the last successful run. *n = the number of doubles of `key` (for the vector
 * results of an ops run: the number of vector handles). HLR_ERR_WRONG_STATE before any run or for
 * a key the last run did not produce (its message lists the keys it did), HLR_ERR_UNKNOWN_KEY for
 * an unknown key. */
int hlr_estimator_result_size(const hlr_estimator *estimator, hlr_result key, size_t *n);
/* Copies the values of `key` into out[0 .. size); n >= size (HLR_ERR_BUFFER_TOO_SMALL
 * otherwise). The vector results of an ops run give HLR_ERR_WRONG_STATE: they are handles. */
int hlr_estimator_get_result(const hlr_estimator *estimator, hlr_result key, double *out, size_t n);
/* The vector handles of EIGENVECTORS / DIAGONAL after an ops run (the caller owns them; reading
 * them does not transfer anything twice). n >= the count; after a host run HLR_ERR_WRONG_STATE
 * (read the copies with hlr_estimator_get_result). */
int hlr_estimator_get_vectors(const hlr_estimator *estimator, hlr_result key, uint64_t *handles,
                              size_t n);

/* out[j] = probe element first + j of vector `index` in `stream` under `seed` (the fill_probe
 * formula above), for j < n. */
int hlr_probe_fill_f32(uint64_t seed, uint64_t stream, uint64_t index,
                       hlr_probe_distribution distribution, uint64_t first, float *out, size_t n);
int hlr_probe_fill_f64(uint64_t seed, uint64_t stream, uint64_t index,
                       hlr_probe_distribution distribution, uint64_t first, double *out, size_t n);

/* The smoothed spectral density of a measure (nodes theta_i, weights w_i; e.g. the SLQ nodes and
 * weights of a run, weights divided by the number of runs) at n_points points t, without
 * renormalisation: out[j] = sum_i w_i exp(-(t_j - theta_i)^2 / (2 sigma^2)) / (sigma sqrt(2 pi)),
 * summed in node order (the smoothing HLR_RESULT_DENSITY uses before its renormalisation).
 * sigma finite and > 0; every input finite (HLR_ERR_NONFINITE names the first that is not, and
 * a value that overflows); n_nodes >= 1, n_points >= 1 and n_nodes * n_points <= 2^34. out
 * holds n_points doubles. */
int hlr_density_smooth(const double *nodes, const double *weights, size_t n_nodes,
                       const double *points, size_t n_points, double sigma, double *out);

/* Stability diagnostics (lr > 0, every input finite; HLR_ERR_NONFINITE if the result overflows).
 * *out = lr * lambda_max / 2: gradient descent is stable along the top eigenvector iff < 1
 * (lr * lambda_max < 2, the edge of stability at 1). */
int hlr_edge_of_stability(double lr, double lambda_max, double *out);
/* *out = lr * trace / 2: > 1 means SGD cannot stay at this minimum (tr(H) <= 2/lr is necessary
 * for its linear stability). */
int hlr_sgd_trace_stability(double lr, double trace, double *out);

typedef enum hlr_batch_scaling {
    HLR_BATCH_SCALING_LINEAR = 1,  /* SGD: lr * new/old            */
    HLR_BATCH_SCALING_SQRT   = 2,  /* Adam: lr * sqrt(new/old)     */
} hlr_batch_scaling;
/* The learning rate for batch size new_batch given lr at old_batch (both > 0). */
int hlr_scaled_lr(double lr, double old_batch, double new_batch, hlr_batch_scaling rule, double *out);

/* ------------------------------------------------------------------------------------------ */
/* Experimental: define HLR_EXPERIMENTAL before including this header                         */
/* ------------------------------------------------------------------------------------------ */

/* What this section declares may change or go in any 0.x minor release, without the notice the
 * rest of the header gets (zstd's ZSTD_STATIC_LINKING_ONLY model): the library exports it and the
 * Python binding uses it, but a C or C++ program sees it only when it opts in with
 * `#define HLR_EXPERIMENTAL` before `#include <hessianlr.h>`. Now here: hlr_tuner_plan, whose
 * promise (*steady_until) the work on the step driver's fast path may still reshape. */
#ifdef HLR_EXPERIMENTAL

/* One call per step for a caller that keeps the rates: *need and *count as hlr_tuner_need
 * (count may be NULL), lrs[0..n) as hlr_tuner_get_lrs (n = the group count; when the step needs
 * an observation, the rates before it), and *steady_until: the first step after `step` at which
 * the need or the rates may differ, provided nothing is observed, set, reset or restored
 * meanwhile (UINT64_MAX: never; step + 1 when `step` needs an observation or a base schedule is
 * attached). On the steps in (step, *steady_until) the caller may reuse these rates without
 * calling the library; the torch driver does. */
int hlr_tuner_plan(const hlr_tuner *tuner, uint64_t step, int *need, size_t *count, double *lrs,
                   size_t n, uint64_t *steady_until);

#endif /* HLR_EXPERIMENTAL */

#ifdef __cplusplus
}
#endif

#endif /* HESSIANLR_H */
