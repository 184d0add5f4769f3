"""Activations: gradients against finite differences, exact GELU/erf, reprs and dtypes."""

import math

import numpy as np
import pytest

import trainctl as tc
import trainctl.nn.functional as F
from trainctl.autograd import gradcheck
from trainctl.autograd.ops.special import erf, erf_array, erfc_array


def _away_from_kinks(shape=(3, 5), seed=0):
    """float64 values in [-4, 4] at least 0.05 away from every kink (0, +-1, +-3, +-0.5, 2)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-4, 4, shape)
    for k in (0.0, 1.0, -1.0, 3.0, -3.0, 0.5, -0.5, 2.0, 2.5):
        near = np.abs(x - k) < 0.05
        x[near] += 0.1
    return tc.tensor(x)


ACTIVATIONS = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7}),
    ("selu", {}), ("celu", {"alpha": 1.5}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("silu", {}), ("mish", {}), ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 5.0}), ("logsigmoid", {}),
    ("hardsigmoid", {}), ("hardswish", {}), ("softsign", {}), ("softmin", {"dim": 1}),
    ("softmax", {"dim": 0}), ("log_softmax", {"dim": -1}), ("sigmoid", {}), ("tanh", {}),
]


@pytest.mark.parametrize("name,kwargs", ACTIVATIONS, ids=[f"{n}{k}" for n, k in ACTIVATIONS])
def test_gradcheck(name, kwargs):
    fn = getattr(F, name)
    assert gradcheck(lambda x: fn(x, **kwargs), [_away_from_kinks()])


@pytest.mark.parametrize("name,kwargs", ACTIVATIONS, ids=[f"{n}{k}" for n, k in ACTIVATIONS])
def test_float32_stays_float32(name, kwargs):
    out = getattr(F, name)(tc.randn(4, 3), **kwargs)
    assert out.dtype == tc.float32


def test_kink_conventions_match_torch():
    x = tc.tensor([-1.0, 0.0, 1.0, 6.0, -3.0, 3.0], requires_grad=True)
    F.relu(x).sum().backward()
    assert x.grad.tolist() == [0, 0, 1, 1, 0, 1]  # relu'(0) = 0
    x.grad = None
    F.hardtanh(x).sum().backward()
    assert x.grad.tolist() == [0, 1, 0, 0, 0, 0]  # no gradient at the bounds
    x.grad = None
    F.relu6(x).sum().backward()
    assert x.grad.tolist() == [0, 0, 1, 0, 0, 1]
    x.grad = None
    F.leaky_relu(x, 0.1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.1, 0.1, 1, 1, 0.1, 1])
    x.grad = None
    F.hardswish(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 / 6, 0.5, 5 / 6, 1, -0.5, 1.5], rtol=1e-6)


def test_erf_is_float64_accurate():
    x = np.concatenate([np.linspace(-8, 8, 4001), np.geomspace(1e-12, 1, 50), [0.0]])
    want = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(erf_array(x), want, rtol=2e-15, atol=1e-300)
    tail = np.linspace(-5, 20, 501)
    np.testing.assert_allclose(erfc_array(tail), [math.erfc(v) for v in tail], rtol=5e-14)
    assert erf_array(np.array([0.5], np.float32)).dtype == np.float32
    assert gradcheck(erf, [tc.tensor([-2.5, -0.7, 0.0, 0.3, 1.2, 4.5], dtype=tc.float64)])


def test_gelu_exact_matches_closed_form_in_both_tails():
    x = np.array([-12.0, -5.0, -1.0, 0.0, 0.7, 3.0, 9.0])
    want = [v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x]
    got = F.gelu(tc.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
    assert got[0] != 0.0  # the far-left tail is not flushed to zero


def test_softplus_and_logsigmoid_are_stable():
    x = tc.tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    sp = F.softplus(x).numpy()
    assert np.all(np.isfinite(sp)) and sp[-1] == 1000.0 and sp[0] == 0.0
    ls = F.logsigmoid(x).numpy()
    assert ls[0] == -1000.0 and ls[-1] == 0.0


def test_modules_call_functional_and_repr_like_torch():
    x = tc.randn(2, 3)
    pairs = [
        (tc.nn.ReLU(inplace=True), F.relu(x), "ReLU(inplace=True)"),
        (tc.nn.LeakyReLU(0.2), F.leaky_relu(x, 0.2), "LeakyReLU(negative_slope=0.2)"),
        (tc.nn.ELU(alpha=0.5, inplace=True), F.elu(x, 0.5), "ELU(alpha=0.5, inplace=True)"),
        (tc.nn.GELU("tanh"), F.gelu(x, approximate="tanh"), "GELU(approximate='tanh')"),
        (tc.nn.Hardtanh(-2, 2), F.hardtanh(x, -2, 2), "Hardtanh(min_val=-2, max_val=2)"),
        (tc.nn.Softplus(2, 10), F.softplus(x, 2, 10), "Softplus(beta=2.0, threshold=10.0)"),
        (tc.nn.Softmax(dim=1), F.softmax(x, 1), "Softmax(dim=1)"),
        (tc.nn.LogSoftmax(1), F.log_softmax(x, 1), "LogSoftmax(dim=1)"),
        (tc.nn.ReLU6(), F.relu6(x), "ReLU6()"),
        (tc.nn.SiLU(), F.silu(x), "SiLU()"),
        (tc.nn.Mish(), F.mish(x), "Mish()"),
        (tc.nn.SELU(), F.selu(x), "SELU()"),
        (tc.nn.Sigmoid(), tc.sigmoid(x), "Sigmoid()"),
        (tc.nn.Tanh(), tc.tanh(x), "Tanh()"),
    ]
    for module, want, text in pairs:
        np.testing.assert_array_equal(module(x).numpy(), want.numpy())
        assert repr(module) == text


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(tc.ones(1), approximate="fast")
    with pytest.raises(ValueError, match="min_val"):
        tc.nn.Hardtanh(1.0, -1.0)
