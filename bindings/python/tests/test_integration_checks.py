"""hessianlr.integrations.checks (issue 15, item 3): estimate_memory_overhead against the sizes
measured on a known model, and validate_setup's structured findings (the driver's own refusals
included), leaving the optimizer as it was."""

from __future__ import annotations

import pytest
import torch

from hessianlr.integrations.checks import SetupError, estimate_memory_overhead, validate_setup

F = torch.nn.functional


def known_model(dtype=torch.float32):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(10, 20), torch.nn.Tanh(), torch.nn.Linear(20, 3)).to(dtype)


def measured_gradient_bytes(model):
    model.zero_grad(set_to_none=True)
    F.mse_loss(model(torch.randn(4, 10, dtype=next(model.parameters()).dtype)), torch.zeros(4, 3,
               dtype=next(model.parameters()).dtype)).backward()
    return sum(p.grad.numel() * p.grad.element_size() for p in model.parameters())


@pytest.mark.parametrize("dtype,element", [(torch.float32, 4), (torch.float64, 8)])
def test_parameter_and_gradient_bytes_match_the_model(dtype, element):
    model = known_model(dtype)
    estimate = estimate_memory_overhead(model)
    weights = (10 * 20 + 20 + 20 * 3 + 3) * element  # 283 parameters
    assert estimate.parameter_bytes == weights == sum(p.untyped_storage().nbytes() for p in model.parameters())
    assert estimate.gradient_bytes == measured_gradient_bytes(model)


def test_parts_follow_what_the_method_needs():
    model = known_model()
    size = estimate_memory_overhead(model).parameter_bytes
    # plain SGD, HessianLR, finite differences: the saved copy and one group's gradient, no direction
    plain = estimate_memory_overhead(model, torch.optim.SGD(model.parameters(), lr=0.1), "hessianlr")
    assert (plain.saved_weights_bytes, plain.direction_bytes, plain.finite_difference_bytes) == (size, 0, size)
    assert plain.needs == ("curvature", "nothing") and plain.overhead_bytes == 2 * size
    # two param groups: the finite-difference gradient is the larger group's
    groups = [{"params": model[0].parameters()}, {"params": model[2].parameters()}]
    split = estimate_memory_overhead(model, torch.optim.SGD(groups, lr=0.1), "hessianlr")
    assert split.finite_difference_bytes == (10 * 20 + 20) * 4
    # Adam steps along its own update: one more copy; the graph instead of finite differences
    adam = estimate_memory_overhead(model, torch.optim.Adam(model.parameters()), "cdat", curvature="graph")
    assert (adam.saved_weights_bytes, adam.direction_bytes, adam.finite_difference_bytes) == (0, size, 0)
    assert adam.graph_curvature and "double-backward graph" in str(adam)
    # loss probes: the saved copy, no curvature
    gen = estimate_memory_overhead(model, torch.optim.SGD(model.parameters(), lr=0.1), "gen")
    assert (gen.saved_weights_bytes, gen.finite_difference_bytes, gen.previous_update_bytes) == (size, 0, 0)
    auto = estimate_memory_overhead(model, torch.optim.AdamW(model.parameters()), "auto")
    assert auto.previous_update_bytes == size and auto.overhead_fraction == auto.overhead_bytes / size
    constant = estimate_memory_overhead(model, torch.optim.SGD(model.parameters(), lr=0.1), "constant")
    assert constant.overhead_bytes == 0


def test_the_optimizer_is_left_as_it_was():
    model = known_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    estimate_memory_overhead(model, optimizer, "cdat", initial_lr=0.5)
    validate_setup(optimizer, model, method="cdat", initial_lr=0.5)
    assert optimizer.param_groups[0]["lr"] == 3e-4 and "initial_lr" not in optimizer.param_groups[0]


def test_validate_setup_reports_the_drivers_refusals():
    model = known_model()
    report = validate_setup(torch.optim.LBFGS(model.parameters()), model, method="cdat")
    assert not report.ok and report.codes() == {"driver"}
    assert "LBFGS" in report.errors[0].message
    with pytest.raises(SetupError, match="LBFGS"):
        report.raise_for_errors()
    report = validate_setup(torch.optim.SGD(model.parameters(), lr=0.1), model, method="hessianlr", update_period=0)
    assert not report.ok and "update_period" in report.errors[0].message
    assert validate_setup(object(), model).codes() == {"optimizer"}
    # The library's own errors are refusals too (they raised out of validate_setup before): a
    # misspelt option (UnknownKeyError), an unknown method (UnknownMethodError).
    misspelt = validate_setup(torch.optim.SGD(model.parameters(), lr=0.1), model, method="auto", update_periodd=3)
    assert misspelt.codes() == {"driver"} and "update_periodd" in misspelt.errors[0].message
    unknown = validate_setup(torch.optim.SGD(model.parameters(), lr=0.1), model, method="autoo")
    assert unknown.codes() == {"driver"} and "autoo" in unknown.errors[0].message
    maximizing = validate_setup(torch.optim.SGD(model.parameters(), lr=0.1, maximize=True), model, method="auto")
    assert maximizing.codes() == {"driver"} and "maximize=True" in maximizing.errors[0].message


def test_validate_setup_findings():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Dropout(0.2),
                                torch.nn.Linear(8, 1))
    clean = validate_setup(torch.optim.SGD(model.parameters(), lr=0.1), model.eval(), method="hessianlr")
    assert clean.ok and clean.problems == () and str(clean) == "no problems found"
    model.train()
    report = validate_setup(torch.optim.SGD(model[0].parameters(), lr=0.1), model, method="gen",
                            accumulation_steps=4)
    assert report.ok and report.codes() == {"not-in-optimizer", "batchnorm", "dropout", "accumulation"}
    assert {p.level for p in report.problems} == {"warning", "note"}
    other = torch.nn.Linear(4, 1)
    report = validate_setup(torch.optim.SGD(other.parameters(), lr=0.1), model.eval(), method="hessianlr")
    assert "not-in-model" in {p.code for p in report.errors}
    attention = torch.nn.MultiheadAttention(8, 2)
    graph = validate_setup(torch.optim.SGD(attention.parameters(), lr=0.1), attention, curvature="graph")
    assert [p.code for p in graph.errors] == ["double-backward"]
    auto = validate_setup(torch.optim.SGD(attention.parameters(), lr=0.1), attention, curvature="auto")
    assert auto.ok and "double-backward" in auto.codes()


def test_a_parameter_listed_twice_is_warned_about_and_counted_once():
    """A tied weight listed twice in a group (torch only warns): validate_setup says so, and the
    memory estimate counts the tensor once (it counted 4928 parameter bytes for 3008)."""
    model = known_model()
    weight = next(model.parameters())
    with pytest.warns(UserWarning):
        twice = torch.optim.SGD(list(model.parameters()) + [weight], lr=0.1)
    once = torch.optim.SGD(model.parameters(), lr=0.1)
    report = validate_setup(twice, model, method="cdat")
    assert "repeated-parameter" in report.codes() and report.ok
    assert "repeated-parameter" not in validate_setup(once, model, method="cdat").codes()
    assert estimate_memory_overhead(model, twice, "cdat").parameter_bytes == \
        estimate_memory_overhead(model, once, "cdat").parameter_bytes
