"""Integrations of :class:`~hessianlr.torch.LRTuner` with the frameworks people train with.

Each submodule imports its framework only when it is imported (none is a dependency of the
binding; ``bindings/python/requirements-integrations.txt`` pins the tested versions):

- :mod:`hessianlr.integrations.transformers`: a Hugging Face ``TrainerCallback``
  (:class:`~hessianlr.integrations.transformers.HessianLRCallback`) and a ``Trainer``-compatible
  scheduler factory (:func:`~hessianlr.integrations.transformers.hessianlr_scheduler`);
- :mod:`hessianlr.integrations.lightning`: a Lightning ``Callback`` for automatic optimization,
  with ``accumulate_grad_batches``;
- :mod:`hessianlr.integrations.logging`: what the tuner did at each optimizer step
  (:class:`~hessianlr.integrations.logging.StepMetrics`) written to TensorBoard or W&B;
- :mod:`hessianlr.integrations.checks`: :func:`~hessianlr.integrations.checks.estimate_memory_overhead`
  and :func:`~hessianlr.integrations.checks.validate_setup`, structured answers before training.

The callbacks leave the backward pass to the framework (``LRTuner.after_backward``: DDP's
all-reduce, clipping and accumulation keep working), count optimizer steps, not micro-batches,
and take the curvature by finite differences of the gradient on the step's own micro-batches,
replayed through the framework's loss (the frameworks build no double-backward graph).
"""
