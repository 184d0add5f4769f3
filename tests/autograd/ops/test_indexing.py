"""Indexing: __getitem__ in all its forms, gather, index_select, masked_fill, pad, one_hot."""

import numpy
import pytest

import trainctl as tc
from tests.autograd.helpers import rand
from trainctl.autograd import gradcheck

MASK = numpy.array([[True, False, True, True], [False, False, True, False],
                    [True, True, False, False]])

# key -> the same key for NumPy (tensors in a key become arrays)
KEYS = {
    "int": 1,
    "negative_int": -1,
    "int_int": (2, -3),
    "slice": slice(1, 3),
    "slice_step": (slice(None), slice(None, None, 2)),
    "negative_slice": (slice(-2, None), slice(-3, -1)),
    "reverse_step": (slice(None, None, -1), slice(3, 0, -2)),
    "none": (None, slice(None), None),
    "ellipsis": (Ellipsis, 1),
    "ellipsis_none": (0, Ellipsis, None),
    "bool_mask": tc.tensor(MASK),
    "bool_rows": tc.tensor([True, False, True]),
    "int_list_repeated": [0, 0, 2, 0],
    "int_tensor_repeated": tc.tensor([2, 1, 2, 2]),
    "int_array_2d": tc.tensor([[0, 1], [1, 1]]),
    "cols_repeated": (slice(None), [3, 3, 0]),
    "pairs_repeated": ([0, 0, 2], [1, 1, 3]),
    "mixed_slice_array": ([1, 1], slice(1, 3)),
    "numpy_array": numpy.array([1, 1]),
}


def _np_key(key):
    if isinstance(key, tc.Tensor):
        return key.numpy()
    if isinstance(key, tuple):
        return tuple(_np_key(k) for k in key)
    if isinstance(key, list):
        return numpy.asarray(key)
    return key


@pytest.mark.parametrize("name", list(KEYS))
def test_getitem_values_and_gradients(name):
    key = KEYS[name]
    x = rand(3, 4)
    out = x[key]
    expected = x.numpy()[_np_key(key)]
    assert out.shape == expected.shape
    numpy.testing.assert_array_equal(out.numpy(), expected)
    assert gradcheck(lambda x: x[key], [x])


def test_repeated_indices_accumulate_gradient():
    x = tc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]
    x.grad = None
    x[tc.tensor([1, 1])].backward(tc.tensor([2.0, 5.0]))
    assert x.grad.tolist() == [0.0, 7.0, 0.0]


def test_index_errors_name_the_shape():
    with pytest.raises(IndexError, match=r"shape \(3, 4\)"):
        tc.ones(3, 4)[5]


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather(dim):
    x = rand(3, 4)
    index = tc.tensor([[0, 2, 2], [1, 0, 0]] if dim == 0 else [[3, 3], [0, 1], [2, 2]])
    out = x.gather(dim, index)
    expected = numpy.empty(index.shape)
    for i, j in numpy.ndindex(*index.shape):  # out[i][j] = x[index[i][j]][j] (dim 0)
        src = [i, j]
        src[dim] = index.numpy()[i, j]
        expected[i, j] = x.numpy()[tuple(src)]
    numpy.testing.assert_array_equal(out.numpy(), expected)
    assert gradcheck(lambda x: tc.gather(x, dim, index), [x])


def test_gather_nll_pattern_and_repeated_gradient():
    logits = rand(4, 5)
    target = tc.tensor([1, 0, 4, 1])
    assert gradcheck(lambda z: -z.log_softmax(1).gather(1, target.unsqueeze(1)).mean(), [logits])
    x = tc.tensor([[1.0, 2.0]], requires_grad=True)
    x.gather(1, tc.tensor([[1, 1, 1]])).sum().backward()
    assert x.grad.tolist() == [[0.0, 3.0]]
    with pytest.raises(tc.ShapeError, match="gather"):
        x.gather(1, tc.tensor([1]))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_select(dim):
    x = rand(3, 4)
    index = tc.tensor([2, 0, 2])
    out = x.index_select(dim, index)
    numpy.testing.assert_array_equal(out.numpy(), numpy.take(x.numpy(), [2, 0, 2], axis=dim))
    assert gradcheck(lambda x: tc.index_select(x, dim, index), [x])


def test_masked_fill():
    x = rand(3, 4)
    mask = tc.tensor(MASK)
    out = x.masked_fill(mask, -1.5)
    assert (out.numpy()[MASK] == -1.5).all()
    assert gradcheck(lambda x: x.masked_fill(mask, 0.0), [x])
    row_mask = tc.tensor([True, False, False, True])  # broadcast over rows
    assert gradcheck(lambda x: tc.masked_fill(x, row_mask, float("-inf")).softmax(-1), [x])
    assert x.masked_fill(row_mask, tc.tensor(2.0)).numpy()[:, 0].tolist() == [2.0] * 3
    with pytest.raises(TypeError, match="bool"):
        x.masked_fill(tc.tensor([1, 0, 0, 1]), 0.0)


@pytest.mark.parametrize("pad", [(1, 2), (0, 0, 2, 1), (1, 1, 1, 1), (-1, 2), (2, -1, -1, 0),
                                 (0, 0, 0, 0, 1, 1)], ids=str)
def test_pad(pad):
    x = rand(3, 4)
    if len(pad) // 2 > x.ndim:
        with pytest.raises(tc.ShapeError, match="pad"):
            tc.pad(x, pad)
        return
    out = tc.pad(x, pad, value=0.5)
    widths = [(0, 0)] * 2
    for i in range(len(pad) // 2):
        widths[1 - i] = (pad[2 * i], pad[2 * i + 1])
    # NumPy cannot crop: pad the positive parts, then slice off the negative ones.
    expected = numpy.pad(x.numpy(), [(max(a, 0), max(b, 0)) for a, b in widths],
                         constant_values=0.5)
    expected = expected[tuple(slice(-min(a, 0), expected.shape[i] + min(b, 0))
                              for i, (a, b) in enumerate(widths))]
    numpy.testing.assert_array_equal(out.numpy(), expected)
    assert gradcheck(lambda x: tc.pad(x, pad), [x])


def test_pad_errors():
    with pytest.raises(tc.ShapeError, match="even"):
        tc.pad(tc.ones(2, 2), (1,))
    with pytest.raises(tc.ShapeError, match="negative size"):
        tc.pad(tc.ones(2, 2), (-2, -1))
    with pytest.raises(NotImplementedError):
        tc.pad(tc.ones(2, 2), (1, 1), mode="reflect")


def test_one_hot():
    from trainctl.autograd.ops.indexing import one_hot

    out = one_hot(tc.tensor([0, 2, 1]), 4)
    assert out.dtype == tc.int64
    assert out.tolist() == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]
    assert one_hot(tc.tensor([[1], [0]])).shape == (2, 1, 2)
    with pytest.raises(ValueError, match="class values"):
        one_hot(tc.tensor([3]), 2)
