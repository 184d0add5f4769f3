"""``MetaArray``: the data of a tensor on the ``meta`` device, a shape and a dtype, no elements.

trainctl's ops run on it unchanged: NumPy hands every ufunc (``a + b``, ``numpy.exp``) and every
array function (``numpy.where``, ``numpy.concatenate``...) that meets a MetaArray to its
``__array_ufunc__`` and ``__array_function__`` (NumPy's own override protocols, NEP 13 and 18),
which compute the result's shape and dtype only. The rules of the array functions are in
``meta.py`` (:data:`FUNCTIONS`), which is also the array module of meta arrays.

A call with no rule raises ``DeviceError: not supported on the meta device: <op>``; values cannot
be read (``item``, ``tolist``, ``bool``).

Example:
    >>> a = MetaArray((10**6, 10**6), "float32")
    >>> (a @ a.T * 2).sum(axis=0).shape
    (1000000,)
"""

from __future__ import annotations

import math
import sys
from types import SimpleNamespace

import numpy
from numpy.lib.mixins import NDArrayOperatorsMixin

from .errors import DeviceError

NO_DATA = "Cannot copy out of meta tensor; no data!"

# numpy function -> its shape rule, filled by meta.py (the rules build MetaArrays).
FUNCTIONS: dict = {}


def unsupported(what: str):
    """Raise the one error of an op that has no shape rule, naming the trainctl op when a
    ``Function.forward``/``backward`` is on the stack (its ``ctx``), else the NumPy call."""
    frame = sys._getframe(1)
    while frame is not None:
        ctx = frame.f_locals.get("ctx") if frame.f_code.co_name in ("forward", "backward") \
            else None
        if ctx is not None:
            step = "" if frame.f_code.co_name == "forward" else " backward"
            what = f"{type(ctx).__name__}{step} ({what})"
            break
        frame = frame.f_back
    raise DeviceError(f"not supported on the meta device: {what}")


def shape_of(x) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else ()


def probe(x):
    """A stand-in for ``x`` with its dtype and no elements, for NumPy to resolve dtypes on.

    Python scalars and 0-d arrays stay as they are (NumPy types them by its own rules); a CPU
    array with dimensions is refused, as PyTorch refuses a CPU tensor in an op on meta tensors.
    """
    if isinstance(x, MetaArray):
        return numpy.empty(0, x.dtype)
    if isinstance(x, numpy.ndarray) and x.ndim:
        raise DeviceError(
            "expected all tensors on one device, got tensors on cpu and meta; "
            "move them with .to(device)"
        )
    return x


def is_mask(key) -> bool:
    """Whether an index holds a boolean array (it selects by value, which meta arrays lack)."""
    keys = key if isinstance(key, tuple) else (key,)
    return any(getattr(k, "dtype", None) is not None and k.dtype.kind == "b" for k in keys)


def axes_of(axis, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise numpy.exceptions.AxisError(a, ndim)
        out.append(a % ndim if ndim else 0)
    return tuple(out)


def reduced(shape: tuple, axis, keepdims: bool) -> tuple:
    axes = set(axes_of(axis, len(shape)))
    if keepdims:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def reshaped(size: int, shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    shape = [int(s) for s in shape]
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        shape[shape.index(-1)] = size // known if known else 0
    if math.prod(shape) != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {tuple(shape)}")
    return tuple(shape)


def matmul_shape(a: tuple, b: tuple) -> tuple:
    if not a or not b:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    a2, b2 = (a if len(a) > 1 else (1,) + a), (b if len(b) > 1 else b + (1,))
    if a2[-1] != b2[-2]:
        raise ValueError(
            f"matmul: Input operand 1 has a mismatch in its core dimension 0 (size {b2[-2]} "
            f"is different from {a2[-1]})"
        )
    out = numpy.broadcast_shapes(a2[:-2], b2[:-2]) + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def index_shape(shape: tuple, key) -> tuple:
    """The shape of ``array[key]`` with NumPy's rules, without the array."""
    key = key if isinstance(key, tuple) else (key,)
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    if is_mask(key):
        unsupported("boolean mask indexing (the result's size depends on the values)")
    dots = [i for i, k in enumerate(key) if k is Ellipsis]
    if dots:
        i = dots[0]
        key = key[:i] + (slice(None),) * (len(shape) - used) + key[i + 1:]
    key = key + (slice(None),) * (len(shape) - sum(1 for k in key if k is not None))
    out, arrays, first, dim = [], [], None, 0
    for k in key:
        if k is None:
            out.append(1)
            continue
        if dim >= len(shape):
            raise IndexError(f"too many indices for array: array is {len(shape)}-dimensional")
        if isinstance(k, slice):
            out.append(len(range(*k.indices(shape[dim]))))
        elif hasattr(k, "shape") or isinstance(k, (list, tuple)):
            arrays.append(shape_of(k) if hasattr(k, "shape") else numpy.shape(k))
            first = len(out) if first is None else first
            out.append(None)  # the broadcast index shape goes here
        else:
            if not -shape[dim] <= int(k) < shape[dim]:
                raise IndexError(f"index {int(k)} is out of bounds for axis {dim} with size "
                                 f"{shape[dim]}")
        dim += 1
    if not arrays:
        return tuple(out)
    spots = [i for i, s in enumerate(out) if s is None]
    rest = [s for s in out if s is not None]
    together = spots == list(range(spots[0], spots[0] + len(spots)))
    index = numpy.broadcast_shapes(*arrays)
    if together:  # adjacent index arrays keep their place, separated ones go first
        return tuple(rest[:first]) + index + tuple(rest[first:])
    return index + tuple(rest)


class MetaArray(NDArrayOperatorsMixin):
    """An array of ``shape`` and ``dtype`` with no elements (the data of a meta tensor).

    Example:
        >>> (MetaArray((2, 3), "float32") * 2.0).dtype
        dtype('float32')
    """

    __slots__ = ("shape", "dtype")
    # Read by code that decides whether to copy: a meta array owns its (empty) storage.
    flags = SimpleNamespace(owndata=True, writeable=True, c_contiguous=True, f_contiguous=False)

    def __init__(self, shape, dtype):
        self.shape = tuple(int(s) for s in shape)
        self.dtype = numpy.dtype(dtype)

    # ------------------------------------------------------------------ attributes
    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: math.prod(self.shape))
    itemsize = property(lambda self: self.dtype.itemsize)
    nbytes = property(lambda self: self.size * self.dtype.itemsize)
    T = property(lambda self: self.transpose())
    mT = property(lambda self: self.swapaxes(-1, -2))

    @property
    def strides(self) -> tuple:
        strides, step = [], self.dtype.itemsize
        for s in reversed(self.shape):
            strides.append(step)
            step *= max(s, 1)
        return tuple(reversed(strides))

    def __repr__(self) -> str:
        return f"MetaArray(shape={self.shape}, dtype={self.dtype})"

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    # ------------------------------------------------------------------ no values
    def item(self, *args):
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    __bool__ = __float__ = __int__ = __index__ = item

    def get(self):
        raise NotImplementedError(NO_DATA)

    tolist = get

    def __array__(self, dtype=None, copy=None):
        raise NotImplementedError(NO_DATA)

    # ------------------------------------------------------------------ NumPy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if method == "at":
            return None  # an in-place scatter: nothing to write
        if method == "__call__":
            if ufunc is numpy.matmul:
                a, b = inputs
                probe(a), probe(b)  # refuses a CPU operand, as elementwise ops do
                shape = matmul_shape(shape_of(a), shape_of(b))
                return out_or(out, MetaArray(shape, numpy.result_type(*map(dtype_of, inputs))))
            kwargs.pop("where", None)
            result = ufunc(*map(probe, inputs), **kwargs)
            shape = numpy.broadcast_shapes(*map(shape_of, inputs))
            if isinstance(result, tuple):
                return tuple(MetaArray(shape, r.dtype) for r in result)
            return out_or(out, MetaArray(shape, result.dtype))
        if method in ("reduce", "accumulate"):
            (a,) = inputs
            axis = kwargs.get("axis", 0)
            dtype = ufunc.reduce(numpy.zeros(1, a.dtype), dtype=kwargs.get("dtype")).dtype
            if method == "accumulate":
                return MetaArray(a.shape, dtype)
            return out_or(out, MetaArray(reduced(a.shape, axis, kwargs.get("keepdims")), dtype))
        return unsupported(f"numpy.{ufunc.__name__}.{method}")

    def __array_function__(self, func, types, args, kwargs):
        rule = FUNCTIONS.get(func)
        if rule is None:
            return unsupported(f"numpy.{func.__name__}")
        return rule(*args, **kwargs)

    # ------------------------------------------------------------------ methods
    def astype(self, dtype, copy=True, **kwargs) -> MetaArray:
        return MetaArray(self.shape, dtype)

    def view(self, dtype=None, *args) -> MetaArray:
        if dtype is None or numpy.dtype(dtype).itemsize == self.dtype.itemsize:
            return MetaArray(self.shape, self.dtype if dtype is None else dtype)
        return unsupported("view with a dtype of another size")

    def copy(self, order="C") -> MetaArray:
        return MetaArray(self.shape, self.dtype)

    def reshape(self, *shape, order="C") -> MetaArray:
        return MetaArray(reshaped(self.size, shape), self.dtype)

    def ravel(self, order="C") -> MetaArray:
        return MetaArray((self.size,), self.dtype)

    flatten = ravel

    def transpose(self, *axes) -> MetaArray:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = axes[0]
        axes = axes_of(tuple(axes), self.ndim) if axes else tuple(reversed(range(self.ndim)))
        return MetaArray(tuple(self.shape[a] for a in axes), self.dtype)

    def swapaxes(self, a: int, b: int) -> MetaArray:
        order = list(range(self.ndim))
        a, b = axes_of((a, b), self.ndim)
        order[a], order[b] = order[b], order[a]
        return self.transpose(order)

    def squeeze(self, axis=None) -> MetaArray:
        if axis is None:
            axis = tuple(i for i, s in enumerate(self.shape) if s == 1)
        return MetaArray(reduced(self.shape, axis, False), self.dtype)

    def _reduce(self, name, axis=None, dtype=None, out=None, keepdims=False):
        # NumPy says the result's dtype (int sums are int64, int means float64...) on one zero.
        one = numpy.zeros(1, self.dtype)
        typed = name not in ("argmax", "argmin", "max", "min", "any", "all")
        dtype = (getattr(one, name)(dtype=dtype) if typed else getattr(one, name)()).dtype
        return out_or(out, MetaArray(reduced(self.shape, axis, keepdims), dtype))

    def sum(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        return self._reduce("sum", axis, dtype, out, keepdims)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        return self._reduce("prod", axis, dtype, out, keepdims)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        return self._reduce("mean", axis, dtype, out, keepdims)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
        return self._reduce("var", axis, dtype, out, keepdims)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
        return self._reduce("std", axis, dtype, out, keepdims)

    def max(self, axis=None, out=None, keepdims=False, **kwargs):
        return self._reduce("max", axis, None, out, keepdims)

    def min(self, axis=None, out=None, keepdims=False, **kwargs):
        return self._reduce("min", axis, None, out, keepdims)

    def argmax(self, axis=None, out=None, keepdims=False):
        return self._reduce("argmax", axis, None, out, keepdims)

    def argmin(self, axis=None, out=None, keepdims=False):
        return self._reduce("argmin", axis, None, out, keepdims)

    def any(self, axis=None, out=None, keepdims=False, **kwargs):
        return self._reduce("any", axis, None, out, keepdims)

    def all(self, axis=None, out=None, keepdims=False, **kwargs):
        return self._reduce("all", axis, None, out, keepdims)

    def cumsum(self, axis=None, dtype=None, out=None):
        return cumulative(self, axis, numpy.cumsum, dtype)

    def cumprod(self, axis=None, dtype=None, out=None):
        return cumulative(self, axis, numpy.cumprod, dtype)

    def clip(self, min=None, max=None, out=None, **kwargs):
        return numpy.clip(self, min, max, out=out)

    def fill(self, value) -> None:
        return None

    def __getitem__(self, key) -> MetaArray:
        return MetaArray(index_shape(self.shape, key), self.dtype)

    def __setitem__(self, key, value) -> None:
        # Nothing to write. A masked assignment (optimizers' `step[flipped] = 0`) keeps every
        # shape, so it is accepted; other keys are checked as NumPy would.
        if not is_mask(key):
            numpy.broadcast_shapes(index_shape(self.shape, key), shape_of(value))

    def dot(self, other):
        return dot(self, other)

    def nonzero(self):
        return unsupported("nonzero (the result's size depends on the values)")


def dtype_of(x):
    return x.dtype if hasattr(x, "dtype") else numpy.asarray(x).dtype


def out_or(out, result: MetaArray):
    """``result``, or ``out`` (a NumPy ``out=`` argument) after checking that it fits."""
    if out is None:
        return result
    target = out[0] if isinstance(out, tuple) else out
    if numpy.broadcast_shapes(target.shape, result.shape) != target.shape:
        raise ValueError(f"non-broadcastable output operand with shape {target.shape} doesn't "
                         f"match the broadcast shape {result.shape}")
    return target


def cumulative(a, axis, fn, dtype=None):
    dtype = fn(numpy.zeros(1, a.dtype), dtype=dtype).dtype
    return MetaArray(a.shape if axis is not None else (a.size,), dtype)


def dot(a, b):
    sa, sb = shape_of(a), shape_of(b)
    dtype = numpy.result_type(dtype_of(a), dtype_of(b))
    if len(sa) <= 2 and len(sb) <= 2:
        return MetaArray(matmul_shape(sa, sb) if sa and sb else
                         numpy.broadcast_shapes(sa, sb), dtype)
    return unsupported("numpy.dot of arrays above 2-D")
