"""gradcheck itself: it passes right gradients and catches wrong ones."""

import pytest

import trainctl as tc
from trainctl.autograd import gradcheck
from trainctl.autograd.array_function import ArrayFunction


class WrongSquare(ArrayFunction):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * a  # should be 2 * a


def test_gradcheck_catches_a_wrong_backward():
    x = tc.randn(3)
    with pytest.raises(AssertionError, match="input 0 .* analytic and numeric gradients differ"):
        gradcheck(WrongSquare.apply, [x])
    assert gradcheck(WrongSquare.apply, [x], raise_exception=False) is False


def test_gradcheck_catches_a_missing_gradient():
    x = tc.randn(3)
    with pytest.raises(AssertionError):
        gradcheck(lambda x: x.detach() * x.detach(), [x])


def test_gradcheck_runs_in_float64_and_passes_other_inputs_through():
    seen = {}

    def fn(x, index, scale):
        seen["dtype"] = x.dtype
        return x.gather(0, index) * scale

    assert gradcheck(fn, [tc.randn(4), tc.tensor([3, 0, 3]), 2.0])
    assert seen["dtype"] == tc.float64


def test_gradcheck_on_tuple_outputs_ignores_integer_ones():
    assert gradcheck(lambda x: x.max(0), [tc.tensor([1.0, 5.0, 2.0])])
    assert gradcheck(lambda x: (x.sin(), x.cos()), [tc.randn(2, 2)])
