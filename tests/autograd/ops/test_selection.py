"""Element-wise selection (clamp, maximum, minimum, where): gradients over broadcasting pairs,
and where ties and bounds send the gradient, as in PyTorch."""

import numpy
import pytest

import trainctl as tc
from tests.autograd.helpers import BROADCAST_PAIRS, away, rand
from trainctl.autograd import gradcheck

BINARY = {
    "maximum": tc.maximum,
    "minimum": tc.minimum,
    "where": lambda a, b: tc.where(a > 1.2, a, b),
}


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_binary_gradients_with_broadcasting(name, shapes):
    a = rand(*shapes[0], low=0.5, high=2.0, seed=1)
    b = rand(*shapes[1], low=0.5, high=2.0, seed=2)
    out = BINARY[name](a, b)
    assert out.shape == numpy.broadcast_shapes(shapes[0], shapes[1])
    assert gradcheck(BINARY[name], [a, b])


CLAMPS = {
    "clamp_min": (lambda x: x.clamp(min=-0.5), away),
    "clamp_max": (lambda x: x.clamp(max=0.6), away),
    "clamp_both": (lambda x: tc.clamp(x, -0.7, 0.8), away),
    "clip": (lambda x: x.clip(-0.7, 0.8), away),
    "tc.clip": (lambda x: tc.clip(x, min=-1.0), away),
}


@pytest.mark.parametrize("name", list(CLAMPS))
@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 2)], ids=str)
def test_clamp_gradients(name, shape):
    fn, make = CLAMPS[name]
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


def test_where_with_two_python_scalars():
    cond = tc.tensor([True, False])
    out = tc.where(cond, 1.0, 0.0)
    assert out.dtype == tc.float32 and out.tolist() == [1.0, 0.0]
    assert tc.where(cond, 1, 0).dtype == tc.int64
