"""Lion (PyTorch has none) against a NumPy transcription of the paper's Algorithm 2."""

import numpy
import pytest

import trainctl as tc
from tests.optim.problem import DATA, flat, loss_fn, make_closure, make_params

SHAPES = [DATA[k].shape for k in ("W0", "b0", "r0")]


def grad_at(theta):
    """The problem's gradient at a flat parameter vector (trainctl autograd, float32)."""
    params, start = [], 0
    for shape in SHAPES:
        n = int(numpy.prod(shape))
        params.append(tc.tensor(theta[start:start + n].reshape(shape), requires_grad=True))
        start += n
    loss_fn(tc.tensor(DATA["X"]), tc.tensor(DATA["Y"]), *params).backward()
    return numpy.concatenate([p.grad.numpy().ravel() for p in params])


def lion_reference(theta, steps, lr, beta1, beta2, wd):
    """Algorithm 2 of Chen et al. (2023), "Symbolic Discovery of Optimization Algorithms"."""
    theta = theta.copy()
    m = numpy.zeros_like(theta)
    rows = [theta.copy()]
    for _ in range(steps):
        g = grad_at(theta)
        c = beta1 * m + (1 - beta1) * g                  # update interpolation
        theta = theta - lr * (numpy.sign(c) + wd * theta)  # sign update, decoupled decay
        m = beta2 * m + (1 - beta2) * g                  # momentum tracking
        rows.append(theta.copy())
    return numpy.stack(rows)


@pytest.mark.parametrize("kwargs", [
    {"lr": 0.01},
    {"lr": 0.02, "betas": (0.95, 0.98), "weight_decay": 0.5},
    {"lr": 3e-3, "betas": (0.5, 0.999), "weight_decay": 0.1},
], ids=["default_betas", "weight_decay", "other_betas"])
def test_lion_matches_the_paper(kwargs):
    params = make_params()
    opt = tc.optim.Lion(params, **kwargs)
    closure = make_closure(opt, params)
    rows = [flat(params)]
    for _ in range(50):
        opt.step(closure)
        rows.append(flat(params))
    beta1, beta2 = kwargs.get("betas", (0.9, 0.99))
    expected = lion_reference(rows[0], 50, kwargs["lr"], beta1, beta2,
                              kwargs.get("weight_decay", 0.0))
    numpy.testing.assert_allclose(numpy.stack(rows), expected, rtol=1e-5, atol=1e-6)


def test_lion_defaults_and_first_step():
    w = tc.tensor([1.0, -1.0, 0.5], requires_grad=True)
    opt = tc.optim.Lion([w])
    assert opt.defaults == {"lr": 1e-4, "betas": (0.9, 0.99), "weight_decay": 0.0,
                            "maximize": False}
    w.grad = tc.tensor([3.0, -0.001, 0.0])
    opt.step()
    # From zero momentum the update is lr * sign(g): every moving coordinate moves by lr.
    numpy.testing.assert_allclose(w.detach().numpy(), [1.0 - 1e-4, -1.0 + 1e-4, 0.5])
    numpy.testing.assert_allclose(opt.state[w]["exp_avg"].numpy(), [0.03, -0.00001, 0.0],
                                  rtol=1e-5)
