"""The fused BLAS updates (optim/_blas.py) agree with the NumPy expressions they replace."""

import numpy
import pytest

import trainctl as tc
from trainctl.optim import _blas

BIG = _blas.MIN_SIZE * 2


def _fast_available() -> bool:
    x = numpy.ones(BIG, numpy.float32)
    return _blas._fast("axpy", x, x.copy()) is not None


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("n", [10, BIG])
def test_axpy_and_axpby_match_numpy_to_one_rounding(dtype, n):
    rng = numpy.random.default_rng(0)
    x = rng.standard_normal(n).astype(dtype)
    y0 = rng.standard_normal(n).astype(dtype)
    y = y0.copy()
    _blas.axpy(-0.01, x, y)
    eps = numpy.finfo(dtype).eps
    numpy.testing.assert_allclose(y, y0 - dtype(0.01) * x, rtol=2 * eps, atol=2 * eps)
    y = y0.copy()
    _blas.axpby(0.9, x, 0.5, y)
    numpy.testing.assert_allclose(y, dtype(0.5) * y0 + dtype(0.9) * x, rtol=4 * eps,
                                  atol=4 * eps)
    assert y.dtype == dtype


def test_the_fast_path_takes_only_what_it_can():
    big = numpy.ones((BIG // 64, 64), numpy.float32)
    assert _blas._fast("axpy", big, big.copy()) is _blas._fast("axpy", big, big.copy())
    assert _blas._fast("axpy", big[:, ::2], big[:, ::2].copy()) is None  # strided
    assert _blas._fast("axpy", big[:10], big[:10].copy()) is None  # small
    assert _blas._fast("axpy", big, big.astype(numpy.float64)) is None  # mixed dtypes
    assert _blas._fast("axpy", big.astype(numpy.int32), big.astype(numpy.int32)) is None
    strided = numpy.ones((BIG // 32, 64), numpy.float32)[:, ::2]
    y = strided.copy()
    _blas.axpy(2.0, strided, y)  # the NumPy fallback
    assert (y == 3).all()


@pytest.mark.skipif(not _fast_available(), reason="NumPy is not on an OpenBLAS here")
def test_sgd_on_a_big_parameter_takes_the_blas_path_and_matches_pytorchs_rule():
    rng = numpy.random.default_rng(1)
    w0 = rng.standard_normal((300, 300)).astype(numpy.float32)
    g = rng.standard_normal((300, 300)).astype(numpy.float32)
    for momentum in (0.0, 0.9):
        w = tc.nn.Parameter(tc.tensor(w0))
        opt = tc.optim.SGD([w], lr=0.1, momentum=momentum)
        buf = None
        ref = w0.copy()
        for _ in range(3):
            w.grad = tc.tensor(g)
            opt.step()
            buf = g.copy() if buf is None or not momentum else momentum * buf + g
            ref = ref - numpy.float32(0.1) * (buf if momentum else g)
        numpy.testing.assert_allclose(w.detach().numpy(), ref, rtol=1e-6, atol=1e-6)
        assert w.array.dtype == numpy.float32
