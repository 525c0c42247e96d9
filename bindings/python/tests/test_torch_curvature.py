"""Estimators on a real small PyTorch model: a tanh MLP 64-4-10 (310 parameters, float64) on 300
digits from scikit-learn, whose dense Hessian (torch.autograd.functional.hessian) gives the exact
spectrum, trace and diagonal. The torch backend (vectors stay tensors, only scalars cross) must
agree with those, and with a host run over the dense matrix; probes must be the library's, and no
vector may leak.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from sklearn.datasets import load_digits  # noqa: E402

import hessianlr as h  # noqa: E402
from hessianlr.torch_curvature import TorchOperator, TorchVectors  # noqa: E402
from conftest import flat_loss  # noqa: E402


@pytest.fixture(scope="module")
def problem():
    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    inputs = torch.tensor(x[:300] / 16.0, dtype=torch.float64)
    targets = torch.tensor(y[:300])
    model = torch.nn.Sequential(torch.nn.Linear(64, 4), torch.nn.Tanh(), torch.nn.Linear(4, 10)).double()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(30):  # a few steps, so the Hessian is not the one at initialisation
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(inputs), targets).backward()
        optimizer.step()
    flat, loss_of = flat_loss(model, inputs, lambda out: torch.nn.functional.cross_entropy(out, targets))
    dense = torch.autograd.functional.hessian(loss_of, flat).numpy()
    dense = 0.5 * (dense + dense.T)
    op = TorchOperator.from_model(model, torch.nn.functional.cross_entropy, inputs, targets)
    return dict(op=op, dense=dense, eigenvalues=np.linalg.eigvalsh(dense), model=model)


def test_operator_matches_the_dense_hessian(problem):
    op, dense = problem["op"], problem["dense"]
    assert op.n == dense.shape[0] == 310
    assert op.offsets == [0, 256, 260, 300, 310] and op.names == ["0.weight", "0.bias", "2.weight", "2.bias"]
    v = torch.randn(op.n, dtype=torch.float64)
    np.testing.assert_allclose(op.matvec(v).numpy(), dense @ v.numpy(), rtol=1e-10, atol=1e-12)
    assert [t.shape for t in op.unflatten(v)] == [p.shape for p in op.params]
    assert torch.equal(op.flatten(op.unflatten(v)), v)


def test_lanczos_top_eigenvalues_torch_and_host(problem):
    op, dense, ev = problem["op"], problem["dense"], problem["eigenvalues"]
    est = h.Lanczos(count=3, which="largest_algebraic", tolerance=1e-10, compute_vectors=True, seed=1)
    torch_result = est.run_torch(op)
    np.testing.assert_allclose(torch_result.eigenvalues, ev[::-1][:3], rtol=1e-9)
    host_result = est.run_host(op.n, lambda v, out: np.matmul(dense, v, out=out))
    np.testing.assert_allclose(host_result.eigenvalues, torch_result.eigenvalues, rtol=1e-10)
    assert torch_result.hvps == host_result.hvps
    # Host mode with the autograd HVP itself (numpy buffers shared with torch, no copies).
    autograd_host = est.run_host(op.n, op.host_hvp())
    np.testing.assert_allclose(autograd_host.eigenvalues, torch_result.eigenvalues, rtol=1e-12)
    np.testing.assert_allclose(np.abs(autograd_host.eigenvectors[0]), np.abs(torch_result.eigenvectors[0].numpy()),
                               atol=1e-8)
    top = torch_result.eigenvectors[0]
    assert isinstance(top, torch.Tensor) and top.device == op.device and top.dtype == op.dtype
    assert (op.matvec(top) - torch_result.eigenvalues[0] * top).norm() < 1e-8
    assert torch_result.timing.hvp > 0 and torch_result.timing.vector_ops > 0
    lowest = h.Lanczos(which="SA", tolerance=1e-10).run_torch(op)
    assert lowest.eigenvalues[0] == pytest.approx(ev[0], rel=1e-8, abs=1e-12)
    # Edge of stability for gradient descent at lr 1: lr·λ_max/2.
    assert h.edge_of_stability(1.0, torch_result.eigenvalues[0]) == pytest.approx(ev[-1] / 2, rel=1e-9)


def test_hutch_plus_plus_and_per_layer_traces(problem):
    op, dense = problem["op"], problem["dense"]
    exact = np.trace(dense)
    plus = h.HutchPlusPlus(matvecs=150, seed=3).run_torch(op)
    assert plus.hvps == 150
    assert abs(plus.trace - exact) <= 4 * plus.standard_error + 1e-12  # 4σ of the residual part
    assert abs(plus.trace - exact) / exact < 0.05
    blocks = h.Hutchinson(samples=200, seed=4, blocks=op.offsets).run_torch(op)
    exact_blocks = [np.trace(dense[a:b, a:b]) for a, b in zip(op.offsets[:-1], op.offsets[1:])]
    assert np.all(np.abs(blocks.block_traces - exact_blocks) <= 4 * blocks.block_trace_errors + 1e-12)
    assert blocks.block_traces.sum() == pytest.approx(blocks.trace, rel=1e-10)


def test_diagonal_is_a_tensor_close_to_the_exact_diagonal(problem):
    op, dense = problem["op"], problem["dense"]
    m = 400
    result = h.Diagonal(samples=m, seed=5, blocks=op.offsets).run_torch(op)
    diagonal = result.diagonal
    assert isinstance(diagonal, torch.Tensor) and diagonal.shape == (op.n,)
    sigma = np.sqrt(np.maximum((dense**2).sum(axis=1) - np.diag(dense) ** 2, 0) / m)
    assert np.all(np.abs(diagonal.numpy() - np.diag(dense)) <= 5 * sigma + 1e-12)  # 5σ per element
    assert result.trace == pytest.approx(float(diagonal.sum()), rel=1e-10)
    host = h.Diagonal(samples=m, seed=5).run_host(op.n, lambda v, out: np.matmul(dense, v, out=out))
    np.testing.assert_allclose(diagonal.numpy(), host.diagonal, rtol=1e-9, atol=1e-12)


def test_spectral_density_against_the_exact_spectrum(problem):
    op, ev = problem["op"], problem["eigenvalues"]
    result = h.SpectralDensity(runs=4, steps=60, seed=6).run_torch(op)
    nodes, weights = result.measure()
    assert weights.sum() == pytest.approx(1.0)
    assert nodes.min() >= ev[0] - 1e-9 and nodes.max() <= ev[-1] + 1e-9
    assert max(n.max() for n in result.nodes) == pytest.approx(ev[-1], rel=1e-8)  # extreme Ritz value
    # Wasserstein-1 between the quadrature measure and the exact spectral measure, relative to the
    # spectral width: a few percent for 4 probes (random: the bound is loose).
    grid = np.union1d(nodes, ev)
    cdf_q = np.searchsorted(nodes, grid, side="right")
    quadrature_cdf = np.concatenate([[0.0], np.cumsum(weights)])[cdf_q]
    exact_cdf = np.searchsorted(ev, grid, side="right") / ev.size
    w1 = np.sum(np.abs(quadrature_cdf - exact_cdf)[:-1] * np.diff(grid))
    assert w1 / (ev[-1] - ev[0]) < 0.05
    assert result.trace == pytest.approx(np.sum(ev), rel=0.5)  # 4 probes: a rough trace


def test_torch_probes_are_the_library_probes(problem):
    op = problem["op"]
    vectors = TorchVectors(op)
    v = vectors.zeros()
    for distribution in (h.ProbeDistribution.RADEMACHER, h.ProbeDistribution.GAUSSIAN):
        vectors.fill_probe(v, 123, 3, 7, int(distribution))
        expected = h.probe(123, 3, 7, op.n, distribution)
        assert np.array_equal(v.numpy(), expected)


def test_torch_runs_leak_nothing_and_chain_errors(problem):
    op = problem["op"]

    class Failing:
        n, dtype, device = op.n, op.dtype, op.device

        def __init__(self):
            self.calls = 0

        def hvp(self, v, out):
            self.calls += 1
            if self.calls == 4:
                raise RuntimeError("CUDA out of memory (pretend)")
            op.hvp(v, out)

    for make, returned in [(lambda: h.Lanczos(count=2, compute_vectors=True), 2),
                           (lambda: h.Diagonal(samples=5), 1), (lambda: h.SpectralDensity(steps=8), 0)]:
        est = make()
        vectors = TorchVectors(op)
        est.run_ops(vectors)
        assert vectors.live == returned and vectors.allocated > returned
        failing = TorchVectors(Failing())
        with pytest.raises(h.CallbackError) as info:
            est.run_ops(failing)
        assert isinstance(info.value.__cause__, RuntimeError) and failing.live == 0


def test_float32_model():
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    x, y = torch.randn(40, 5), torch.randn(40, 1)
    op = TorchOperator.from_model(model, torch.nn.functional.mse_loss, x, y)
    assert op.dtype == torch.float32 and op.n == 22
    dense = op.dense().double().numpy()
    result = h.Lanczos(which="LA", tolerance=1e-5).run_torch(op)
    assert result.eigenvalues[0] == pytest.approx(np.linalg.eigvalsh(dense)[-1], rel=1e-4)
    with pytest.raises(TypeError, match="exactly one"):
        TorchOperator(model.parameters())


def test_hvp_block_is_one_batched_backward_with_the_products_of_hvp(problem):
    op = problem["op"]
    vs = [torch.randn(op.n, dtype=torch.float64) for _ in range(5)]
    outs = [torch.empty(op.n, dtype=torch.float64) for _ in range(5)]
    kept = [v.clone() for v in vs]
    before = op.hvp_count
    op.hvp_block(vs, outs)
    assert op.hvp_count == before + 5 and op.batched
    assert all(torch.equal(v, w) for v, w in zip(vs, kept))  # inputs unchanged
    for v, out in zip(vs, outs):
        np.testing.assert_allclose(out.numpy(), op.matvec(v).numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("make", [
    lambda block: h.Hutchinson(samples=23, hvp_block=block),
    lambda block: h.Hutchinson(samples=60, relative_tolerance=0.2, min_samples=5, hvp_block=block),
    lambda block: h.Diagonal(samples=23, hvp_block=block),
    lambda block: h.HutchPlusPlus(matvecs=31, sketch_size=10, hvp_block=block),
    lambda block: h.XTrace(matvecs=22, hvp_block=block),
    lambda block: h.XDiag(matvecs=22, hvp_block=block),
    lambda block: h.SpectralDensity(runs=7, steps=12, hvp_block=block),
], ids=["hutchinson", "hutchinson-adaptive", "diagonal", "hutch++", "xtrace", "xdiag", "slq"])
def test_estimators_in_blocks_match_one_at_a_time(problem, make, monkeypatch):
    """hvp_block = 4 through the torch backend: blocks of 2..4 products reach op.hvp_block, and the
    estimate is the one-at-a-time run's (the batched products differ from single ones only in the
    last bits: rtol 1e-10 on a float64 operator)."""
    op = problem["op"]
    sizes = []
    original = op.hvp_block

    def counted(vs, outs):
        sizes.append(len(vs))
        original(vs, outs)

    single = make(1).run_torch(op)
    assert sizes == []
    monkeypatch.setattr(op, "hvp_block", counted)
    blocked = make(4).run_torch(op)
    assert sizes and min(sizes) >= 2 and max(sizes) <= 4
    np.testing.assert_allclose(blocked.trace, single.trace, rtol=1e-10)
    if hasattr(single, "samples"):
        assert blocked.samples == single.samples
    if hasattr(single, "nodes"):  # SLQ: runs in lockstep give each run's rule
        for a, b in zip(blocked.nodes, single.nodes, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    if hasattr(single, "diagonal"):
        np.testing.assert_allclose(blocked.diagonal.numpy(), single.diagonal.numpy(), rtol=1e-9, atol=1e-12)
    assert blocked.hvps >= single.hvps


def test_hvp_block_needs_a_batching_backend_and_is_refused_out_of_range(problem):
    """The numpy reference backend has no hvp_block: the parameter changes nothing there; Lanczos
    has no such parameter; 0 is refused naming it."""
    dense = problem["dense"]
    one = h.Hutchinson(samples=9).run_host(dense.shape[0], lambda v, out: np.matmul(dense, v, out=out))
    four = h.Hutchinson(samples=9, hvp_block=4).run_host(dense.shape[0], lambda v, out: np.matmul(dense, v, out=out))
    assert four.trace == one.trace and four.hvps == one.hvps == 9
    with pytest.raises(h.InvalidArgumentError, match="hvp_block"):
        h.Hutchinson(hvp_block=0)
    with pytest.raises(TypeError):
        h.Lanczos(hvp_block=2)


def test_multi_dot_and_multi_axpy_match_the_single_calls(problem):
    op = problem["op"]
    vectors = TorchVectors(op)
    xs = [torch.randn(op.n, dtype=torch.float64) for _ in range(4)]
    y = torch.randn(op.n, dtype=torch.float64)
    np.testing.assert_allclose(vectors.multi_dot(xs, y), [vectors.dot(x, y) for x in xs], rtol=1e-12)
    together, one_by_one = y.clone(), y.clone()
    vectors.multi_axpy([0.5, -2.0, 3.0, 1.0], xs, together)
    for a, x in zip([0.5, -2.0, 3.0, 1.0], xs):
        vectors.axpy(a, x, one_by_one)
    assert torch.equal(together, one_by_one)


@pytest.mark.parametrize("make", [
    lambda: h.Lanczos(count=2), lambda: h.HutchPlusPlus(matvecs=30), lambda: h.XTrace(matvecs=30),
    lambda: h.XDiag(matvecs=30),
], ids=["lanczos", "hutch++", "xtrace", "xdiag"])
def test_estimators_with_multi_dot_match_a_backend_without_it(problem, make):
    """The torch backend's multi_dot (one matrix-vector product per Gram-Schmidt pass or
    projection column) gives the estimates of a backend without it, to the last bits of the
    float64 reductions."""
    op = problem["op"]
    plain = TorchVectors(op)
    plain.multi_dot = plain.multi_axpy = None  # the table's fields stay NULL: one dot / axpy each
    with_multi, without = make().run_ops(TorchVectors(op)), make().run_ops(plain)
    if hasattr(without, "eigenvalues"):
        np.testing.assert_allclose(with_multi.eigenvalues, without.eigenvalues, rtol=1e-10)
    else:
        np.testing.assert_allclose(with_multi.trace, without.trace, rtol=1e-10)
