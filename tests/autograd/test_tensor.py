"""Tensor basics: accessors, conversions, casts, in-place updates, repr."""

import numpy
import pytest

import trainctl as tc


def test_shape_accessors():
    x = tc.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and isinstance(x.shape, tc.Size)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.numel() == 24 and tc.numel(x) == 24 and x.shape.numel() == 24
    assert x.dim() == 3 and x.ndim == 3
    assert repr(x.shape) == "trainctl.Size([2, 3, 4])"
    assert x.element_size() == 4 and x.itemsize == 4
    assert x.is_floating_point() and not tc.zeros(2, dtype=tc.int64).is_floating_point()


def test_item_tolist_and_python_conversions():
    x = tc.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert x.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert x[0, 0].item() == 1.5 and isinstance(x[0, 0].item(), float)
    assert tc.tensor(3).item() == 3 and isinstance(tc.tensor(3).item(), int)
    assert float(x[1, 1]) == 4.0 and int(x[1, 0]) == 3
    assert [10, 20, 30][tc.tensor(1)] == 20  # __index__
    with pytest.raises(RuntimeError, match="4 elements cannot be converted to Scalar"):
        x.item()
    with pytest.raises(TypeError, match="integer tensors"):
        [1, 2][tc.tensor(1.0)]


def test_len_iter_bool_format():
    x = tc.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3 and rows[2].tolist() == [5.0, 6.0]
    assert bool(tc.tensor([1.0])) and not bool(tc.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    with pytest.raises(TypeError, match="0-d"):
        len(tc.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(tc.tensor(1.0))
    assert f"{tc.tensor(2.5):.2f}" == "2.50"
    assert f"{tc.tensor(3)}" == "3"
    assert f"{tc.tensor([1.5])}" == "tensor([1.5000])"


def test_numpy_shares_memory_and_refuses_grad():
    x = tc.zeros(3)
    a = x.numpy()
    a[1] = 5.0
    assert x.tolist() == [0.0, 5.0, 0.0]
    w = tc.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\).numpy\(\)"):
        w.numpy()
    assert w.detach().numpy().tolist() == [0.0, 0.0]
    assert numpy.asarray(w).shape == (2,)  # __array__


def test_clone_copies_and_stays_in_graph():
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None and c.array is not x.array
    c.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    y = tc.tensor([1.0])
    z = y.clone()
    z.array[0] = 9.0
    assert y.item() == 1.0


def test_contiguous_and_legacy_constructor():
    x = tc.ones(2, 3)
    assert x.t().contiguous().shape == (3, 2)
    t = tc.Tensor(2, 3)
    assert t.shape == (2, 3) and t.dtype == tc.float32
    assert tc.Tensor([1, 2]).dtype == tc.float32
    assert tc.Tensor((2,)).tolist() == [2.0]  # a tuple is data, as in PyTorch


CASTS = [
    ("float", tc.float32), ("double", tc.float64), ("half", tc.float16), ("long", tc.int64),
    ("int", tc.int32), ("short", tc.int16), ("bool", tc.bool), ("byte", tc.uint8),
]


@pytest.mark.parametrize("method,dtype", CASTS, ids=[c[0] for c in CASTS])
def test_cast_methods(method, dtype):
    x = tc.tensor([0.0, 1.5, 2.0])
    out = getattr(x, method)()
    assert out.dtype == dtype
    assert out.tolist() == numpy.array([0.0, 1.5, 2.0]).astype(dtype.numpy).tolist()


def test_to_and_type():
    x = tc.tensor([1.0, 2.0])
    assert x.to(tc.float32) is x and x.to("cpu") is x and x.cpu() is x
    copied = x.to(tc.float32, copy=True)
    assert copied is not x and copied.array is not x.array and copied.tolist() == x.tolist()
    assert x.to(tc.float64).dtype == tc.float64
    assert x.to("cpu", tc.int64).dtype == tc.int64
    assert x.to(dtype=tc.float16).dtype == tc.float16
    assert x.to(tc.zeros(1, dtype=tc.float64)).dtype == tc.float64
    assert x.to("float64").dtype == tc.float64 and x.to(float).dtype == tc.float32
    assert x.type() == "trainctl.FloatTensor"
    assert tc.tensor([1]).type() == "trainctl.LongTensor"
    assert x.type(tc.float64).dtype == tc.float64
    assert x.type("torch.IntTensor").dtype == tc.int32
    assert x.type_as(tc.tensor([1])).dtype == tc.int64
    with pytest.raises(TypeError, match="unexpected"):
        x.to(foo=1)


def test_casts_between_floats_are_differentiable():
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3
    assert y.dtype == tc.float64
    y.sum().backward()
    assert x.grad.dtype == tc.float32 and x.grad.tolist() == [3.0, 3.0]


def test_new_tensor_helpers():
    x = tc.tensor([1.0], dtype=tc.float64)
    assert x.new_zeros(2, 3).shape == (2, 3) and x.new_zeros(2).dtype == tc.float64
    assert x.new_ones((2,)).tolist() == [1.0, 1.0]
    assert x.new_full((2,), 7.0).tolist() == [7.0, 7.0]
    assert x.new_tensor([1, 2]).dtype == tc.float64


# ---------------------------------------------------------------------------- in-place


def test_in_place_arithmetic():
    x = tc.tensor([1.0, 2.0, 3.0])
    assert x.add_(1) is x and x.tolist() == [2.0, 3.0, 4.0]
    x.add_(tc.tensor([1.0, 1.0, 1.0]), alpha=2)
    assert x.tolist() == [4.0, 5.0, 6.0]
    x.sub_(1).sub_(tc.ones(3), alpha=0.5)
    assert x.tolist() == [2.5, 3.5, 4.5]
    x.mul_(2).div_(tc.tensor([5.0, 7.0, 9.0]))
    assert x.tolist() == [1.0, 1.0, 1.0]
    x.mul_(numpy.float64(3.0))
    assert x.dtype == tc.float32 and x.tolist() == [3.0, 3.0, 3.0]


def test_in_place_fill_zero_copy_clamp():
    x = tc.tensor([[1.0, -2.0], [3.0, -4.0]])
    data = x.array
    x.clamp_(-1.0, 2.0)
    assert x.tolist() == [[1.0, -1.0], [2.0, -1.0]]
    x.clamp_(min=0.0)
    assert x.tolist() == [[1.0, 0.0], [2.0, 0.0]]
    x.fill_(7)
    assert x.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    x.zero_()
    assert x.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    x.copy_(tc.tensor([1, 2]))  # broadcast and cast
    assert x.tolist() == [[1.0, 2.0], [1.0, 2.0]] and x.dtype == tc.float32
    x.copy_(numpy.ones((2, 2)))
    assert x.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert x.array is data  # every update was in place
    x.masked_fill_(tc.tensor([[True, False], [False, True]]), -5.0)
    assert x.tolist() == [[-5.0, 1.0], [1.0, -5.0]]


def test_in_place_random_fills_are_seeded():
    tc.manual_seed(3)
    a = tc.empty(1000).uniform_(-2.0, 3.0)
    b = tc.empty(1000).normal_(1.0, 0.5)
    tc.manual_seed(3)
    assert tc.equal(a, tc.empty(1000).uniform_(-2.0, 3.0))
    assert tc.equal(b, tc.empty(1000).normal_(1.0, 0.5))
    assert -2.0 <= a.min().item() and a.max().item() < 3.0
    assert abs(b.mean().item() - 1.0) < 0.1 and abs(b.std().item() - 0.5) < 0.05
    g = tc.Generator().manual_seed(5)
    c = tc.empty(3).uniform_(generator=g)
    assert tc.equal(c, tc.empty(3).uniform_(generator=tc.Generator().manual_seed(5)))


def test_setitem():
    x = tc.zeros(3, 4)
    x[0] = 1.0
    x[1, 1:3] = tc.tensor([2.0, 3.0])
    x[x > 2.5] = -1.0
    x[[2, 2], [0, 3]] = 4.0
    x[tc.tensor(2), 1] = 5.0
    assert x.tolist() == [[1.0] * 4, [0.0, 2.0, -1.0, 0.0], [4.0, 5.0, 0.0, 4.0]]


def test_setitem_refuses_to_drop_a_gradient():
    w = tc.tensor([1.0, 2.0], requires_grad=True)
    buf = tc.zeros(3)
    with pytest.raises(RuntimeError, match="requires grad"):
        buf[0:2] = w
    with tc.no_grad():
        buf[0:2] = w
    assert buf.tolist() == [1.0, 2.0, 0.0]


def test_version_counter_counts_in_place_updates():
    x = tc.zeros(2)
    assert x._version == 0
    x.add_(1)
    x[0] = 3.0
    x.zero_()
    assert x._version == 3


# ---------------------------------------------------------------------------- repr


@pytest.mark.parametrize("make,expected", [
    (lambda: tc.tensor([[1.5, 2.0], [3.0, 4.0]]),
     "tensor([[1.5000, 2.0000],\n        [3.0000, 4.0000]])"),
    (lambda: tc.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: tc.tensor(3.0), "tensor(3.)"),
    (lambda: tc.tensor([1.0, 2.0], dtype=tc.float64), "tensor([1., 2.], dtype=trainctl.float64)"),
    (lambda: tc.tensor([True, False]), "tensor([ True, False])"),
    (lambda: tc.tensor([1, 2], dtype=tc.int32), "tensor([1, 2], dtype=trainctl.int32)"),
    (lambda: tc.zeros(2, 0), "tensor([], size=(2, 0))"),
    (lambda: tc.tensor([float("nan"), 1.5, float("inf")]), "tensor([   nan, 1.5000,    inf])"),
    (lambda: tc.tensor([0.393, -1.1067]), "tensor([ 0.3930, -1.1067])"),
    (lambda: tc.tensor([[1, -2], [3, 4]]), "tensor([[ 1, -2],\n        [ 3,  4]])"),
    (lambda: tc.tensor([-float("inf"), 1.0]), "tensor([-inf, 1.])"),
    (lambda: tc.tensor(2.5, dtype=tc.float64), "tensor(2.5000, dtype=trainctl.float64)"),
    (lambda: tc.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
    (lambda: tc.tensor([1.0, 2.0], requires_grad=True) * 2,
     "tensor([2., 4.], grad_fn=<MulBackward>)"),
], ids=range(14))
def test_repr_like_pytorch(make, expected):
    assert repr(make()) == expected


def test_casts_to_integer_or_bool_leave_the_graph():
    x = tc.tensor([0.4, 1.6], requires_grad=True)
    for out in (x.long(), x.bool(), x.to(tc.int32)):
        assert not out.requires_grad and out.grad_fn is None
    assert x.long().numpy().tolist() == [0, 1]


def test_set_printoptions():
    try:
        tc.set_printoptions(precision=2)
        assert repr(tc.tensor([1.2345, -2.0])) == "tensor([ 1.23, -2.00])"
        tc.set_printoptions(sci_mode=True)
        assert repr(tc.tensor([1.5])) == "tensor([1.50e+00])"
    finally:
        tc.set_printoptions(profile="default")
    assert repr(tc.tensor([1.2345])) == "tensor([1.2345])"
