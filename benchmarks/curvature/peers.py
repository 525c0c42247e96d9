"""The peers, called as their users call them, with HVPs counted and timed from outside.

- PyHessian 0.1 (PyPI ``pyhessian``): ``hessian(model, criterion, data=(x, y), cuda=False)`` then
  ``.eigenvalues(maxIter, tol, top_n=1)`` (power iteration), ``.trace(maxIter, tol)``
  (Hutchinson, Rademacher) and ``.density(iter, n_v)`` (SLQ). It creates some tensors in the
  default dtype (start vectors; the tridiagonal T of ``density``), so for this float64 model it
  runs under ``torch.set_default_dtype(torch.float64)``; its ``density`` calls ``torch.eig``, removed from
  torch 2.x, which we supply for the call as a shim over ``torch.linalg.eigh`` (T is symmetric
  tridiagonal, so this is the same decomposition). HVPs are counted by wrapping
  ``pyhessian.hessian.hessian_vector_product`` (the function every one of its estimators calls).
- hessian-eigenthings: not on PyPI. Its Lanczos mode is ``scipy.sparse.linalg.eigsh`` (ARPACK)
  over a LinearOperator of HVPs with its defaults which="LM", ncv = min(2k, n − 1),
  maxiter = max_steps = 20, tol = 1e-6, v0 = ``np.random.rand(n)``; we call eigsh the same way over
  our float64 HVP (eigenthings itself casts vectors to float32, which we do not reproduce).
- curvlinops-for-pytorch 3.0.1: ``HessianLinearOperator(model, loss, params, [(x, y)])`` with
  ``hutchinson_trace(A, m)`` and ``hutchpp_trace(A, m)``; HVPs counted as the columns the operator
  multiplies (its ``_matmat``).
"""

from __future__ import annotations

import contextlib
import sys
import time

import numpy as np
import torch


@contextlib.contextmanager
def float64_default():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


@contextlib.contextmanager
def torch_eig_shim():
    """``torch.eig(T, eigenvectors=True)`` (removed in torch 2) for a symmetric T: eigenvalues as
    the old (n, 2) [real, imaginary] tensor and the eigenvectors as columns."""
    had = hasattr(torch, "eig")
    previous = getattr(torch, "eig", None)

    def eig(matrix, eigenvectors=False):
        values, vectors = torch.linalg.eigh(matrix)
        return torch.stack([values, torch.zeros_like(values)], dim=1), vectors

    torch.eig = eig
    try:
        yield
    finally:
        if had:
            torch.eig = previous
        else:
            del torch.eig


class PyHessian:
    def __init__(self, problem):
        import pyhessian  # noqa: F401  (loads the submodule)

        self.module = sys.modules["pyhessian.hessian"]
        self.hvps = 0
        self.hvp_seconds = 0.0
        self.record = None  # a list to append each HVP's vᵀHv to, or None
        original = self.module.hessian_vector_product

        def counted(grads, params, v):
            start = time.perf_counter()
            products = original(grads, params, v)
            self.hvp_seconds += time.perf_counter() - start
            self.hvps += 1
            if self.record is not None:
                self.record.append(float(sum(torch.sum(a * b) for a, b in zip(products, v))))
            return products

        self.module.hessian_vector_product = counted
        for p in problem.model.parameters():  # its constructor backpropagates into p.grad
            p.grad = None
        with float64_default():
            self.hessian = self.module.hessian(problem.model, problem.loss_fn,
                                               data=(problem.inputs, problem.targets), cuda=False)

    def _call(self, seed, function, *args, **kwargs):
        torch.manual_seed(seed)
        self.hvps, self.hvp_seconds = 0, 0.0
        with float64_default():
            start = time.perf_counter()
            out = function(*args, **kwargs)
            wall = time.perf_counter() - start
        return out, self.hvps, wall

    def lambda_max(self, seed, max_iter=100, tol=1e-3, record=False):
        """(λ, HVPs, wall seconds, [vᵀHv per HVP] if record)."""
        self.record = [] if record else None
        try:
            (values, _), hvps, wall = self._call(seed, self.hessian.eigenvalues, maxIter=max_iter, tol=tol, top_n=1)
            return float(values[0]), hvps, wall, self.record
        finally:
            self.record = None

    def trace(self, seed, max_iter=100, tol=1e-3):
        samples, hvps, wall = self._call(seed, self.hessian.trace, maxIter=max_iter, tol=tol)
        return float(np.mean(samples)), hvps, wall

    def density(self, seed, iterations=100, runs=1):
        with torch_eig_shim():
            (nodes, weights), hvps, wall = self._call(seed, self.hessian.density, iter=iterations, n_v=runs)
        return [np.asarray(n, dtype=np.float64) for n in nodes], [np.asarray(w, dtype=np.float64) for w in weights], \
            hvps, wall


def eigsh_lambda_max(problem, seed, *, which="LM", ncv=None, tol=1e-6, maxiter=20):
    """hessian-eigenthings' Lanczos call (k = 1): (λ, HVPs, wall seconds, converged)."""
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    n = problem.n
    op = problem.op
    count = [0]

    def matvec(x):
        count[0] += 1
        v = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64).reshape(-1))
        out = torch.empty_like(v)
        op.hvp(v, out)
        return out.numpy()

    linear = LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    v0 = np.random.RandomState(seed).rand(n)  # eigenthings: init_vec = np.random.rand(size)
    ncv = min(2 * 1, n - 1) if ncv is None else ncv
    start = time.perf_counter()
    try:
        values = eigsh(linear, k=1, which=which, ncv=ncv, tol=tol, maxiter=maxiter, v0=v0, return_eigenvectors=False)
        converged = True
    except ArpackNoConvergence as error:
        values = error.eigenvalues
        converged = False
    wall = time.perf_counter() - start
    value = float(values[-1]) if len(values) else float("nan")
    return value, count[0], wall, converged


class Curvlinops:
    def __init__(self, problem):
        from curvlinops import HessianLinearOperator, hutchinson_trace, hutchpp_trace
        from curvlinops.trace.epperly2024xtrace import xtrace

        params = [p for p in problem.model.parameters() if p.requires_grad]
        self.operator = HessianLinearOperator(problem.model, problem.loss_fn, params,
                                              [(problem.inputs, problem.targets)])
        self.hvps = 0
        original = self.operator._matmat

        def counted(matrix):
            self.hvps += int(matrix[0].shape[-1])
            return original(matrix)

        self.operator._matmat = counted
        self._hutchinson, self._hutchpp, self._xtrace = hutchinson_trace, hutchpp_trace, xtrace

    def check(self, problem) -> float:
        """max |A v − H v| / max |H v| for a random v (A: curvlinops, H: the dense Hessian)."""
        v = torch.randn(problem.n, dtype=torch.float64)
        ours = problem.dense @ v.numpy()
        theirs = (self.operator @ v).detach().numpy()
        return float(np.abs(theirs - ours).max() / np.abs(ours).max())

    def _run(self, function, seed, budget):
        torch.manual_seed(seed)
        self.hvps = 0
        start = time.perf_counter()
        value = float(function(self.operator, budget))
        return value, self.hvps, time.perf_counter() - start

    def hutchinson(self, seed, budget):
        return self._run(self._hutchinson, seed, budget)

    def hutchpp(self, seed, budget):
        return self._run(self._hutchpp, seed, budget)

    def xtrace(self, seed, budget):
        """curvlinops' XTrace needs an even budget: 2·⌊budget/2⌋ HVPs, like ours."""
        return self._run(self._xtrace, seed, 2 * (budget // 2))
