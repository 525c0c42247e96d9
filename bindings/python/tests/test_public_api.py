"""The package's public names (``hessianlr.__all__``, built from the submodules' ``__all__``) are
exactly the ones below: a name added to or dropped from a submodule's ``__all__`` changes the
package's API, and this test makes that a deliberate edit. Every name resolves (the torch ones
lazily)."""

import hessianlr

PUBLIC = {
    "AnnealStrategy", "Armijo", "Auto", "BatchScaling", "BufferTooSmallError", "CDAT",
    "CallbackError", "Constant", "CyclicMode", "DecayShape", "DensityResult", "Diagonal",
    "DiagonalResult", "Direction", "ESTIMATOR_CLASSES", "Estimator", "EstimatorKind",
    "EstimatorParam", "Flag", "GeN", "HessianLR", "HessianLRError", "HessianLRScheduler",
    "HiDLR", "HostMode", "HutchPlusPlus", "Hutchinson", "Info", "InvalidArgumentError",
    "InvalidHandleError", "LRTuner", "Lanczos", "LanczosResult", "Method", "MethodTuner",
    "Model", "Need", "NonFiniteError", "NullPointerError", "NumpyVectors", "Optimizer", "Param",
    "ParamBounds", "ParamFamily", "ParamFlag", "Plan", "PowerIteration", "PowerIterationResult",
    "ProbeDistribution", "ProbeStream", "Reset", "Result", "Schedule", "ScheduleKind",
    "ScheduleLR", "ScheduleParam", "SnapshotCorruptError", "SnapshotMismatchError",
    "SnapshotVersionError", "SpectralDensity", "Status", "TUNER_CLASSES", "Termination",
    "Timing", "TorchOperator", "TorchVectors", "TraceResult", "Tuner", "UnknownKeyError",
    "UnknownMethodError", "Which", "WrongStateError", "XDiag", "XTrace", "__version__", "check",
    "edge_of_stability", "error_class", "estimator_param_bounds", "estimator_params",
    "header_version", "join", "library_path", "library_version", "library_version_number",
    "make_tuner", "method_of", "method_params", "param_bounds", "probe", "scaled_lr",
    "schedule_param_bounds", "schedule_params", "sgd_trace_stability", "warmup"
}


def test_the_public_names_are_the_recorded_ones():
    exported = set(hessianlr.__all__)
    assert len(hessianlr.__all__) == len(exported), "a name is exported twice"
    assert exported == PUBLIC, f"added: {sorted(exported - PUBLIC)}, dropped: {sorted(PUBLIC - exported)}"


def test_every_public_name_resolves():
    for name in hessianlr.__all__:
        assert getattr(hessianlr, name) is not None, name
