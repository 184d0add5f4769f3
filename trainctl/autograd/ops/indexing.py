"""Indexing: ``x[key]`` (ints, slices, None, Ellipsis, boolean masks, integer arrays),
``gather``, ``index_select``, ``masked_fill``, ``one_hot`` and constant ``pad``.

Backward scatters the gradient into zeros. With integer-array indices the same element can be
picked twice, so the scatter accumulates (``xp.add.at``); basic slices and boolean masks pick each
element once and use a plain assignment, which is much faster.
"""

from __future__ import annotations

import numpy

from ...core import backend
from ...core.errors import ShapeError
from ..array_function import ArrayFunction, compute
from ..grad_mode import STATE
from ..tensor import Tensor
from ..trace import refuse_in_graph


def _plain_key(key):
    """Tensors inside an index become arrays; lists become integer/bool arrays."""
    if isinstance(key, Tensor):
        return key.array
    if isinstance(key, list):
        return numpy.asarray(key)
    if isinstance(key, tuple):
        return tuple(_plain_key(k) for k in key)
    return key


def _has_bool_array(key) -> bool:
    items = key if isinstance(key, tuple) else (key,)
    return any(hasattr(k, "dtype") and k.dtype.kind == "b" for k in items)


def _has_int_array(key) -> bool:
    items = key if isinstance(key, tuple) else (key,)
    return any(hasattr(k, "dtype") and k.dtype.kind in "iu" for k in items)


class GetItem(ArrayFunction):
    @staticmethod
    def forward(ctx, a, key):
        ctx.meta = (a.shape, a.dtype, key)
        try:
            return a[key]
        except IndexError as e:
            raise IndexError(f"index {key!r} is out of range for a tensor of shape "
                             f"{tuple(a.shape)}: {e}") from None

    @staticmethod
    def backward(ctx, grad):
        shape, dtype, key = ctx.meta
        xp = backend.get_array_module(grad)
        out = xp.zeros(shape, dtype=grad.dtype)
        if _has_int_array(key):
            xp.add.at(out, key, grad)  # repeated indices accumulate
        else:
            out[key] = grad
        return out


def getitem(a: Tensor, key) -> Tensor:
    """``a[key]`` with PyTorch/NumPy indexing."""
    key = _plain_key(key)
    if STATE.tracer is not None and _has_bool_array(key):
        refuse_in_graph("indexing with a boolean mask (the result's shape depends on the values)")
    if backend.cupy is not None and not isinstance(a.array, numpy.ndarray):
        key = _key_to_device(key, a)
    return GetItem.apply(a, key=key)


def _key_to_device(key, a):
    if isinstance(key, tuple):
        return tuple(_key_to_device(k, a) for k in key)
    if hasattr(key, "dtype"):
        return backend.to_device(key, a.device)
    return key


class Gather(ArrayFunction):
    @staticmethod
    def forward(ctx, a, index, axis):
        xp = backend.get_array_module(a)
        # PyTorch lets the index be smaller than the input outside `axis`.
        window = tuple(
            slice(None) if d == axis else slice(0, index.shape[d]) for d in range(a.ndim)
        )
        ctx.meta = (a.shape, index, axis)
        return xp.take_along_axis(a[window], index, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        shape, index, axis = ctx.meta
        xp = backend.get_array_module(grad)
        out = xp.zeros(shape, dtype=grad.dtype)
        xp.add.at(out, _full_index(xp, index, axis), grad)
        return out


def _full_index(xp, index, axis):
    """Index tuple that addresses ``out[..., index, ...]`` element by element."""
    grids = list(xp.indices(index.shape, sparse=True))
    grids[axis] = index
    return tuple(grids)


def _int64(index):
    """An index array as int64; a cast is an op, so a graph casts every new index again."""
    if index.dtype == numpy.int64:
        return index
    return compute(lambda d: d.astype(numpy.int64), index).array


def gather(a: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = a[i][index[i][j]]`` along ``dim`` (the index has a's number of dims)."""
    idx = index.array if isinstance(index, Tensor) else numpy.asarray(index)
    if idx.ndim != a.array.ndim:
        raise ShapeError(
            f"gather: index has {idx.ndim} dimensions but the input has {a.array.ndim}"
        )
    return Gather.apply(a, index=_int64(idx), axis=dim % a.array.ndim)


class IndexSelect(ArrayFunction):
    @staticmethod
    def forward(ctx, a, index, axis):
        xp = backend.get_array_module(a)
        ctx.meta = (a.shape, index, axis)
        return xp.take(a, index, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        shape, index, axis = ctx.meta
        xp = backend.get_array_module(grad)
        out = xp.zeros(shape, dtype=grad.dtype)
        xp.add.at(out, (slice(None),) * axis + (index,), grad)
        return out


def index_select(a: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of ``index`` (1-D) along ``dim``."""
    idx = index.array if isinstance(index, Tensor) else numpy.asarray(index)
    if idx.ndim > 1:
        raise ShapeError(f"index_select: index must be 1-D, got shape {tuple(idx.shape)}")
    idx = idx if idx.ndim == 1 else idx.reshape(-1)  # the array itself: a graph then follows it
    return IndexSelect.apply(a, index=idx, axis=dim % max(a.array.ndim, 1))


class MaskedFill(ArrayFunction):
    @staticmethod
    def forward(ctx, a, mask, value):
        xp = backend.get_array_module(a)
        ctx.mask = mask
        return xp.where(mask, xp.asarray(value, dtype=a.dtype), a)

    @staticmethod
    def backward(ctx, grad):
        xp = backend.get_array_module(grad)
        return xp.where(ctx.mask, 0, grad)


def masked_fill(a: Tensor, mask: Tensor, value) -> Tensor:
    """``a`` with ``value`` where the boolean ``mask`` (broadcastable) is true."""
    m = mask.array if isinstance(mask, Tensor) else numpy.asarray(mask)
    if m.dtype.kind != "b":
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {m.dtype}")
    if isinstance(value, Tensor):
        value = value.item()
    return MaskedFill.apply(a, mask=m, value=value)


def one_hot(a: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (int64) -> one-hot int64 tensor with a trailing class dimension."""
    data = a.array
    if data.dtype.kind not in "iu":
        raise TypeError(f"one_hot is only applicable to index tensors, got {a.dtype}")
    if num_classes == -1:
        refuse_in_graph("one_hot() without num_classes (the shape depends on the values)")
    xp = backend.get_array_module(data)
    if num_classes == -1:
        num_classes = int(data.max()) + 1 if data.size else 0
    if data.size and not backend.is_meta(data) and (data.min() < 0 or data.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes})")
    classes = xp.arange(num_classes)
    return compute(lambda d: (d[..., None] == classes).astype(xp.int64), a)


class Pad(ArrayFunction):
    @staticmethod
    def forward(ctx, a, pads, value):
        xp = backend.get_array_module(a)
        src, dst, out_shape = [], [], []
        for size, (before, after) in zip(a.shape, pads):
            lo, hi = max(0, -before), size - max(0, -after)
            length = max(hi - lo, 0)
            src.append(slice(lo, lo + length))
            dst.append(slice(max(0, before), max(0, before) + length))
            out_shape.append(size + before + after)
        if any(s < 0 for s in out_shape):
            raise ShapeError(f"pad: padding {pads} makes a negative size from {tuple(a.shape)}")
        out = xp.full(out_shape, value, dtype=a.dtype)
        out[tuple(dst)] = a[tuple(src)]
        ctx.meta = (a.shape, tuple(src), tuple(dst))
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, src, dst = ctx.meta
        xp = backend.get_array_module(grad)
        out = xp.zeros(shape, dtype=grad.dtype)
        out[src] = grad[dst]
        return out


def pad(a: Tensor, pad, mode: str = "constant", value=0.0) -> Tensor:
    """Pad (or crop, with negative values) the last dimensions.

    ``pad`` lists (before, after) pairs starting from the LAST dimension, as in PyTorch:
    ``pad(x, (1, 1, 2, 0))`` pads the last dim by 1 on each side and the one before by 2 in front.
    """
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported here; use 'constant'")
    if len(pad) % 2 or len(pad) // 2 > a.array.ndim:
        raise ShapeError(
            f"pad: padding length {len(pad)} must be even and at most 2 * ndim ({a.array.ndim})"
        )
    pairs = [(0, 0)] * a.array.ndim
    for i in range(len(pad) // 2):
        pairs[a.array.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return Pad.apply(a, pads=tuple(pairs), value=value if value is not None else 0)


# ---------------------------------------------------------------------------- scatter


def _scatter_args(self: Tensor, dim: int, index, src, value):
    if src is not None and value is None and numpy.isscalar(src):
        src, value = None, src  # scatter_(dim, index, 1.0): a number is the value
    index = index.array if isinstance(index, Tensor) else numpy.asarray(index)
    if index.ndim == 0 and self.array.ndim == 1:
        index = index.reshape(1)  # PyTorch accepts a 0-d index into a 1-d tensor
    if index.ndim != self.array.ndim:
        raise ShapeError(f"scatter: index has {index.ndim} dimensions but the tensor has "
                         f"{self.array.ndim}")
    if (src is None) == (value is None):
        raise TypeError("scatter: pass exactly one of src (a tensor) or value (a number)")
    if index.dtype.kind not in "iu":
        raise TypeError(f"scatter: index must be an integer tensor, got {index.dtype}")
    return dim % self.array.ndim, _int64(index), src, value


class Scatter(ArrayFunction):
    @staticmethod
    def forward(ctx, a, src, index, axis):
        out = a.copy()
        where = _full_index(backend.get_array_module(a), index, axis)
        ctx.meta = (where, index.shape, None if numpy.isscalar(src) else src.shape)
        out[where] = src if numpy.isscalar(src) else src[tuple(slice(0, n) for n in index.shape)]
        return out

    @staticmethod
    def backward(ctx, grad):
        where, index_shape, src_shape = ctx.meta
        xp = backend.get_array_module(grad)
        grad_a = grad_src = None
        if ctx.needs_input_grad[0]:
            grad_a = grad.copy()
            grad_a[where] = 0
        if src_shape is not None and ctx.needs_input_grad[1]:
            grad_src = xp.zeros(src_shape, dtype=grad.dtype)
            grad_src[tuple(slice(0, n) for n in index_shape)] = grad[where]
        return grad_a, grad_src


def scatter(self: Tensor, dim: int, index, src=None, value=None) -> Tensor:
    """Out of place: ``out[index[i][j]][j] = src[i][j]`` (for ``dim=0``), or ``value``.

    Differentiable in ``self`` and ``src``. Repeated indices keep one of the written values.
    """
    dim, index, src, value = _scatter_args(self, dim, index, src, value)
    index = backend.to_device(index, self.device)
    fill = src if src is not None else value
    if isinstance(fill, Tensor):
        return Scatter.apply(self, fill, index=index, axis=dim)
    return Scatter.apply(self, float(fill) if self.is_floating_point() else fill,
                         index=index, axis=dim)


def scatter_(self: Tensor, dim: int, index, src=None, value=None) -> Tensor:
    """In place form of :func:`scatter` (use under ``tc.no_grad()`` on tensors in a graph)."""
    dim, index, src, value = _scatter_args(self, dim, index, src, value)
    self._check_inplace("scatter_")
    xp = backend.get_array_module(self.array)
    where = _full_index(xp, backend.to_device(index, self.device), dim)
    if src is not None:
        data = src.array if isinstance(src, Tensor) else xp.asarray(src)
        self.array[where] = data[tuple(slice(0, n) for n in index.shape)]
    else:
        self.array[where] = value.item() if isinstance(value, Tensor) else value
    return self
