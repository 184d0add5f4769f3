"""The array module of the ``meta`` device: what ``get_array_module`` answers for meta arrays.

It makes :class:`~trainctl.core.meta_array.MetaArray` s where NumPy would make arrays
(``xp.zeros(shape)``, ``xp.asarray(1.0)``, ``xp.arange(n)``), holds the shape rules of the NumPy
functions trainctl's ops call (:data:`~trainctl.core.meta_array.FUNCTIONS`, reached through
NumPy's ``__array_function__``), and lets every other name fall through to NumPy: dtypes,
``errstate`` and the ufuncs, which hand meta arrays to ``MetaArray.__array_ufunc__``.

Example:
    >>> a = zeros((10**6, 10**6), dtype="float32")
    >>> numpy.where(a > 0, a, 0.0).shape, concatenate([a, a], axis=1).shape
    ((1000000, 1000000), (1000000, 2000000))
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy

from .meta_array import (
    FUNCTIONS,
    MetaArray,
    axes_of,
    cumulative,
    dot,
    dtype_of,
    out_or,
    probe,
    reshaped,
    shape_of,
    unsupported,
)

# ---------------------------------------------------------------------- creation


def asarray(a, dtype=None, order=None, **kwargs) -> MetaArray:
    """``a`` (a number, list, NumPy or meta array) as a MetaArray of its shape and dtype."""
    if isinstance(a, MetaArray):
        return a if dtype is None or numpy.dtype(dtype) == a.dtype else a.astype(dtype)
    if isinstance(a, (list, tuple)) and any(isinstance(v, MetaArray) for v in a):
        return stack(a, dtype=dtype)
    if hasattr(a, "shape") and hasattr(a, "dtype"):  # a NumPy or CuPy array: no copy, no data
        return MetaArray(a.shape, a.dtype if dtype is None else dtype)
    # Python data (a constant of an op): NumPy says its shape and dtype.
    host = numpy.asarray(a, dtype=dtype)
    return MetaArray(host.shape, host.dtype)


array = asanyarray = ascontiguousarray = asarray


def empty(shape, dtype=float, order="C", **kwargs) -> MetaArray:
    return MetaArray((shape,) if isinstance(shape, int) else shape, dtype)


zeros = ones = empty


def full(shape, fill_value, dtype=None, order="C", **kwargs) -> MetaArray:
    return empty(shape, dtype if dtype is not None else numpy.asarray(fill_value).dtype)


def arange(start, stop=None, step=1, dtype=None, **kwargs) -> MetaArray:
    if stop is None:
        start, stop = 0, start
    count = max(int(math.ceil((stop - start) / step)), 0)
    return MetaArray((count,), dtype or numpy.arange(start, start + step, step).dtype)


def eye(n, m=None, k=0, dtype=float, **kwargs) -> MetaArray:
    return MetaArray((n, n if m is None else m), dtype)


def indices(dimensions, dtype=int, sparse=False):
    dims = tuple(dimensions)
    if not sparse:
        return MetaArray((len(dims),) + dims, dtype)
    return tuple(MetaArray(tuple(d if i == j else 1 for j, d in enumerate(dims)), dtype)
                 for i in range(len(dims)))


def as_strided(x, shape=None, strides=None, **kwargs) -> MetaArray:
    # A view: only its shape matters here (the strides say where its elements would be).
    return MetaArray(x.shape if shape is None else shape, x.dtype)


def sliding_window_view(x, window_shape, axis=None, **kwargs) -> MetaArray:
    window = (window_shape,) if isinstance(window_shape, int) else tuple(window_shape)
    axes = axes_of(tuple(range(x.ndim)) if axis is None else axis, x.ndim)
    shape = list(x.shape)
    for a, w in zip(axes, window):
        shape[a] -= w - 1
    return MetaArray(tuple(shape) + window, x.dtype)


lib = SimpleNamespace(stride_tricks=SimpleNamespace(as_strided=as_strided,
                                                    sliding_window_view=sliding_window_view))


def __getattr__(name: str):
    # Everything else is NumPy's own: dtypes, errstate, and the ufuncs (xp.exp, xp.maximum),
    # which hand meta arrays to MetaArray.__array_ufunc__ themselves.
    return getattr(numpy, name)


# ---------------------------------------------------------------------- shape rules


def _like(a, dtype=None, order="K", subok=True, shape=None, **kwargs) -> MetaArray:
    return MetaArray(shape_of(a) if shape is None else shape, dtype or dtype_of(a))


def _full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kwargs):
    return _like(a, dtype, shape=shape)


def _same(a, *args, **kwargs) -> MetaArray:
    return MetaArray(shape_of(a), dtype_of(a))


def _where(condition, *values):
    if not values:
        return unsupported("numpy.where with one argument (nonzero)")
    dtype = numpy.where(*map(probe, (condition, *values))).dtype
    return MetaArray(numpy.broadcast_shapes(*map(shape_of, (condition, *values))), dtype)


def concatenate(arrays, axis=0, out=None, dtype=None, **kwargs) -> MetaArray:
    arrays = [asarray(a) for a in arrays]
    dtype = dtype or numpy.result_type(*(a.dtype for a in arrays))
    if axis is None:
        return MetaArray((sum(a.size for a in arrays),), dtype)
    first = arrays[0].shape
    ax = axes_of(axis, len(first))[0]
    for a in arrays[1:]:
        if len(a.shape) != len(first) or any(
                s != t for i, (s, t) in enumerate(zip(a.shape, first)) if i != ax):
            raise ValueError("all the input array dimensions except for the concatenation axis "
                             f"must match exactly, got {first} and {a.shape} (axis {ax})")
    shape = first[:ax] + (sum(a.shape[ax] for a in arrays),) + first[ax + 1:]
    return out_or(out, MetaArray(shape, dtype))


def stack(arrays, axis=0, out=None, dtype=None, **kwargs) -> MetaArray:
    arrays = [asarray(a) for a in arrays]
    if len({a.shape for a in arrays}) > 1:
        raise ValueError("all input arrays must have the same shape")
    shape = arrays[0].shape
    ax = axes_of(axis, len(shape) + 1)[0]
    dtype = dtype or numpy.result_type(*(a.dtype for a in arrays))
    return out_or(out, MetaArray(shape[:ax] + (len(arrays),) + shape[ax:], dtype))


def _broadcast_to(a, shape, subok=False):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if numpy.broadcast_shapes(shape_of(a), shape) != shape:
        raise ValueError(f"cannot broadcast a {shape_of(a)} array to shape {shape}")
    return MetaArray(shape, dtype_of(a))


def _broadcast_arrays(*args, subok=False):
    shape = numpy.broadcast_shapes(*map(shape_of, args))
    return tuple(MetaArray(shape, dtype_of(a)) for a in args)


def _moveaxis(a, source, destination):
    src = axes_of(source, a.ndim)
    dst = axes_of(destination, a.ndim)
    order = [n for n in range(a.ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return a.transpose(order)


def _expand_dims(a, axis):
    count = len(axis) if isinstance(axis, (tuple, list)) else 1
    axes = set(axes_of(axis, a.ndim + count))
    rest = iter(a.shape)
    return MetaArray(tuple(1 if i in axes else next(rest) for i in range(a.ndim + count)),
                     a.dtype)


def _take_along_axis(arr, indices, axis=-1):
    ax = axes_of(axis, arr.ndim)[0]
    shape = list(numpy.broadcast_shapes(
        arr.shape[:ax] + (1,) + arr.shape[ax + 1:],
        indices.shape[:ax] + (1,) + indices.shape[ax + 1:]))
    shape[ax] = indices.shape[ax]
    return MetaArray(tuple(shape), arr.dtype)


def _take(a, indices, axis=None, out=None, mode="raise"):
    idx = shape_of(indices) if hasattr(indices, "shape") else numpy.shape(indices)
    if axis is None:
        return MetaArray(idx, a.dtype)
    ax = axes_of(axis, a.ndim)[0]
    return out_or(out, MetaArray(a.shape[:ax] + idx + a.shape[ax + 1:], a.dtype))


def _tile(a, reps):
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    shape = shape_of(a)
    n = max(len(reps), len(shape))
    shape = (1,) * (n - len(shape)) + shape
    reps = (1,) * (n - len(reps)) + reps
    return MetaArray(tuple(s * r for s, r in zip(shape, reps)), a.dtype)


def _repeat(a, repeats, axis=None):
    if not isinstance(repeats, int):
        return unsupported("numpy.repeat with per-element counts")
    if axis is None:
        return MetaArray((a.size * repeats,), a.dtype)
    ax = axes_of(axis, a.ndim)[0]
    return MetaArray(a.shape[:ax] + (a.shape[ax] * repeats,) + a.shape[ax + 1:], a.dtype)


def _einsum(subscripts, *operands, out=None, dtype=None, **kwargs):
    if not isinstance(subscripts, str):
        return unsupported("numpy.einsum in the sublist form")
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    sizes, ellipses = {}, []
    for term, op in zip(inputs.split(","), operands):
        shape = shape_of(op)
        pre, dots, post = term.partition("...")
        middle = len(shape) - len(pre) - len(post)
        if dots:
            ellipses.append(shape[len(pre):len(pre) + middle])
        for letter, size in zip(pre + post, shape[:len(pre)] + shape[len(pre) + middle:]):
            known = sizes.get(letter, size)
            if known != size and 1 not in (known, size):
                raise ValueError(f"einsum: size of label '{letter}' does not match: "
                                 f"{known} != {size}")
            sizes[letter] = max(known, size)
    if not arrow:  # implicit output: the labels seen once, sorted
        once = sorted(c for c in sizes if inputs.count(c) == 1)
        output = ("..." if ellipses else "") + "".join(once)
    pre, _, post = output.partition("...")
    middle = numpy.broadcast_shapes(*ellipses) if ellipses else ()
    shape = tuple(sizes[c] for c in pre) + middle + tuple(sizes[c] for c in post)
    dtype = dtype or numpy.result_type(*map(dtype_of, operands))
    return out_or(out, MetaArray(shape, dtype))


def _tensordot(a, b, axes=2):
    if isinstance(axes, int):
        axes_a, axes_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        axes_a, axes_b = ([x] if isinstance(x, int) else list(x) for x in axes)
    axes_a, axes_b = axes_of(tuple(axes_a), a.ndim), axes_of(tuple(axes_b), b.ndim)
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError("shape-mismatch for sum")
    shape = tuple(s for i, s in enumerate(a.shape) if i not in axes_a) + \
        tuple(s for j, s in enumerate(b.shape) if j not in axes_b)
    return MetaArray(shape, numpy.result_type(a.dtype, b.dtype))


def _clip(a, a_min=None, a_max=None, out=None, **kwargs):
    dtype = numpy.clip(probe(a), probe(a_min), probe(a_max)).dtype
    shape = numpy.broadcast_shapes(*map(shape_of, (a, a_min, a_max)))
    return out_or(out, MetaArray(shape, dtype))


def _method(name):
    """A NumPy function that is also an array method: ``numpy.sum(a, ...)`` -> ``a.sum(...)``."""
    return lambda a, *args, **kwargs: getattr(asarray(a), name)(*args, **kwargs)


def _isclose(a, b, *args, **kwargs):
    return MetaArray(numpy.broadcast_shapes(shape_of(a), shape_of(b)), bool)


def _sort(a, axis=-1, **kwargs):
    return MetaArray(a.shape if axis is not None else (a.size,), a.dtype)


def _argsort(a, axis=-1, **kwargs):
    return MetaArray(a.shape if axis is not None else (a.size,), numpy.intp)


def _cumulative(fn):
    return lambda a, axis=None, dtype=None, out=None: cumulative(a, axis, fn, dtype)


def _pad(array, pad_width, mode="constant", **kwargs):
    widths = numpy.broadcast_to(numpy.asarray(pad_width, dtype=int), (array.ndim, 2))
    return MetaArray(tuple(s + int(lo) + int(hi) for s, (lo, hi) in zip(array.shape, widths)),
                     array.dtype)


def _split(ary, indices_or_sections, axis=0):
    ax = axes_of(axis, ary.ndim)[0]
    n = ary.shape[ax]
    if isinstance(indices_or_sections, int):
        base, extra = divmod(n, indices_or_sections)
        sizes = [base + (i < extra) for i in range(indices_or_sections)]
    else:
        bounds = [0, *(min(int(i), n) for i in indices_or_sections), n]
        sizes = [max(hi - lo, 0) for lo, hi in zip(bounds, bounds[1:])]
    return [MetaArray(ary.shape[:ax] + (s,) + ary.shape[ax + 1:], ary.dtype) for s in sizes]


def _reshape(a, *args, **kwargs):
    shape = kwargs.get("shape", kwargs.get("newshape", args[0] if args else None))
    return MetaArray(reshaped(a.size, (shape,) if isinstance(shape, int) else shape), a.dtype)


def _squeeze(a, axis=None):
    return a.squeeze(axis)


def _bincount(x, weights=None, minlength=0):
    # Only with minlength: the bins a backward scatters into (indices known to be in range).
    if not minlength:
        return unsupported("numpy.bincount (the result's size depends on the values)")
    return MetaArray((minlength,), numpy.float64 if weights is not None else numpy.intp)


def _result_type(*arrays_and_dtypes):
    return numpy.result_type(*(x.dtype if isinstance(x, MetaArray) else x
                               for x in arrays_and_dtypes))


def _reduce(name):
    def rule(a, axis=None, *args, **kwargs):
        return getattr(asarray(a), name)(axis, *args, **kwargs)

    return rule


FUNCTIONS.update({
    numpy.where: _where, numpy.concatenate: concatenate, numpy.stack: stack,
    numpy.broadcast_to: _broadcast_to, numpy.broadcast_arrays: _broadcast_arrays,
    numpy.moveaxis: _moveaxis, numpy.expand_dims: _expand_dims, numpy.squeeze: _squeeze,
    numpy.transpose: lambda a, axes=None: a.transpose(axes) if axes is not None else a.T,
    numpy.swapaxes: _method("swapaxes"), numpy.reshape: _reshape, numpy.ravel: _method("ravel"),
    numpy.take_along_axis: _take_along_axis, numpy.put_along_axis: lambda *a, **k: None,
    numpy.copyto: lambda *a, **k: None, numpy.take: _take, numpy.tile: _tile,
    numpy.repeat: _repeat, numpy.flip: _same, numpy.einsum: _einsum,
    numpy.tensordot: _tensordot, numpy.dot: dot,
    numpy.vdot: lambda a, b: MetaArray((), numpy.result_type(dtype_of(a), dtype_of(b))),
    numpy.outer: lambda a, b, out=None: MetaArray(
        (math.prod(shape_of(a)), math.prod(shape_of(b))),
        numpy.result_type(dtype_of(a), dtype_of(b))),
    numpy.zeros_like: _like, numpy.ones_like: _like, numpy.empty_like: _like,
    numpy.full_like: _full_like, numpy.copy: _same, numpy.clip: _clip,
    numpy.round: _same, numpy.around: _same, numpy.nan_to_num: _same, numpy.tril: _same,
    numpy.triu: _same, numpy.isclose: _isclose, numpy.sort: _sort, numpy.argsort: _argsort,
    numpy.cumsum: _cumulative(numpy.cumsum), numpy.cumprod: _cumulative(numpy.cumprod),
    numpy.result_type: _result_type, numpy.pad: _pad, numpy.bincount: _bincount,
    numpy.split: _split, numpy.array_split: _split,
    numpy.shape: shape_of, numpy.ndim: lambda a: len(shape_of(a)),
    numpy.size: lambda a, axis=None: a.size if axis is None else a.shape[axis],
    numpy.shares_memory: lambda *a, **k: False, numpy.may_share_memory: lambda *a, **k: False,
    numpy.lib.stride_tricks.sliding_window_view: sliding_window_view,
    **{getattr(numpy, name): _reduce(name) for name in (
        "sum", "mean", "prod", "var", "std", "max", "min", "argmax", "argmin", "any", "all")},
    numpy.amax: _reduce("max"), numpy.amin: _reduce("min"),
})
