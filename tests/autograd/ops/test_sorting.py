"""Sorting, searching and counting: PyTorch's orders and indices; sort/topk values carry the
gradient."""

import numpy
import pytest

import trainctl as tc
from tests.autograd.helpers import distinct
from trainctl.autograd import gradcheck


def test_argmax_argmin():
    x = tc.tensor([[1.0, 5.0, 5.0], [7.0, 0.0, 0.0]])
    assert x.argmax().item() == 3 and x.argmin().item() == 4
    assert x.argmax(1).tolist() == [1, 0] and x.argmin(dim=1).tolist() == [0, 1]
    assert x.argmax(0, keepdim=True).tolist() == [[1, 0, 0]]
    assert x.argmax(1).dtype == tc.int64


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
