"""Unary maths and activations: finite-difference gradients over shapes, stability at the
extremes, kinks, and float results for integer inputs."""

import pytest

import trainctl as tc
from tests.autograd.helpers import away, rand
from trainctl.autograd import gradcheck

UNARY = {
    "abs": (tc.abs, away),
    "abs_method": (lambda x: abs(x), away),
    "exp": (tc.exp, rand),
    "log": (tc.log, lambda *s: rand(*s, low=0.2, high=3.0)),
    "log1p": (tc.log1p, lambda *s: rand(*s, low=-0.5, high=3.0)),
    "sqrt": (tc.sqrt, lambda *s: rand(*s, low=0.2, high=3.0)),
    "rsqrt": (tc.rsqrt, lambda *s: rand(*s, low=0.2, high=3.0)),
    "sin": (tc.sin, rand),
    "cos": (tc.cos, rand),
    "tanh": (tc.tanh, rand),
    "sigmoid": (tc.sigmoid, lambda *s: rand(*s, low=-6.0, high=6.0)),
    "relu": (tc.relu, away),
    "square": (tc.square, rand),
    "reciprocal": (tc.reciprocal, away),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 2)], ids=str)
def test_unary_gradients(name, shape):
    fn, make = UNARY[name]
    assert gradcheck(fn, [make(*shape)])


def test_sigmoid_is_stable_for_large_inputs():
    x = tc.tensor([-1000.0, 0.0, 1000.0])
    assert x.sigmoid().tolist() == [0.0, 0.5, 1.0]
    assert tc.tanh(x).tolist() == [-1.0, 0.0, 1.0]


def test_relu_gradient_is_zero_at_zero():
    x = tc.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]
    x = tc.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.abs().sum().backward()
    assert x.grad.tolist() == [-1.0, 0.0, 1.0]


def test_transcendental_ops_on_int_tensors_give_float32():
    x = tc.tensor([1, 4])
    assert tc.sqrt(x).dtype == tc.float32 and tc.sqrt(x).tolist() == [1.0, 2.0]
    assert x.exp().dtype == tc.float32 and x.sigmoid().dtype == tc.float32
