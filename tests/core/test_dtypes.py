"""dtype inference and promotion, PyTorch's rules; float32 stays float32."""

import numpy
import pytest

import trainctl as tc
from trainctl.core import dtypes


@pytest.mark.parametrize("data,dtype", [
    (1.5, tc.float32),
    ([1.0, 2.0], tc.float32),
    ([[1, 2], [3, 4]], tc.int64),
    ([1, 2.5], tc.float32),
    (True, tc.bool),
    ([True, False], tc.bool),
    (3, tc.int64),
    ([], tc.float32),
    (numpy.array([1.0, 2.0]), tc.float64),  # NumPy arrays keep their dtype
    (numpy.array([1, 2], dtype=numpy.int32), tc.int32),
    (numpy.array([1, 2], dtype=numpy.uint8), tc.uint8),
    (numpy.float64(2.0), tc.float64),
    (numpy.float32(2.0), tc.float32),
    ((1, 2), tc.int64),
], ids=lambda v: type(v).__name__)
def test_tensor_dtype_inference(data, dtype):
    assert tc.tensor(data).dtype == dtype


def test_tensor_from_tensors_and_explicit_dtype():
    assert tc.tensor([tc.tensor(1.0), tc.tensor(2.0)]).tolist() == [1.0, 2.0]
    assert tc.tensor([1, 2], dtype=tc.float64).dtype == tc.float64
    assert tc.tensor(numpy.ones(2), dtype=tc.float32).dtype == tc.float32
    with pytest.raises(TypeError, match="expected a number"):
        tc.tensor({"a": 1})
    with pytest.raises(TypeError, match="unsupported array dtype"):
        tc.from_numpy(numpy.array(["a"]))


@pytest.mark.parametrize("a,b,expected", [
    (lambda: tc.ones(2, dtype=tc.int64), lambda: tc.ones(2), tc.float32),
    (lambda: tc.ones(2), lambda: tc.tensor(1.0, dtype=tc.float64), tc.float32),  # 0-d loses
    (lambda: tc.ones(2, dtype=tc.float16), lambda: tc.tensor(1.0), tc.float16),
    (lambda: tc.ones(2, dtype=tc.int32), lambda: tc.tensor(1), tc.int32),
    (lambda: tc.ones(2, dtype=tc.int64), lambda: tc.tensor(1.0, dtype=tc.float64), tc.float64),
    (lambda: tc.tensor(1), lambda: tc.tensor(1.0, dtype=tc.float64), tc.float64),
    (lambda: tc.ones(2, dtype=tc.uint8), lambda: tc.ones(2, dtype=tc.int8), tc.int16),
    (lambda: tc.ones(2), lambda: tc.ones(2, dtype=tc.float64), tc.float64),
    (lambda: tc.ones(2, dtype=tc.bool), lambda: tc.ones(2, dtype=tc.int32), tc.int32),
], ids=range(9))
def test_tensor_tensor_promotion(a, b, expected):
    assert (a() + b()).dtype == expected
    assert (b() * a()).dtype == expected


@pytest.mark.parametrize("tensor,scalar,expected", [
    (lambda: tc.ones(2), 2.5, tc.float32),
    (lambda: tc.ones(2), numpy.float64(2.5), tc.float32),  # never upcasts float32
    (lambda: tc.ones(2), 3, tc.float32),
    (lambda: tc.ones(2, dtype=tc.int32), 2.5, tc.float32),
    (lambda: tc.ones(2, dtype=tc.int32), 2, tc.int32),
    (lambda: tc.ones(2, dtype=tc.bool), 1, tc.int64),
    (lambda: tc.ones(2, dtype=tc.bool), True, tc.bool),
    (lambda: tc.ones(2, dtype=tc.float16), 2.5, tc.float16),
    (lambda: tc.ones(2, dtype=tc.float64), 2.5, tc.float64),
], ids=range(9))
def test_python_scalars_take_the_tensor_dtype(tensor, scalar, expected):
    assert (tensor() * scalar).dtype == expected
    assert (scalar + tensor()).dtype == expected


def test_true_division_of_ints_gives_float32():
    out = tc.tensor([1, 3]) / tc.tensor([2, 2])
    assert out.dtype == tc.float32 and out.tolist() == [0.5, 1.5]
    assert (tc.tensor([1, 2]) / 2).dtype == tc.float32
    assert (1 / tc.tensor([2, 4])).dtype == tc.float32
    assert (tc.tensor([5]) // 2).dtype == tc.int64


def test_float32_stays_float32_through_a_training_step():
    tc.manual_seed(0)
    x = tc.randn(8, 3)
    y = x @ tc.tensor([[1.0], [-2.0], [0.5]]) + 0.1
    w = tc.zeros(3, 1, requires_grad=True)
    b = tc.zeros(1, requires_grad=True)
    for _ in range(3):
        pred = (x @ w + b) * numpy.float64(1.0) + 1e-3 * numpy.sqrt(2.0)
        loss = ((pred - y) ** 2).mean() + 0.01 * w.norm() ** 2 + (w.abs().sum() / 7)
        assert pred.dtype == tc.float32 and loss.dtype == tc.float32
        w.grad = b.grad = None
        loss.backward()
        assert w.grad.dtype == tc.float32 and b.grad.dtype == tc.float32
        with tc.no_grad():
            w -= 0.1 * w.grad
            b.sub_(b.grad * numpy.float64(0.1))
    assert w.dtype == tc.float32 and w.array.dtype == numpy.float32
    assert b.dtype == tc.float32


def test_dtype_objects():
    assert repr(tc.float32) == "trainctl.float32"
    assert tc.float is tc.float32 and tc.double is tc.float64 and tc.long is tc.int64
    assert tc.int is tc.int32 and tc.half is tc.float16 and tc.short is tc.int16
    assert tc.float32.is_floating_point and not tc.int64.is_floating_point
    assert tc.float64.itemsize == 8 and tc.bool.itemsize == 1
    assert isinstance(tc.float32, tc.dtype)
    assert dtypes.as_dtype("float64") is tc.float64
    assert dtypes.as_dtype("torch.long") is tc.int64
    assert dtypes.as_dtype(numpy.float32) is tc.float32
    assert dtypes.as_dtype(float) is tc.float32 and dtypes.as_dtype(int) is tc.int64
    assert dtypes.as_dtype(bool) is tc.bool
    with pytest.raises(TypeError, match="unknown dtype 'float128x'"):
        dtypes.as_dtype("float128x")


def test_set_default_dtype():
    try:
        tc.set_default_dtype(tc.float64)
        assert tc.get_default_dtype() is tc.float64
        assert tc.tensor([1.5]).dtype == tc.float64 and tc.zeros(1).dtype == tc.float64
        assert (tc.tensor([1, 2]) / 2).dtype == tc.float64
    finally:
        tc.set_default_dtype(tc.float32)
    assert tc.tensor([1.5]).dtype == tc.float32
    with pytest.raises(TypeError, match="floating point"):
        tc.set_default_dtype(tc.int64)
