"""Creation functions: shapes, dtypes and values like PyTorch's."""

import numpy
import pytest

import trainctl as tc


@pytest.mark.parametrize("fn,fill", [(tc.zeros, 0.0), (tc.ones, 1.0), (tc.empty, None)])
@pytest.mark.parametrize("size", [(2, 3), ((2, 3),), ([2, 3],)], ids=["args", "tuple", "list"])
def test_filled_tensors(fn, fill, size):
    x = fn(*size)
    assert x.shape == (2, 3) and x.dtype == tc.float32 and not x.requires_grad
    if fill is not None:
        assert (x.numpy() == fill).all()
    assert fn(2, dtype=tc.int64).dtype == tc.int64
    assert fn(2, requires_grad=True).requires_grad


def test_full_infers_dtype_from_the_value():
    assert tc.full((2,), 3).dtype == tc.int64
    assert tc.full((2,), 3.0).dtype == tc.float32
    assert tc.full((2,), True).dtype == tc.bool
    assert tc.full((2, 2), 7.5).tolist() == [[7.5, 7.5], [7.5, 7.5]]
    assert tc.full(3, 1, dtype=tc.float64).dtype == tc.float64


def test_like_functions_follow_the_template():
    t = tc.ones(2, 3, dtype=tc.int32)
    assert tc.zeros_like(t).dtype == tc.int32 and tc.zeros_like(t).shape == (2, 3)
    assert tc.ones_like(t, dtype=tc.float64).dtype == tc.float64
    assert tc.full_like(t, 4).tolist() == [[4, 4, 4], [4, 4, 4]]
    assert tc.empty_like(t).shape == (2, 3)
    f = tc.ones(4, 2)
    assert tc.rand_like(f).shape == (4, 2) and tc.randn_like(f).dtype == tc.float32
    r = tc.randint_like(t, 5, 9)
    assert r.shape == (2, 3) and r.dtype == tc.int32 and 5 <= r.min().item() <= r.max().item() < 9


@pytest.mark.parametrize("args,expected", [
    ((3,), [0, 1, 2]),
    ((1, 4), [1, 2, 3]),
    ((10, 0, -3), [10, 7, 4, 1]),
    ((1, 2.5, 0.5), [1.0, 1.5, 2.0]),
    ((5, 0, -1.5), [5.0, 3.5, 2.0, 0.5]),
    ((0, 0.3, 0.1), [0.0, 0.1, 0.2]),
])
def test_arange_values(args, expected):
    out = tc.arange(*args)
    numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_arange_lengths_and_dtypes_like_pytorch():
    assert len(tc.arange(0, 1, 0.1)) == 10
    assert len(tc.arange(-1, 1, 0.25)) == 8
    assert tc.arange(3).dtype == tc.int64 and tc.arange(0.0, 3).dtype == tc.float32
    assert tc.arange(3, dtype=tc.float64).dtype == tc.float64
    assert tc.arange(0, 1, 0.1).numpy()[3] == numpy.float32(0.3)


def test_linspace_logspace_eye():
    x = tc.linspace(0, 1, 5)
    assert x.dtype == tc.float32 and x.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert tc.linspace(-1, 1, 3, dtype=tc.float64).tolist() == [-1.0, 0.0, 1.0]
    numpy.testing.assert_allclose(tc.logspace(0, 2, 3).numpy(), [1.0, 10.0, 100.0])
    assert tc.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert tc.eye(2, 3).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert tc.eye(2, dtype=tc.int64).dtype == tc.int64


def test_random_creation_shapes_ranges_dtypes():
    u = tc.rand(1000)
    assert u.dtype == tc.float32 and 0.0 <= u.min().item() and u.max().item() < 1.0
    n = tc.randn(2000)
    assert abs(n.mean().item()) < 0.1 and abs(n.std().item() - 1.0) < 0.1
    assert tc.randn(2, 3, dtype=tc.float64).dtype == tc.float64
    assert tc.rand((2, 3)).shape == (2, 3) and tc.randn([4]).shape == (4,)
    r = tc.randint(3, 10, (500,))
    assert r.dtype == tc.int64 and r.min().item() == 3 and r.max().item() == 9
    assert tc.randint(5, (3,)).max().item() < 5 and tc.randint(5, size=(2, 2)).shape == (2, 2)
    p = tc.randperm(10)
    assert sorted(p.tolist()) == list(range(10)) and p.dtype == tc.int64
    g = tc.normal(2.0, 0.5, (2000,))
    assert abs(g.mean().item() - 2.0) < 0.05
    assert tc.rand(3, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="cannot have dtype"):
        tc.rand(2, dtype=tc.int64)
    with pytest.raises(TypeError, match="needs a size"):
        tc.randint(3, 10)


def test_from_numpy_and_as_tensor_share_memory():
    a = numpy.zeros(3)
    t = tc.from_numpy(a)
    a[0] = 5.0
    assert t.tolist() == [5.0, 0.0, 0.0] and t.dtype == tc.float64
    s = tc.as_tensor(a)
    s.array[1] = 2.0
    assert a[1] == 2.0
    x = tc.ones(2)
    assert tc.as_tensor(x) is x
    assert tc.as_tensor(x, dtype=tc.float64).dtype == tc.float64
    assert tc.as_tensor([1, 2]).dtype == tc.int64
    c = tc.tensor(a)
    c.array[2] = 9.0
    assert a[2] == 0.0  # tc.tensor copies
    with pytest.raises(TypeError, match="numpy.ndarray"):
        tc.from_numpy([1, 2])


def test_is_tensor():
    assert tc.is_tensor(tc.ones(1)) and not tc.is_tensor(numpy.ones(1))
