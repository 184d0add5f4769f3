"""Arithmetic: finite-difference gradients over broadcasting pairs, scalar and reflected forms,
pow at zero, remainder and rounding division."""

import numpy
import pytest

import trainctl as tc
from tests.autograd.helpers import BROADCAST_PAIRS, rand
from trainctl.autograd import gradcheck

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "add_alpha": lambda a, b: tc.add(a, b, alpha=-2.5),
    "sub_alpha": lambda a, b: tc.sub(a, b, alpha=0.5),
}


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_binary_gradients_with_broadcasting(name, shapes):
    a = rand(*shapes[0], low=0.5, high=2.0, seed=1)  # positive: pow and div are smooth there
    b = rand(*shapes[1], low=0.5, high=2.0, seed=2)
    out = BINARY[name](a, b)
    assert out.shape == numpy.broadcast_shapes(shapes[0], shapes[1])
    assert gradcheck(BINARY[name], [a, b])


SCALAR_FORMS = {
    "x+2": lambda x: x + 2,
    "2+x": lambda x: 2 + x,
    "x-2.5": lambda x: x - 2.5,
    "2.5-x": lambda x: 2.5 - x,
    "x*3": lambda x: x * 3,
    "3*x": lambda x: 3 * x,
    "x/3": lambda x: x / 3,
    "3/x": lambda x: 3 / x,
    "x**2": lambda x: x ** 2,
    "x**3": lambda x: x ** 3,
    "x**0.5": lambda x: x ** 0.5,
    "x**-1.5": lambda x: x ** -1.5,
    "2**x": lambda x: 2 ** x,
    "0.5**x": lambda x: 0.5 ** x,
    "-x": lambda x: -x,
    "+x": lambda x: +x,
    "pow(x,2.5)": lambda x: tc.pow(x, 2.5),
    "pow(2,x)": lambda x: tc.pow(2.0, x),
    "x.pow(x)": lambda x: x.pow(x),
    "ndarray*x": lambda x: numpy.full((3, 4), 2.0) * x,
    "x-ndarray": lambda x: x - numpy.full((4,), 0.5),
}


@pytest.mark.parametrize("name", list(SCALAR_FORMS))
def test_scalar_and_reflected_forms(name):
    assert gradcheck(SCALAR_FORMS[name], [rand(3, 4, low=0.5, high=2.0)])


@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 2)], ids=str)
def test_neg_gradients(shape):
    assert gradcheck(tc.neg, [rand(*shape)])


def test_reflected_forms_compute_the_right_values():
    x = tc.tensor([1.0, 2.0, 4.0])
    assert (2 - x).tolist() == [1.0, 0.0, -2.0]
    assert (8 / x).tolist() == [8.0, 4.0, 2.0]
    assert (2 ** x).tolist() == [2.0, 4.0, 16.0]
    assert (x ** 2).tolist() == [1.0, 4.0, 16.0]
    assert (-x).tolist() == [-1.0, -2.0, -4.0]
    assert isinstance(numpy.ones(3) * x, tc.Tensor)  # __array_ufunc__ = None defers to us


def test_pow_gradient_with_zero_exponent_is_zero_like_pytorch():
    x = tc.tensor([0.0, 1.0, -2.0], requires_grad=True)
    (x ** 0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    x = tc.tensor([0.0, 1.0, 0.0, -2.0], requires_grad=True)
    e = tc.tensor([0.0, 0.0, 2.0, 3.0], requires_grad=True)
    (x ** e).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 12.0]
    assert e.grad.tolist()[:3] == [0.0, 0.0, 0.0] and numpy.isnan(e.grad.tolist()[3])


def test_pow_scalar_base_zero_matches_pytorch():
    x = tc.tensor([0.0, 1.0, -1.0], requires_grad=True)
    with numpy.errstate(divide="ignore"):
        y = 0.0 ** x
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, -numpy.inf]


def test_remainder_and_floor_divide_values():
    a = tc.tensor([5.0, -5.0, 7.5])
    assert tc.remainder(a, 3).tolist() == [2.0, 1.0, 1.5]  # sign of the divisor, like Python
    assert (a // 2).tolist() == [2.0, -3.0, 3.0]
    assert tc.div(tc.tensor([7, -7]), 2, rounding_mode="trunc").tolist() == [3, -3]
    assert tc.div(tc.tensor([7, -7]), 2, rounding_mode="floor").tolist() == [3, -4]
    assert gradcheck(lambda x: tc.remainder(x, 0.7), [rand(5, low=0.1, high=0.6)])
