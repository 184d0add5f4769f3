"""Comparisons, logic and rounding: values and dtypes; no gradient flows."""

import pytest

import trainctl as tc


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


def test_all_any():
    b = tc.tensor([[True, False], [True, True]])
    assert not b.all().item() and b.any().item()
    assert b.all(1).tolist() == [False, True] and tc.any(b, 0).tolist() == [True, True]


def test_equal():
    assert tc.equal(tc.tensor([1, 2]), tc.tensor([1, 2]))
    assert not tc.equal(tc.tensor([1, 2]), tc.tensor([1, 2, 3]))
