"""Non-differentiable ops: comparisons, logic, rounding, arg/sort/topk/unique."""

import numpy
import pytest

import trainctl as tc
from tests.autograd.helpers import distinct
from trainctl.autograd import gradcheck


def test_comparisons_give_bool_tensors_without_grad():
    a = tc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = tc.tensor([3.0, 2.0, 1.0])
    cases = {
        "eq": ([False, True, False], a == b, tc.eq(a, b)),
        "ne": ([True, False, True], a != b, a.ne(b)),
        "lt": ([True, False, False], a < b, tc.lt(a, b)),
        "le": ([True, True, False], a <= b, a.le(b)),
        "gt": ([False, False, True], a > b, tc.gt(a, b)),
        "ge": ([False, True, True], a >= b, a.ge(b)),
    }
    for name, (expected, op_form, fn_form) in cases.items():
        for out in (op_form, fn_form):
            assert out.dtype == tc.bool, name
            assert out.tolist() == expected, name
            assert not out.requires_grad
    assert (a > 2).tolist() == [False, False, True]  # scalars compare too
    assert (2 < a).tolist() == [False, False, True]


def test_logic_ops():
    p = tc.tensor([True, True, False, False])
    q = tc.tensor([True, False, True, False])
    assert tc.logical_and(p, q).tolist() == [True, False, False, False]
    assert (p | q).tolist() == [True, True, True, False]
    assert (p ^ q).tolist() == [False, True, True, False]
    assert (~p).tolist() == [False, False, True, True]
    assert tc.logical_not(q).tolist() == [False, True, False, True]
    assert tc.logical_or(p, q).tolist() == [True, True, True, False]


def test_rounding_and_sign():
    x = tc.tensor([-1.5, -0.5, 0.5, 1.5, 2.5])
    assert tc.round(x).tolist() == [-2.0, -0.0, 0.0, 2.0, 2.0]  # half to even, like PyTorch
    assert x.floor().tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert x.ceil().tolist() == [-1.0, -0.0, 1.0, 2.0, 3.0]
    assert x.sign().tolist() == [-1.0, -1.0, 1.0, 1.0, 1.0]
    assert tc.round(tc.tensor([1.2345]), decimals=2).tolist() == [pytest.approx(1.23)]


def test_nan_inf_checks():
    x = tc.tensor([1.0, float("nan"), float("inf"), -float("inf")])
    assert x.isnan().tolist() == [False, True, False, False]
    assert tc.isinf(x).tolist() == [False, False, True, True]
    assert x.isfinite().tolist() == [True, False, False, False]


def test_argmax_argmin_all_any():
    x = tc.tensor([[1.0, 5.0, 5.0], [7.0, 0.0, 0.0]])
    assert x.argmax().item() == 3 and x.argmin().item() == 4
    assert x.argmax(1).tolist() == [1, 0] and x.argmin(dim=1).tolist() == [0, 1]
    assert x.argmax(0, keepdim=True).tolist() == [[1, 0, 0]]
    assert x.argmax(1).dtype == tc.int64
    b = tc.tensor([[True, False], [True, True]])
    assert not b.all().item() and b.any().item()
    assert b.all(1).tolist() == [False, True] and tc.any(b, 0).tolist() == [True, True]


def test_sort_argsort_topk_follow_pytorch_order():
    x = tc.tensor([1.0, 5.0, 5.0, 3.0])
    values, indices = x.sort(descending=True)
    assert values.tolist() == [5.0, 5.0, 3.0, 1.0] and indices.tolist() == [1, 2, 3, 0]
    assert x.argsort().tolist() == [0, 3, 1, 2]
    top = x.topk(2)
    assert top.values.tolist() == [5.0, 5.0] and top.indices.tolist() == [1, 2]
    low = tc.topk(x, 2, largest=False)
    assert low.values.tolist() == [1.0, 3.0] and low.indices.tolist() == [0, 3]
    with pytest.raises(IndexError, match="topk"):
        x.topk(5)


def test_sort_and_topk_values_carry_gradient():
    x = distinct(3, 5)
    assert gradcheck(lambda x: x.sort(1).values, [x])
    assert gradcheck(lambda x: x.sort(0, descending=True)[0], [x])
    assert gradcheck(lambda x: x.topk(2, dim=1).values, [x])


def test_unique():
    x = tc.tensor([3, 1, 3, 2, 1])
    assert tc.unique(x).tolist() == [1, 2, 3]
    values, inverse, counts = x.unique(return_inverse=True, return_counts=True)
    assert inverse.tolist() == [2, 0, 2, 1, 0] and counts.tolist() == [2, 1, 2]
    numpy.testing.assert_array_equal(values.numpy()[inverse.numpy()], x.numpy())


def test_nonzero_and_bincount():
    x = tc.tensor([[0, 1], [2, 0]])
    assert x.nonzero().tolist() == [[0, 1], [1, 0]]
    rows, cols = tc.nonzero(x, as_tuple=True)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    assert tc.bincount(tc.tensor([0, 2, 2])).tolist() == [1, 0, 2]


def test_equal():
    assert tc.equal(tc.tensor([1, 2]), tc.tensor([1, 2]))
    assert not tc.equal(tc.tensor([1, 2]), tc.tensor([1, 2, 3]))
