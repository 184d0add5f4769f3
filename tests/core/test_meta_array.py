"""MetaArray's shape rules agree with NumPy on real arrays of the same shapes and dtypes."""

import numpy
import pytest

from trainctl.core import meta
from trainctl.core.errors import DeviceError
from trainctl.core.meta_array import MetaArray

A = numpy.arange(24, dtype=numpy.float32).reshape(2, 3, 4)
B = numpy.ones((4, 5), dtype=numpy.float64)
I = numpy.arange(6, dtype=numpy.int64).reshape(2, 3)  # noqa: E741
IDX = numpy.array([[0], [2]], dtype=numpy.int64)

# (name, function of arrays (same code for NumPy and meta), the arrays)
CASES = [
    ("add-broadcast", lambda a, b: a[:, :1, :, None] + b, [A, B]),
    ("int-by-float-scalar", lambda i: i * 2.5, [I]),
    ("int-true-divide", lambda i: i / 2, [I]),
    ("compare", lambda a: a > 1, [A]),
    ("divmod", lambda a: numpy.divmod(a, 3)[1], [A]),
    ("exp-where", lambda a: numpy.where(a > 0, numpy.exp(a), 0.0), [A]),
    ("matmul", lambda a, b: a @ b, [A, B]),
    ("matmul-vector", lambda a, b: a[0, 0] @ b, [A, B]),
    ("dot", lambda a, b: numpy.dot(a[0], b), [A, B]),
    ("einsum", lambda a, b: numpy.einsum("nij,jk->nki", a, b), [A, B]),
    ("einsum-ellipsis", lambda a: numpy.einsum("...ij->...j", a), [A]),
    ("einsum-implicit", lambda a, b: numpy.einsum("nij,jk", a, b), [A, B]),
    ("tensordot", lambda a, b: numpy.tensordot(a, b, axes=([2], [0])), [A, B]),
    ("sum-axis", lambda a: a.sum(axis=(0, 2), keepdims=True), [A]),
    ("int-sum", lambda i: i.sum(axis=1), [I]),
    ("int-mean", lambda i: numpy.mean(i), [I]),
    ("argmax", lambda a: a.argmax(axis=-1), [A]),
    ("max-reduce", lambda a: numpy.maximum.reduce(a, axis=1), [A]),
    ("var", lambda a: a.var(axis=0, ddof=1), [A]),
    ("cumsum", lambda a: numpy.cumsum(a, axis=1), [A]),
    ("reshape", lambda a: a.reshape(4, -1), [A]),
    ("transpose", lambda a: a.transpose(2, 0, 1), [A]),
    ("moveaxis", lambda a: numpy.moveaxis(a, 0, -1), [A]),
    ("expand-dims", lambda a: numpy.expand_dims(a, (0, 2)), [A]),
    ("squeeze", lambda a: a[:, :1].squeeze(1), [A]),
    ("concatenate", lambda a: numpy.concatenate([a, a], axis=2), [A]),
    ("stack", lambda a: numpy.stack([a, a], axis=1), [A]),
    ("split", lambda a: numpy.split(a, [1, 3], axis=2)[1], [A]),
    ("array-split", lambda a: numpy.array_split(a, 3, axis=2)[2], [A]),
    ("pad", lambda a: numpy.pad(a, ((0, 0), (1, 2), (3, 0))), [A]),
    ("tile", lambda a: numpy.tile(a, (2, 1)), [A]),
    ("repeat", lambda a: numpy.repeat(a, 2, axis=1), [A]),
    ("broadcast-to", lambda a: numpy.broadcast_to(a[:, :1], (5, 2, 3, 4)), [A]),
    ("take", lambda a: numpy.take(a, IDX, axis=1), [A]),
    ("take-along-axis", lambda a: numpy.take_along_axis(a, numpy.zeros((2, 3, 1), int),
                                                        axis=2), [A]),
    ("sliding-window", lambda a: numpy.lib.stride_tricks.sliding_window_view(a, (2, 2),
                                                                             axis=(1, 2)), [A]),
    ("clip", lambda a: numpy.clip(a, 0, 1), [A]),
    ("isclose", lambda a, b: numpy.isclose(a[..., None], b[0]), [A, B]),
    ("sort", lambda a: numpy.argsort(a, axis=1), [A]),
    ("result-type", lambda a, i: a.astype(numpy.result_type(a, i)), [A, I]),
    ("astype-view", lambda i: i.astype(numpy.float32).view("u4"), [I]),
    ("index-basic", lambda a: a[1, None, ::2, -1], [A]),
    ("index-ellipsis", lambda a: a[..., 1:3], [A]),
    ("index-arrays-adjacent", lambda a: a[:, [0, 2], [1, 3]], [A]),
    ("index-arrays-apart", lambda a: a[[0, 1], :, [1, 3]], [A]),
    ("index-array-broadcast", lambda a: a[IDX % 2, [[0, 1, 2]]], [A]),
]


def _meta_of(x):
    return MetaArray(x.shape, x.dtype)


@pytest.mark.parametrize("name,fn,arrays", CASES, ids=[c[0] for c in CASES])
def test_shape_and_dtype_match_numpy(name, fn, arrays):
    want = numpy.asarray(fn(*arrays))
    got = fn(*map(_meta_of, arrays))
    assert isinstance(got, MetaArray)
    assert (got.shape, got.dtype) == (want.shape, want.dtype)


def test_creation_in_the_meta_module():
    assert meta.zeros((2, 3), dtype="float32").shape == (2, 3)
    assert meta.full(4, 1.5).dtype == numpy.float64
    assert meta.arange(0, 1, 0.25).shape == (4,)
    assert meta.asarray([[1, 2, 3]]).shape == (1, 3)
    assert meta.asarray(2.0, dtype="float32").dtype == numpy.float32
    assert [t.shape for t in meta.indices((2, 3), sparse=True)] == [(2, 1), (1, 3)]
    assert meta.lib.stride_tricks.as_strided(meta.zeros(6), (2, 3), (0, 8)).shape == (2, 3)
    assert meta.float32 is numpy.float32 and meta.exp is numpy.exp  # the rest is NumPy's


def test_in_place_and_out_arguments_keep_the_array():
    a = MetaArray((2, 3), "float32")
    assert numpy.maximum(a, 1.0, out=a) is a
    a[0] = 1.0
    a[numpy.array([True, False])] = 0.0
    assert numpy.add.at(a, (0, 1), 1.0) is None
    with pytest.raises(ValueError):
        a[0] = numpy.zeros(4)
    with pytest.raises(ValueError):
        numpy.add(a, MetaArray((4,), "float32"))


def test_no_values_and_no_rule():
    a = MetaArray((3,), "float32")
    with pytest.raises(NotImplementedError, match="no data"):
        numpy.asarray(a)
    with pytest.raises(RuntimeError, match="cannot be called on meta tensors"):
        bool(a.sum())
    with pytest.raises(DeviceError, match="not supported on the meta device: numpy.unique"):
        numpy.unique(a)
    with pytest.raises(DeviceError, match="boolean mask"):
        a[a > 0]
    with pytest.raises(DeviceError, match="one device"):
        a + numpy.ones(3)
    assert (a + numpy.float32(1)).shape == (3,)
