"""The Optimizer contract: groups, defaults, zero_grad, step/closure, skipping, versions."""

import tracemalloc

import numpy
import pytest

import trainctl as tc
from trainctl.optim import Optimizer, required

ALL = ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta",
       "Rprop", "Lion"]


def p(*values):
    return tc.tensor(list(values), requires_grad=True)


def test_param_groups_take_defaults_and_overrides():
    a, b = p(1.0), p(2.0)
    opt = tc.optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.1}], lr=0.1)
    g0, g1 = opt.param_groups
    assert g0["params"] == [a] and g1["params"] == [b]
    assert (g0["lr"], g0["momentum"], g1["lr"], g1["momentum"]) == (0.1, 0, 0.5, 0.1)
    assert opt.defaults["lr"] == 0.1
    assert set(g0) == set(opt.defaults) | {"params"}


def test_named_parameters_are_accepted():
    a, b = p(1.0), p(2.0)
    opt = tc.optim.Adam([("w", a), ("b", b)])
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.param_groups[0]["params"] == [a, b]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


@pytest.mark.parametrize("params,error,match", [
    ([], ValueError, "empty parameter list"),
    (p(1.0), TypeError, "iterable of Tensors"),
    ([{"params": {p(1.0)}}], TypeError, "ordered collection \\(list or tuple\\), not a set"),
    ([1.0], TypeError, "optimizers update Tensors; one of the params is a float"),
    ([p(1.0) * 2], ValueError, "non-leaf"),
])
def test_bad_params_are_rejected(params, error, match):
    with pytest.raises(error, match=match):
        tc.optim.SGD(params, lr=0.1)


def test_a_parameter_in_two_groups_is_rejected():
    a = p(1.0)
    opt = tc.optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="cannot be in two param groups"):
        opt.add_param_group({"params": [a]})


def test_required_hyperparameter_must_be_given():
    class Plain(Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, {"lr": lr})

    with pytest.raises(ValueError, match="param group 0 does not set 'lr', which Plain requires"):
        Plain([p(1.0)])
    assert Plain([{"params": [p(1.0)], "lr": 0.3}]).param_groups[0]["lr"] == 0.3


@pytest.mark.parametrize("name,kwargs,match", [
    ("SGD", {"lr": -1}, "SGD: lr must be >= 0, got -1"),
    ("SGD", {"lr": 0.1, "nesterov": True}, "nesterov=True needs momentum > 0"),
    ("Adam", {"betas": (1.0, 0.9)}, "Adam: betas\\[0\\] must be in \\[0, 1\\), got 1.0"),
    ("AdamW", {"eps": -1}, "AdamW: eps must be >= 0"),
    ("NAdam", {"momentum_decay": -1}, "momentum_decay"),
    ("RMSprop", {"alpha": -0.5}, "alpha"),
    ("Adagrad", {"lr_decay": -1}, "lr_decay"),
    ("Adadelta", {"rho": 1.5}, "rho"),
    ("Rprop", {"etas": (1.5, 1.2)}, "0 < eta_minus < 1 < eta_plus"),
    ("Lion", {"betas": (0.9, 1.0)}, "Lion: betas\\[1\\]"),
    ("LBFGS", {"line_search_fn": "armijo"}, "strong_wolfe"),
])
def test_hyperparameters_are_validated(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        getattr(tc.optim, name)([p(1.0)], **kwargs)


def test_zero_grad_sets_to_none_or_zeroes_in_place():
    a = p(1.0, 2.0)
    opt = tc.optim.SGD([a], lr=0.1)
    (a * a).sum().backward()
    grad = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad and a.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert a.grad is None


@pytest.mark.parametrize("name", ALL)
def test_parameters_without_grad_are_skipped(name):
    a, b = p(1.0, -2.0), p(3.0)
    opt = getattr(tc.optim, name)([a, b], lr=0.1)
    before = opt.state_dict()["state"]
    (a * a).sum().backward()
    opt.step()
    assert b.tolist() == [3.0]
    assert a.tolist() != [1.0, -2.0]
    assert b not in opt.state or opt.state[b] == before.get(1)


@pytest.mark.parametrize("name", ALL)
def test_step_leaves_grad_untouched_and_bumps_version(name):
    a = p(1.0, -2.0)
    kwargs = {"lr": 0.1, "maximize": True}
    if name != "Rprop":  # the only one without weight decay
        kwargs["weight_decay"] = 0.1
    opt = getattr(tc.optim, name)([a], **kwargs)
    (a * a).sum().backward()
    version = a._version
    opt.step()
    assert a.grad.tolist() == [2.0, -4.0]
    assert a._version == version + 1
    assert a.dtype == tc.float32


def test_step_invalidates_a_graph_that_saved_the_parameter():
    a = p(1.0, 2.0)
    opt = tc.optim.SGD([a], lr=0.1)
    (a * a).sum().backward()
    y = (a * a).sum()  # saves a for backward
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_closure_runs_with_grad_and_step_without():
    a = p(1.0)
    opt = tc.optim.SGD([a], lr=0.1)
    seen = []

    def closure():
        seen.append(tc.is_grad_enabled())
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with tc.no_grad():
        loss = opt.step(closure)
    assert seen == [True] and loss.item() == 1.0
    assert a.tolist() == pytest.approx([0.8])
    assert opt.step() is None


def test_update_rules_allocate_little():
    """A step allocates a few temporaries of the parameter's size, not per-element objects."""
    w = tc.zeros(250_000, requires_grad=True)
    w.grad = tc.ones(250_000)
    nbytes = w.numel() * 4
    for name in ["SGD", "Adam", "RMSprop", "Lion"]:
        opt = getattr(tc.optim, name)([w], lr=0.01)
        opt.step()  # state buffers are created here
        tracemalloc.start()
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 4 * nbytes, (name, peak / nbytes)


def test_sgd_first_steps_by_hand():
    w = p(1.0)
    opt = tc.optim.SGD([w], lr=0.1, momentum=0.9, dampening=0.5)
    for _ in range(2):
        opt.zero_grad()
        (3 * w).sum().backward()
        opt.step()
    # b1 = 3 (no dampening on the first step); b2 = 0.9 * 3 + 0.5 * 3 = 4.2
    assert w.item() == pytest.approx(1.0 - 0.1 * 3 - 0.1 * 4.2)


def test_works_on_nn_parameters():
    w = tc.nn.Parameter(tc.ones(2))
    opt = tc.optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    numpy.testing.assert_allclose(w.detach().numpy(), [0.9, 0.9], rtol=1e-6)


def test_repr_lists_groups():
    text = repr(tc.optim.SGD([p(1.0)], lr=0.1))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "lr: 0.1" in text
