"""Reductions: gradients over dim/keepdim variants, ties, zeros, corrections."""

import numpy
import pytest

import trainctl as tc
from tests.autograd.helpers import away, distinct, rand
from trainctl.autograd import gradcheck

DIMS = [None, 0, 1, -1, (0, 2), (-1, 0), (), (0, 1, 2)]

REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(d, keepdim=k), rand),
    "mean": (lambda x, d, k: x.mean(d, keepdim=k), rand),
    "amax": (lambda x, d, k: x.amax(() if d is None else d, keepdim=k), distinct),
    "amin": (lambda x, d, k: tc.amin(x, () if d is None else d, keepdim=k), distinct),
    "var": (lambda x, d, k: x.var(d, keepdim=k), rand),
    "std": (lambda x, d, k: x.std(d, keepdim=k), rand),
    "logsumexp": (lambda x, d, k: x.logsumexp(() if d is None else d, keepdim=k), rand),
    "norm2": (lambda x, d, k: x.norm(dim=d, keepdim=k), rand),
    "norm1": (lambda x, d, k: x.norm(1, dim=d, keepdim=k), away),
    "norm_inf": (lambda x, d, k: x.norm(float("inf"), dim=d, keepdim=k), distinct),
    "norm3": (lambda x, d, k: tc.norm(x, 3, d, k), rand),
}


@pytest.mark.parametrize("keepdim", [False, True], ids=["", "keepdim"])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_gradients(name, dim, keepdim):
    fn, make = REDUCTIONS[name]
    x = make(2, 3, 4)
    out = fn(x, dim, keepdim)
    reduced = (0, 1, 2) if dim in (None, ()) else numpy.atleast_1d(dim) % 3
    expected = [1 if i in reduced else n for i, n in enumerate((2, 3, 4))]
    if not keepdim:
        expected = [n for i, n in enumerate((2, 3, 4)) if i not in reduced]
    assert tuple(out.shape) == tuple(expected)
    assert gradcheck(lambda x: fn(x, dim, keepdim), [x])


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "var", "logsumexp", "norm", "prod"])
def test_reductions_of_a_0d_tensor_accept_dim_0(name):
    x = tc.tensor(1.5, dtype=tc.float64)
    fn = {"norm": lambda x: x.norm(dim=0), "var": lambda x: x.var(0, correction=0)}.get(
        name, lambda x: getattr(x, name)(0)
    )
    assert fn(x).shape == ()
    assert gradcheck(fn, [x])


@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_correction(op, correction):
    x = rand(4, 5)
    data = x.numpy()
    expected = getattr(numpy, op)(data, axis=1, ddof=correction)
    out = getattr(x, op)(1, correction=correction)
    numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert gradcheck(lambda x: getattr(x, op)(1, correction=correction), [x])


def test_var_unbiased_flag_and_pytorch_values():
    x = tc.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.var(correction=2).item() == 2.5
    assert x.std(1, unbiased=False).tolist() == [0.5, 0.5]
    assert x.var(unbiased=True).item() == pytest.approx(5 / 3)


def test_std_of_constant_has_zero_gradient_like_pytorch():
    z = tc.zeros(3, requires_grad=True)
    z.std().backward()
    assert z.grad.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("dim", [None, 0, 1, -1], ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod_gradients_with_and_without_zeros(dim, keepdim):
    x = rand(3, 4, low=0.5, high=1.5)
    assert gradcheck(lambda x: x.prod(dim, keepdim=keepdim) if dim is not None else x.prod(), [x])
    zeros = tc.tensor([[1.5, 0.0, 2.0, 0.7], [0.0, 1.2, 0.0, 0.9], [0.8, 1.1, 1.3, 0.6]],
                      dtype=tc.float64)
    assert gradcheck(lambda x: x.prod(dim, keepdim=keepdim) if dim is not None else x.prod(),
                     [zeros])


def test_prod_with_zeros_matches_pytorch():
    x = tc.tensor([[1.0, 0.0, 3.0], [0.0, 2.0, 0.0], [1.0, 2.0, 3.0]], requires_grad=True)
    x.prod(1).sum().backward()
    assert x.grad.tolist() == [[0.0, 3.0, 0.0], [0.0, 0.0, 0.0], [6.0, 3.0, 2.0]]
    y = tc.tensor([2.0, 0.0, 3.0], requires_grad=True)
    y.prod().backward()
    assert y.grad.tolist() == [0.0, 6.0, 0.0]


def test_max_min_with_dim_return_values_and_indices_and_route_ties_to_the_index():
    x = tc.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
    values, indices = x.max(1)
    assert values.tolist() == [3.0, 2.0] and indices.tolist() == [1, 0]
    assert indices.dtype == tc.int64
    values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    x.grad = None
    out = tc.min(x, dim=1)
    assert out.values.tolist() == [1.0, 0.0] and out.indices.tolist() == [0, 2]
    out.values.sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    v, i = x.max(0, keepdim=True)
    assert v.tolist() == [[2.0, 3.0, 3.0]] and i.tolist() == [[1, 0, 0]]


def test_max_of_1d_and_0d_tensors_along_dim():
    v, i = tc.tensor([1.0, 3.0, 3.0]).max(0)
    assert v.item() == 3.0 and i.item() == 1 and i.shape == ()
    assert isinstance(i.array, numpy.ndarray)
    v, i = tc.tensor(3.0).max(0)
    assert v.item() == 3.0 and i.item() == 0
    assert tc.tensor([2.0, 7.0, 7.0]).argmax(0).item() == 1
    assert isinstance(tc.tensor([2.0, 7.0]).argmax(0).array, numpy.ndarray)


def test_full_max_min_amax_split_ties_evenly():
    x = tc.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]]
    x.grad = None
    x.amax(1).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]]
    x.grad = None
    x.min().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_max_min_dim_gradients(op, dim):
    assert gradcheck(lambda x: getattr(x, op)(dim).values, [distinct(3, 4)])
    assert gradcheck(lambda x: getattr(x, op)(dim, keepdim=True)[0], [distinct(3, 4)])


def test_norm_matches_numpy_and_handles_zero():
    x = tc.tensor([[3.0, -4.0], [0.0, 0.0]], requires_grad=True)
    assert x.norm(dim=1).tolist() == [5.0, 0.0]
    assert x.norm(1, dim=1).tolist() == [7.0, 0.0]
    assert x.norm(float("inf"), dim=1).tolist() == [4.0, 0.0]
    assert x.norm(0, dim=1).tolist() == [2.0, 0.0]
    assert x.norm(float("-inf"), dim=1).tolist() == [3.0, 0.0]
    assert x.norm(3).item() == pytest.approx((27 + 64) ** (1 / 3))
    x.norm(dim=1).sum().backward()
    # zero gradient at a zero norm
    numpy.testing.assert_allclose(x.grad.numpy(), [[0.6, -0.8], [0.0, 0.0]], rtol=1e-6)
    y = tc.tensor([[0.0, 0.0], [1.0, 2.0]], requires_grad=True)
    y.norm(3, dim=1).sum().backward()
    numpy.testing.assert_allclose(y.grad.numpy(), [[0.0, 0.0], [0.2311, 0.9245]], atol=1e-4)
    z = tc.tensor([0.0, 2.0, -1.0], requires_grad=True)
    z.norm(1.5).backward()  # PyTorch: 0 where the element is 0
    numpy.testing.assert_allclose(z.grad.numpy(), [0.0, 0.9040, -0.6392], atol=1e-4)


def test_sum_of_ints_and_bools_is_int64_and_mean_needs_float():
    assert tc.tensor([True, True, False]).sum().item() == 2
    assert tc.tensor([1, 2], dtype=tc.int32).sum().dtype == tc.int64
    with pytest.raises(RuntimeError, match="floating point"):
        tc.tensor([1, 2]).mean()
    assert tc.tensor([1, 2]).mean(dtype=tc.float32).item() == 1.5


def test_dim_out_of_range_error():
    with pytest.raises(IndexError, match="Dimension out of range"):
        tc.ones(2, 3).sum(2)
