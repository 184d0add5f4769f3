"""Element-wise ops: finite-difference gradients, broadcasting, ties, clamp semantics."""

import numpy
import pytest

import trainctl as tc
from tests.autograd.helpers import away, rand
from trainctl.autograd import gradcheck

BROADCAST_PAIRS = [
    ((3, 1), (1, 4)),
    ((4,), (2, 3, 4)),
    ((), (2, 2)),
    ((2, 2), ()),
    ((2, 3), (2, 3)),
    ((2, 1, 3), (4, 1)),
]

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "maximum": tc.maximum,
    "minimum": tc.minimum,
    "add_alpha": lambda a, b: tc.add(a, b, alpha=-2.5),
    "sub_alpha": lambda a, b: tc.sub(a, b, alpha=0.5),
    "where": lambda a, b: tc.where(a > 1.2, a, b),
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


def test_reflected_forms_compute_the_right_values():
    x = tc.tensor([1.0, 2.0, 4.0])
    assert (2 - x).tolist() == [1.0, 0.0, -2.0]
    assert (8 / x).tolist() == [8.0, 4.0, 2.0]
    assert (2 ** x).tolist() == [2.0, 4.0, 16.0]
    assert (x ** 2).tolist() == [1.0, 4.0, 16.0]
    assert (-x).tolist() == [-1.0, -2.0, -4.0]
    assert isinstance(numpy.ones(3) * x, tc.Tensor)  # __array_ufunc__ = None defers to us


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
    "neg": (tc.neg, rand),
    "clamp_min": (lambda x: x.clamp(min=-0.5), away),
    "clamp_max": (lambda x: x.clamp(max=0.6), away),
    "clamp_both": (lambda x: tc.clamp(x, -0.7, 0.8), away),
    "clip": (lambda x: x.clip(-0.7, 0.8), away),
    "tc.clip": (lambda x: tc.clip(x, min=-1.0), away),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 2)], ids=str)
def test_unary_gradients(name, shape):
    fn, make = UNARY[name]
    assert gradcheck(fn, [make(*shape)])


@pytest.mark.parametrize("bounds", ["min", "max", "both", "min+scalar_max", "scalar_min+max"])
def test_clamp_with_tensor_bounds_gradients(bounds):
    lo, hi = rand(3, 4, low=-1.0, high=-0.1, seed=3), rand(4, low=0.1, high=1.0, seed=4)
    fns = {
        "min": lambda x, lo, hi: x.clamp(min=lo),
        "max": lambda x, lo, hi: x.clamp(max=hi),
        "both": lambda x, lo, hi: tc.clamp(x, lo, hi),
        "min+scalar_max": lambda x, lo, hi: x.clamp(min=lo, max=0.5),
        "scalar_min+max": lambda x, lo, hi: x.clamp(min=-0.5, max=hi),
    }
    x = rand(3, 4, low=-2.0, high=2.0, seed=5)
    assert gradcheck(fns[bounds], [x, lo, hi])


def test_clamp_tensor_bounds_follow_pytorch_at_ties_and_crossed_bounds():
    # Values from torch 2.13: x keeps the gradient on a tie with a bound; where min > max the
    # result is max and max gets the gradient.
    x = tc.tensor([0.0, 1.0, 2.0, 5.0], requires_grad=True)
    lo = tc.tensor([0.0, 2.0, 3.0, 1.0], requires_grad=True)
    hi = tc.tensor([4.0, 1.0, 1.0, 5.0], requires_grad=True)
    out = x.clamp(min=lo, max=hi)
    assert out.tolist() == [0.0, 1.0, 1.0, 5.0]
    out.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 1.0]
    assert lo.grad.tolist() == [0.0, 0.0, 0.0, 0.0]
    assert hi.grad.tolist() == [0.0, 1.0, 1.0, 0.0]


def test_clamp_scalar_bounds_pass_gradient_at_the_bounds():
    x = tc.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    x.clamp(0.0, 1.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="at least one"):
        tc.clamp(x)


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_split_ties_half_and_half(op):
    a = tc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = tc.tensor([2.0, 2.0, 1.0], requires_grad=True)
    getattr(tc, op)(a, b).backward(tc.tensor([1.0, 4.0, 1.0]))
    if op == "maximum":
        assert a.grad.tolist() == [0.0, 2.0, 1.0] and b.grad.tolist() == [1.0, 2.0, 0.0]
    else:
        assert a.grad.tolist() == [1.0, 2.0, 0.0] and b.grad.tolist() == [0.0, 2.0, 1.0]


def test_max_of_two_tensors_is_maximum():
    a, b = tc.tensor([1.0, 5.0]), tc.tensor([3.0, 2.0])
    assert tc.max(a, b).tolist() == [3.0, 5.0] and tc.min(a, b).tolist() == [1.0, 2.0]


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


def test_where_gradient_goes_to_the_chosen_side_only():
    a = tc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = tc.tensor([10.0, 20.0, 30.0], requires_grad=True)
    cond = tc.tensor([True, False, True])
    out = tc.where(cond, a, b)
    assert out.tolist() == [1.0, 20.0, 3.0]
    out.backward(tc.tensor([1.0, 2.0, 3.0]))
    assert a.grad.tolist() == [1.0, 0.0, 3.0] and b.grad.tolist() == [0.0, 2.0, 0.0]


def test_where_with_broadcast_condition_and_scalar_other():
    x = rand(3, 4)
    cond = tc.tensor([True, False, True, False])
    assert gradcheck(lambda x: tc.where(cond, x, 0.0), [x])
    assert gradcheck(lambda x: x.where(cond, -x), [x])
    rows, cols = tc.where(tc.tensor([[True, False], [False, True]]))
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]


def test_remainder_and_floor_divide_values():
    a = tc.tensor([5.0, -5.0, 7.5])
    assert tc.remainder(a, 3).tolist() == [2.0, 1.0, 1.5]  # sign of the divisor, like Python
    assert (a // 2).tolist() == [2.0, -3.0, 3.0]
    assert tc.div(tc.tensor([7, -7]), 2, rounding_mode="trunc").tolist() == [3, -3]
    assert tc.div(tc.tensor([7, -7]), 2, rounding_mode="floor").tolist() == [3, -4]
    assert gradcheck(lambda x: tc.remainder(x, 0.7), [rand(5, low=0.1, high=0.6)])


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


def test_where_with_two_python_scalars():
    cond = tc.tensor([True, False])
    out = tc.where(cond, 1.0, 0.0)
    assert out.dtype == tc.float32 and out.tolist() == [1.0, 0.0]
    assert tc.where(cond, 1, 0).dtype == tc.int64
