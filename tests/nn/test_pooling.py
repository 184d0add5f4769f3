"""Pooling: gradients (finite differences), sizes, ties, indices, padding rules, layers."""

import math

import numpy as np
import pytest

import trainctl as tc
from trainctl.autograd import gradcheck
from trainctl.core.errors import ShapeError

F = tc.nn.functional


def naive_pool(x, k, s, p, d, ceil_mode, reduce):
    """Loop over output positions of one (H, W) plane; windows clipped to the input."""
    h, w = x.shape
    sizes = []
    for n, kk, ss, pp, dd in zip((h, w), k, s, p, d):
        out = (n + 2 * pp - dd * (kk - 1) - 1 + (ss - 1 if ceil_mode else 0)) // ss + 1
        if ceil_mode and (out - 1) * ss >= n + pp:
            out -= 1
        sizes.append(out)
    res = np.zeros(sizes)
    for i in range(sizes[0]):
        for j in range(sizes[1]):
            rows = [i * s[0] - p[0] + a * d[0] for a in range(k[0])]
            cols = [j * s[1] - p[1] + b * d[1] for b in range(k[1])]
            vals = [x[r, c] for r in rows for c in cols if 0 <= r < h and 0 <= c < w]
            res[i, j] = reduce(vals)
    return res


MAX2D = [  # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False),
    (3, 2, 1, 1, False),
    (3, 2, 1, 1, True),
    ((3, 2), (2, 1), (1, 0), (1, 2), True),
    (2, 3, 0, 1, True),  # gaps between windows
    (3, 1, 1, 2, False),
]


@pytest.mark.parametrize("k,s,p,d,ceil", MAX2D)
def test_max_pool2d_gradcheck_and_values(k, s, p, d, ceil):
    x = tc.randn(2, 3, 9, 8, dtype=tc.float64)
    assert gradcheck(lambda x: F.max_pool2d(x, k, s, p, d, ceil), [x])
    out = F.max_pool2d(x, k, s, p, d, ceil).numpy()
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    want = naive_pool(x.numpy()[1, 2], pair(k), pair(s if s is not None else k), pair(p),
                      pair(d), ceil, max)
    np.testing.assert_array_equal(out[1, 2], want)


@pytest.mark.parametrize("k,s,p,ceil,include", [
    (2, None, 0, False, True), (3, 2, 1, False, True), (3, 2, 1, True, True),
    (3, 2, 1, True, False), ((3, 2), (2, 3), (1, 1), True, False)])
def test_avg_pool2d_gradcheck_and_values(k, s, p, ceil, include):
    x = tc.randn(2, 3, 9, 8, dtype=tc.float64)
    assert gradcheck(lambda x: F.avg_pool2d(x, k, s, p, ceil, include), [x])
    out = F.avg_pool2d(x, k, s, p, ceil, include).numpy()
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    kk, ss, pp = pair(k), pair(s if s is not None else k), pair(p)
    if include:  # PyTorch counts padding but not the ceil_mode overhang
        plane = np.pad(x.numpy()[0, 1], ((pp[0], pp[0]), (pp[1], pp[1])))
        want = naive_pool(plane, kk, ss, (0, 0), (1, 1), ceil, np.mean)
        want = want[:out.shape[2], :out.shape[3]]
    else:
        want = naive_pool(x.numpy()[0, 1], kk, ss, pp, (1, 1), ceil, np.mean)
    np.testing.assert_allclose(out[0, 1], want, rtol=1e-12)


def test_avg_pool2d_divisor_override():
    x = tc.ones(1, 1, 4, 4, dtype=tc.float64, requires_grad=True)
    out = F.avg_pool2d(x, 2, divisor_override=3)
    np.testing.assert_allclose(out.detach().numpy(), 4 / 3)
    assert gradcheck(lambda x: F.avg_pool2d(x, 3, 1, 1, divisor_override=5), [x])


@pytest.mark.parametrize("fn,kw", [
    (F.max_pool1d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (F.max_pool1d, dict(kernel_size=2, dilation=2)),
    (F.avg_pool1d, dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    (F.avg_pool1d, dict(kernel_size=4, ceil_mode=True)),
])
def test_pool1d_gradcheck(fn, kw):
    x = tc.randn(2, 3, 11, dtype=tc.float64)
    assert gradcheck(lambda x: fn(x, **kw), [x])


@pytest.mark.parametrize("size", [(3, 2), 1, (4, 3), (None, 2), (5, 9)])
def test_adaptive_pool2d_gradcheck(size):
    x = tc.randn(2, 2, 8, 7, dtype=tc.float64)
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, size), [x])
    assert gradcheck(lambda x: F.adaptive_max_pool2d(x, size), [x])


def test_adaptive_windows_follow_floor_ceil_rule():
    x = tc.arange(7.).reshape(1, 1, 7)
    # windows of 7 -> 3: [0, 3), [2, 5), [4, 7)
    np.testing.assert_allclose(F.adaptive_avg_pool1d(x, 3).numpy(), [[[1., 3., 5.]]])
    np.testing.assert_allclose(F.adaptive_max_pool1d(x, 3).numpy(), [[[2., 4., 6.]]])
    # output larger than the input repeats elements
    np.testing.assert_allclose(F.adaptive_max_pool1d(x[..., :2], 3).numpy(), [[[0., 1., 1.]]])
    assert gradcheck(lambda x: F.adaptive_max_pool1d(x, 3),
                     [tc.randn(1, 2, 2, dtype=tc.float64)])
    g = tc.randn(2, 3, 5, 5)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(g, 1).numpy(),
                               g.numpy().mean(axis=(2, 3), keepdims=True), rtol=1e-5)


def test_max_pool_ties_go_to_the_first_element_and_indices():
    x = tc.zeros(1, 1, 4, 4, requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    out.sum().backward()
    want = np.zeros((4, 4))
    want[::2, ::2] = 1
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], want)
    np.testing.assert_array_equal(idx.numpy()[0, 0], [[0, 2], [8, 10]])
    # a later, equal maximum in the window does not take the gradient
    y = tc.tensor([[[[1., 3.], [3., 2.]]]], requires_grad=True)
    F.max_pool2d(y, 2).backward(tc.ones(1, 1, 1, 1))
    np.testing.assert_array_equal(y.grad.numpy()[0, 0], [[0, 1], [0, 0]])


def test_max_pool_indices_are_into_the_unpadded_input():
    x = tc.randn(2, 3, 7, 6)
    out, idx = F.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)
    flat = x.numpy().reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.numpy().reshape(2, 3, -1), 2),
                                  out.numpy().reshape(2, 3, -1))
    assert idx.dtype == tc.int64
    _, idx1 = F.max_pool1d(tc.tensor([[[1., 5., 2., 7., 0.]]]), 2, return_indices=True)
    np.testing.assert_array_equal(idx1.numpy(), [[[1, 3]]])


def test_max_pool_propagates_nan_and_pads_with_minus_infinity():
    x = tc.tensor([[[[1., float("nan")], [3., 4.]]]])
    assert math.isnan(F.max_pool2d(x, 2).item())
    neg = -tc.ones(1, 1, 2, 2)
    np.testing.assert_array_equal(F.max_pool2d(neg, 2, 1, 1).numpy(), -np.ones((1, 1, 3, 3)))


def test_output_sizes_and_errors():
    x = tc.randn(1, 2, 10, 9)
    assert F.max_pool2d(x, 3, 2).shape == (1, 2, 4, 4)
    assert F.max_pool2d(x, 3, 2, ceil_mode=True).shape == (1, 2, 5, 4)
    # ceil_mode never starts a window in the right padding
    assert F.max_pool2d(tc.randn(1, 1, 5, 5), 2, 2, 1, ceil_mode=True).shape == (1, 1, 3, 3)
    assert F.avg_pool2d(tc.randn(3, 10, 9), 2).shape == (3, 5, 4)  # unbatched
    with pytest.raises(ValueError, match="at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ShapeError, match="too small"):
        F.max_pool2d(tc.randn(1, 1, 2, 2), 3)
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\)"):
        F.max_pool2d(tc.randn(10, 9), 2)
    with pytest.raises(ValueError, match="not zero"):
        F.avg_pool2d(x, 2, divisor_override=0)


def test_layers_store_torch_attributes_and_call_functional():
    x = tc.randn(2, 3, 8, 8)
    pool = tc.nn.MaxPool2d(2)
    assert pool.stride == 2 and repr(pool) == (
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)")
    np.testing.assert_array_equal(pool(x).numpy(), F.max_pool2d(x, 2).numpy())
    out, idx = tc.nn.MaxPool2d(3, 2, 1, return_indices=True)(x)
    assert out.shape == idx.shape == (2, 3, 4, 4)
    assert tc.nn.AvgPool1d(3).kernel_size == (3,)
    np.testing.assert_allclose(tc.nn.AvgPool2d(2)(x).numpy(), F.avg_pool2d(x, 2).numpy())
    assert tc.nn.AdaptiveAvgPool2d((2, 3))(x).shape == (2, 3, 2, 3)
    assert tc.nn.AdaptiveMaxPool2d(3, return_indices=True)(x)[1].dtype == tc.int64
    assert tc.nn.AdaptiveMaxPool1d(3)(tc.randn(2, 3, 8)).shape == (2, 3, 3)
    assert list(tc.nn.MaxPool2d(2).state_dict()) == []
