"""Curvature estimators on torch tensors: the Hessian of a loss as an operator whose vectors stay on
the parameters' device (torch is imported only when this module is).

    op = TorchOperator.from_model(model, loss_fn, inputs, targets)   # or TorchOperator(params, closure)
    top = hessianlr.Lanczos(count=3, which="largest_algebraic", eigenvalue_tolerance=1e-6).run_torch(op)
    tr = hessianlr.XTrace(matvecs=100).run_torch(op).trace                        # most accurate per HVP
    per_layer = hessianlr.HutchPlusPlus(matvecs=99, blocks=op.offsets).run_torch(op)  # per-layer traces
    d = hessianlr.Diagonal(samples=50).run_torch(op).diagonal                        # a flat tensor
    op.unflatten(d)                                                                  # one per parameter

H is the Hessian of ``closure()`` (a fixed batch: the same loss every call) with respect to
``params``, flattened in parameter order (``op.offsets``: one block per parameter tensor). The
gradient graph is built once (``create_graph=True``) and kept; each HVP is one more backward through
it (``autograd.grad(g, params, grad_outputs=v, retain_graph=True)``), so H is exactly symmetric up
to rounding and the operator is deterministic. ``op.close()`` (or ``with``) frees the graph.

The vector operations of ``hlr_estimator_run_ops`` (:class:`TorchVectors`):

- vectors are flat tensors of the parameters' dtype and device (all parameters must share them);
- ``dot`` and ``block_dots`` accumulate in float64 (float32 on MPS, which has no float64) and
  return Python floats: one scalar (or one per block) crosses per call;
- ``fill_probe`` computes the library's probe on the host with ``hlr_probe_fill_f64/_f32``
  (Rademacher exactly ±1, Gaussian bit-identical to a host run) and uploads it in one copy — the
  only vector-sized transfer, once per probe;
- ``hvp`` writes H·v into ``out`` through the retained graph; ``axpy``, ``scale``, ``copy``,
  ``mul_acc`` are in-place tensor operations on the device;
- ``multi_dot`` computes k dots against one vector as one matrix-vector product (one
  transfer of k scalars; the Gram-Schmidt passes and projections of Lanczos, Hutch++, XTrace and
  XDiag), ``multi_axpy`` k in-place updates of one vector in order;
- ``hvp_block`` computes k products in one backward through the same graph (autograd's
  ``is_grads_batched``: vmap over the grad_outputs), for estimators run with ``hvp_block`` > 1:
  fewer, larger kernels where one HVP does not fill the device, at k times the backward's memory.
  A graph with an operation that has no batching rule falls back to one backward per vector.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np

from ._callbacks import host_probe

__all__ = ["TorchOperator", "TorchVectors"]


def _torch():
    import torch  # lazy: torch is an optional dependency

    return torch


class TorchOperator:
    """The Hessian of a scalar loss with respect to ``params``, as an HVP operator on flat tensors.

    ``TorchOperator(params, closure)``: ``closure()`` returns the loss on a fixed batch (called
    once, here, with grad enabled). Or pass ``loss=`` a loss tensor whose graph reaches the
    parameters. Parameters that do not require grad are skipped; all the others must share one
    floating dtype and device. Attributes: ``n``, ``dtype``, ``device``, ``params``, ``names``
    (when built by :meth:`from_model`), ``offsets`` (n_params + 1 block offsets), ``hvp_count``,
    ``batched`` (whether :meth:`hvp_block` still batches).
    """

    def __init__(self, params, closure: Optional[Callable] = None, *, loss=None, names: Optional[Sequence[str]] = None):
        torch = _torch()
        self._torch = torch
        params = [p for p in params if p.requires_grad]
        if not params:
            raise ValueError("TorchOperator needs at least one parameter that requires grad")
        dtypes = {p.dtype for p in params}
        devices = {p.device for p in params}
        if len(dtypes) != 1 or len(devices) != 1:
            raise TypeError(f"all parameters must share one dtype and device, got {sorted(map(str, dtypes))} "
                            f"on {sorted(map(str, devices))}")
        self.dtype = params[0].dtype
        if not self.dtype.is_floating_point:
            raise TypeError(f"parameters must be floating point, got {self.dtype}")
        self.device = params[0].device
        self.params = params
        self.names = list(names) if names is not None else [f"param{i}" for i in range(len(params))]
        self.sizes = [p.numel() for p in params]
        self.offsets = [0, *np.cumsum(self.sizes).tolist()]
        self.n = int(self.offsets[-1])
        if (closure is None) == (loss is None):
            raise TypeError("pass exactly one of closure (returning the loss) or loss (a tensor with its graph)")
        with torch.enable_grad():
            value = closure() if closure is not None else loss
            if not isinstance(value, torch.Tensor) or value.numel() != 1:
                raise TypeError(f"the loss must be a scalar tensor, got {type(value).__name__}")
            grads = torch.autograd.grad(value.reshape(()), params, create_graph=True, allow_unused=True)
        self.loss = float(value.detach())
        self._grads = [g if g is not None and g.requires_grad else None for g in grads]
        self._live = [i for i, g in enumerate(self._grads) if g is not None]
        self.gradient = torch.cat([(g.detach() if g is not None else torch.zeros_like(p)).reshape(-1)
                                   for g, p in zip(grads, params)])
        self.hvp_count = 0
        self.batched = True  # hvp_block in one batched backward (False after a graph refused it)

    @classmethod
    def from_model(cls, model, loss_fn: Callable, inputs, targets) -> "TorchOperator":
        """The Hessian of ``loss_fn(model(inputs), targets)`` w.r.t. the model's trainable
        parameters (names from ``named_parameters``). Dropout/BatchNorm make a loss random: call
        ``model.eval()`` first if the model has them."""
        named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        return cls([p for _, p in named], lambda: loss_fn(model(inputs), targets), names=[n for n, _ in named])

    # the operator
    def hvp(self, v, out) -> None:
        """out ← H·v (flat tensors of length n; v is not changed)."""
        torch = self._torch
        if self._grads is None:
            raise RuntimeError("the TorchOperator is closed (its graph was freed)")
        self.hvp_count += 1
        pieces = self.unflatten(v)
        if not self._live:
            out.zero_()
            return
        products = torch.autograd.grad([self._grads[i] for i in self._live], self.params,
                                       grad_outputs=[pieces[i] for i in self._live],
                                       retain_graph=True, allow_unused=True)
        for (start, stop), product in zip(zip(self.offsets[:-1], self.offsets[1:]), products):
            if product is None:
                out[start:stop].zero_()
            else:
                out[start:stop].copy_(product.reshape(-1))

    def hvp_block(self, vs, outs) -> None:
        """outs[j] ← H·vs[j] for every j, in one batched backward through the retained graph
        (``is_grads_batched=True``); each product equals :meth:`hvp`'s up to the rounding of the
        batched kernels. If the batched backward fails (an operation without a batching rule),
        ``batched`` becomes False and every later call makes one backward per vector."""
        torch = self._torch
        if self._grads is None:
            raise RuntimeError("the TorchOperator is closed (its graph was freed)")
        if not self.batched or len(vs) < 2:
            for v, out in zip(vs, outs):
                self.hvp(v, out)
            return
        k = len(vs)
        if not self._live:
            self.hvp_count += k
            for out in outs:
                out.zero_()
            return
        stacked = torch.stack(list(vs))  # (k, n)
        pieces = [stacked[:, a:b].reshape((k,) + tuple(p.shape))
                  for a, b, p in zip(self.offsets[:-1], self.offsets[1:], self.params)]
        try:
            products = torch.autograd.grad([self._grads[i] for i in self._live], self.params,
                                           grad_outputs=[pieces[i] for i in self._live],
                                           retain_graph=True, allow_unused=True, is_grads_batched=True)
        except RuntimeError:
            self.batched = False
            self.hvp_block(vs, outs)
            return
        self.hvp_count += k
        rows = torch.cat([stacked.new_zeros(k, b - a) if product is None else product.reshape(k, -1)
                          for a, b, product in zip(self.offsets[:-1], self.offsets[1:], products)], dim=1)
        for j, out in enumerate(outs):
            out.copy_(rows[j])

    def host_hvp(self):
        """A host-mode callback ``hvp(v, out)`` for :meth:`~hessianlr.estimators.Estimator.run_host`
        (CPU operators of dtype float32/float64 only): v and out are shared with torch without
        copies (``torch.from_numpy``)."""
        torch = self._torch
        if self.device.type != "cpu" or self.dtype not in (torch.float32, torch.float64):
            raise TypeError(f"host_hvp needs a CPU float32/float64 operator, got {self.dtype} on {self.device}")

        def hvp(v, out):
            writable = v.view()
            writable.flags.writeable = True  # the library's input buffer: read, never written here
            self.hvp(torch.from_numpy(writable), torch.from_numpy(out))

        return hvp

    def matvec(self, v):
        """H·v as a new flat tensor."""
        out = self._torch.empty_like(v)
        self.hvp(v, out)
        return out

    # layout helpers
    def unflatten(self, v) -> list:
        """Views of a flat vector, one per parameter, in the parameters' shapes."""
        return [v[a:b].view_as(p) for a, b, p in zip(self.offsets[:-1], self.offsets[1:], self.params)]

    def flatten(self, tensors):
        """One flat tensor from one tensor per parameter."""
        return self._torch.cat([t.reshape(-1) for t in tensors])

    def dense(self):
        """The n×n Hessian by n HVPs on unit vectors (small models only), symmetrised."""
        torch = self._torch
        rows = torch.empty(self.n, self.n, dtype=self.dtype, device=self.device)
        unit = torch.zeros(self.n, dtype=self.dtype, device=self.device)
        for i in range(self.n):
            unit[i] = 1
            self.hvp(unit, rows[i])
            unit[i] = 0
        return 0.5 * (rows + rows.T)

    def close(self) -> None:
        """Frees the retained double-backward graph."""
        self._grads = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self) -> str:
        return f"<TorchOperator n={self.n} dtype={self.dtype} device={self.device} params={len(self.params)}>"


class TorchVectors:
    """The vector backend of :meth:`~hessianlr.estimators.Estimator.run_ops` for a
    :class:`TorchOperator` (or any object with ``n``, ``dtype``, ``device`` and ``hvp(v, out)``
    on flat tensors, and optionally ``hvp_block(vs, outs)``). ``live`` counts the vectors
    allocated and not released."""

    def __init__(self, operator):
        self._torch = _torch()
        self.operator = operator
        self.n = int(operator.n)
        self.dtype = operator.dtype
        self.device = operator.device
        torch = self._torch
        self._accumulate = torch.float32 if self.device.type == "mps" else torch.float64
        self._probe_dtype = np.float32 if self.dtype == torch.float32 else np.float64
        self.live = 0
        self.allocated = 0
        if not callable(getattr(operator, "hvp_block", None)):
            self.hvp_block = None  # an operator without batched products: the table's field stays NULL

    def zeros(self):
        self.live += 1
        self.allocated += 1
        return self._torch.zeros(self.n, dtype=self.dtype, device=self.device)

    def release(self, v) -> None:
        self.live -= 1

    def copy(self, src, dst) -> None:
        dst.copy_(src)

    def dot(self, x, y) -> float:
        if x.dtype != self._accumulate:
            x, y = x.to(self._accumulate), y.to(self._accumulate)
        return self._torch.dot(x, y).item()

    def axpy(self, a, x, y) -> None:
        y.add_(x, alpha=a)

    def multi_dot(self, xs, y) -> list:
        """[xᵀy for x in xs] as one matrix-vector product in the accumulation dtype: one transfer."""
        torch = self._torch
        matrix = torch.stack(xs)
        if matrix.dtype != self._accumulate:  # one conversion of the stack, not one per vector
            matrix, y = matrix.to(self._accumulate), y.to(self._accumulate)
        return torch.mv(matrix, y).tolist()

    def multi_axpy(self, a, xs, y) -> None:
        for coefficient, x in zip(a, xs):  # in order, as the axpy calls would (y may be one of xs)
            y.add_(x, alpha=coefficient)

    def scale(self, a, x) -> None:
        x.mul_(a)

    def fill_probe(self, v, seed, stream, index, distribution) -> None:
        values = host_probe(seed, stream, index, distribution, self.n, self._probe_dtype)
        v.copy_(self._torch.from_numpy(values))  # one upload; rounded once to v's dtype

    def hvp(self, v, out) -> None:
        self.operator.hvp(v, out)

    def hvp_block(self, vs, outs) -> None:
        self.operator.hvp_block(vs, outs)

    def mul_acc(self, a, x, y, acc) -> None:
        acc.addcmul_(x, y, value=a)

    def block_dots(self, x, y, offsets) -> list:
        torch = self._torch
        products = x.to(self._accumulate) * y.to(self._accumulate)
        sums = [products[a:b].sum() if b > a else products.new_zeros(()) for a, b in zip(offsets[:-1], offsets[1:])]
        return torch.stack(sums).tolist()  # one transfer of n_blocks scalars
