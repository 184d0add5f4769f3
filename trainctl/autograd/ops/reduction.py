"""Reductions: ``sum, mean, prod, max, min, amax, amin, var, std, norm``.

``dim`` is an int, a tuple of ints or None (all dimensions); ``keepdim`` keeps reduced dimensions
with size 1. Gradients follow PyTorch, including how ties share a gradient: ``max(dim)`` sends it
to the returned index, while ``amax``/``amin`` and the all-element ``max()`` split it evenly.
The softmax family (``softmax``, ``log_softmax``, ``logsumexp``) is in ``softmax.py``.

Example:
    >>> import trainctl as tc
    >>> sum(tc.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=1)
    tensor([3., 7.])
"""

from __future__ import annotations

import builtins
from collections import namedtuple

import numpy

from ...core import backend, dtypes
from ..array_function import ArrayFunction, compute
from ..tensor import Tensor
from .promotion import cast
from .selection import maximum, minimum
from .shape import squeeze
from .unary import abs as abs_


def normalize_dims(dim, ndim: int):
    """``dim`` (None, int or sequence) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, numpy.integer)):
        dim = (dim,)
    if dim is None or len(dim) == 0:  # PyTorch: dim=() reduces over everything, like None
        return tuple(range(ndim))
    axes = []
    for d in dim:
        d = int(d)
        n = builtins.max(ndim, 1)
        if not -n <= d < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                f"but got {d})"
            )
        if ndim:  # a 0-d tensor accepts dim 0 or -1 and has nothing to reduce
            axes.append(d % ndim)
    return tuple(sorted(set(axes)))


def expand_back(grad, in_shape, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input again."""
    if not keepdim and in_shape:
        shape = list(in_shape)
        for a in axes:
            shape[a] = 1
        grad = grad.reshape(shape)
    return grad


def numpy_axis(axes, ndim):
    """The ``axis`` argument for NumPy: None when ``axes`` covers every dimension."""
    return None if len(axes) == ndim else axes


def _broadcast(grad, shape):
    """``grad`` broadcast to ``shape`` as a new array (cheaper than ``broadcast_to`` on small
    tensors, and the result can become a leaf's ``.grad`` without a copy)."""
    out = backend.get_array_module(grad).empty(shape, dtype=grad.dtype)
    out[...] = grad
    return out


class Sum(ArrayFunction):
    # Fast path (a loss ends in a sum or a mean): NumPy's ``ndarray.sum`` is a Python wrapper
    # around ``add.reduce``; calling the ufunc skips it (a sixth of the seed's linreg step went
    # there). A full sum's 0-d gradient broadcasts as it is, without reshaping.
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.meta = (a.shape, axes, keepdim)
        axis = numpy_axis(axes, a.ndim)
        if type(a) is numpy.ndarray:
            return numpy.add.reduce(a, axis=axis, keepdims=keepdim)
        return a.sum(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        shape, axes, keepdim = ctx.meta
        if grad.ndim:
            grad = expand_back(grad, shape, axes, keepdim)
        return _broadcast(grad, shape)


class Mean(ArrayFunction):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.meta = (a.shape, axes, keepdim)
        return a.mean(axis=numpy_axis(axes, a.ndim), keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        shape, axes, keepdim = ctx.meta
        count = 1
        for ax in axes:
            count *= shape[ax]
        return _broadcast(expand_back(grad / count, shape, axes, keepdim), shape)


def _reduce_dtype(a: Tensor, dtype=None) -> Tensor:
    if dtype is not None:
        return cast(a, dtypes.as_dtype(dtype).numpy)
    if a.array.dtype.kind in "biu":
        return cast(a, numpy.dtype(numpy.int64))  # PyTorch sums integers and bools as int64
    return a


def sum(a: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all elements when None)."""
    a = _reduce_dtype(a, dtype)
    return Sum.apply(a, axes=normalize_dims(dim, a.array.ndim), keepdim=keepdim)


def mean(a: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Mean over ``dim``; integer tensors need a float ``dtype``, as in PyTorch."""
    if dtype is not None:
        a = cast(a, dtypes.as_dtype(dtype).numpy)
    if a.array.dtype.kind != "f":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be floating point, "
            f"got {a.dtype}"
        )
    return Mean.apply(a, axes=normalize_dims(dim, a.array.ndim), keepdim=keepdim)


class Prod(ArrayFunction):
    @staticmethod
    def forward(ctx, a, axis, keepdim):
        ctx.save_for_backward(a)
        ctx.meta = (axis, keepdim)
        if axis is None:
            return a.prod()
        return a.prod(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        axis, keepdim = ctx.meta
        xp = backend.get_array_module(a)
        if axis is None:
            flat = a.reshape(-1)
            others = _exclusive_prod(xp, flat, 0).reshape(a.shape)
            return grad * others
        if not keepdim:
            grad = xp.expand_dims(grad, axis)
        return grad * _exclusive_prod(xp, a, axis)


def _exclusive_prod(xp, a, axis):
    """For each element, the product of all the others along ``axis`` (exact with zeros)."""
    a = xp.moveaxis(a, axis, -1)
    ones = xp.ones(a.shape[:-1] + (1,), dtype=a.dtype)
    left = xp.cumprod(xp.concatenate([ones, a[..., :-1]], axis=-1), axis=-1)
    rev = a[..., ::-1]
    right = xp.cumprod(xp.concatenate([ones, rev[..., :-1]], axis=-1), axis=-1)[..., ::-1]
    return xp.moveaxis(left * right, -1, axis)


def prod(a: Tensor, dim: int | None = None, keepdim: bool = False, dtype=None) -> Tensor:
    """Product over one ``dim`` (or all elements)."""
    a = _reduce_dtype(a, dtype)
    axis = None if dim is None or a.array.ndim == 0 else normalize_dims(dim, a.array.ndim)[0]
    return Prod.apply(a, axis=axis, keepdim=keepdim)


class AMax(ArrayFunction):
    """amax/amin over axes; ties share the gradient evenly."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, is_max):
        axis = numpy_axis(axes, a.ndim)
        out = a.max(axis=axis, keepdims=True) if is_max else a.min(axis=axis, keepdims=True)
        ctx.save_for_backward(a)
        ctx.meta = (axes, keepdim, out)
        return out if keepdim else out.reshape([s for i, s in enumerate(a.shape) if i not in axes])

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        axes, keepdim, out = ctx.meta
        mask = a == out
        count = mask.sum(axis=numpy_axis(axes, a.ndim), keepdims=True)
        grad = expand_back(grad, a.shape, axes, keepdim)
        return mask * (grad / count)


def amax(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (int or tuple); ties share the gradient."""
    _check_nonempty(a, "amax")
    return AMax.apply(a, axes=normalize_dims(dim, a.array.ndim), keepdim=keepdim, is_max=True)


def amin(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (int or tuple); ties share the gradient."""
    _check_nonempty(a, "amin")
    return AMax.apply(a, axes=normalize_dims(dim, a.array.ndim), keepdim=keepdim, is_max=False)


def _check_nonempty(a: Tensor, name: str):
    if a.array.size == 0:
        raise RuntimeError(f"{name}(): cannot reduce an empty tensor")


class TakeAlong(ArrayFunction):
    """Values at given indices along one axis (the values half of max(dim), topk, sort)."""

    @staticmethod
    def forward(ctx, a, indices, axis):
        xp = backend.get_array_module(a)
        ctx.meta = (a.shape, indices, axis)
        return xp.take_along_axis(a, indices, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        shape, indices, axis = ctx.meta
        xp = backend.get_array_module(grad)
        out = xp.zeros(shape, dtype=grad.dtype)
        xp.put_along_axis(out, indices, grad, axis=axis)  # indices are distinct along the axis
        return out


MinMax = namedtuple("MinMax", ["values", "indices"])


def _max_min(a: Tensor, dim, keepdim: bool, is_max: bool):
    if dim is None:
        return amax(a) if is_max else amin(a)
    axis = normalize_dims(dim, a.array.ndim)[0] if a.array.ndim else 0
    source = a if a.array.ndim else a.reshape(1)
    xp = backend.get_array_module(source.array)
    arg = xp.argmax if is_max else xp.argmin
    # The indices come from an op, so a graph computes them again at every replay.
    idx_keep = compute(lambda d: xp.expand_dims(xp.asarray(arg(d, axis=axis)), axis).astype(
        xp.int64), source)
    values = TakeAlong.apply(source, indices=idx_keep.array, axis=axis)
    if not keepdim or a.array.ndim == 0:
        return MinMax(squeeze(values, axis), squeeze(idx_keep, axis))
    return MinMax(values, idx_keep)


def max(a: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """Largest element, or ``(values, indices)`` along ``dim``; ``max(a, b)`` is ``maximum``."""
    if isinstance(dim, Tensor):
        return maximum(a, dim)
    _check_nonempty(a, "max")
    return _max_min(a, dim, keepdim, True)


def min(a: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """Smallest element, or ``(values, indices)`` along ``dim``; ``min(a, b)`` is ``minimum``."""
    if isinstance(dim, Tensor):
        return minimum(a, dim)
    _check_nonempty(a, "min")
    return _max_min(a, dim, keepdim, False)


class Var(ArrayFunction):
    @staticmethod
    def forward(ctx, a, axes, correction, keepdim, take_sqrt):
        axis = numpy_axis(axes, a.ndim)
        centered = a - a.mean(axis=axis, keepdims=True)
        n = 1
        for ax in axes:
            n *= a.shape[ax]
        denom = builtins.max(n - correction, 0)
        squares = (centered * centered).sum(axis=axis, keepdims=True)
        if denom > 0:
            var = squares / denom
        else:  # no degrees of freedom left: inf (or nan for 0/0), as in PyTorch
            with numpy.errstate(divide="ignore", invalid="ignore"):
                var = squares / 0.0
        out = backend.get_array_module(a).sqrt(var) if take_sqrt else var
        ctx.save_for_backward(centered)
        ctx.meta = (axes, keepdim, denom, out if take_sqrt else None)
        if keepdim:
            return out
        return out.reshape([s for i, s in enumerate(a.shape) if i not in axes])

    @staticmethod
    def backward(ctx, grad):
        (centered,) = ctx.saved
        axes, keepdim, denom, std = ctx.meta
        grad = expand_back(grad, centered.shape, axes, keepdim)
        if std is not None:
            xp = backend.get_array_module(grad)
            with numpy.errstate(divide="ignore", invalid="ignore"):
                grad = xp.where(std == 0, 0, grad / (2 * std))  # PyTorch masks std == 0
        if denom == 0:
            with numpy.errstate(invalid="ignore"):
                return grad * float("inf") * centered
        return grad * (2 / denom) * centered


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def var(a: Tensor, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False`` -> 0)."""
    return Var.apply(a, axes=normalize_dims(dim, a.array.ndim),
                     correction=_correction(unbiased, correction), keepdim=keepdim,
                     take_sqrt=False)


def std(a: Tensor, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:
    """Standard deviation over ``dim`` (see :func:`var`)."""
    return Var.apply(a, axes=normalize_dims(dim, a.array.ndim),
                     correction=_correction(unbiased, correction), keepdim=keepdim,
                     take_sqrt=True)


class Norm2(ArrayFunction):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        xp = backend.get_array_module(a)
        out = xp.sqrt((a * a).sum(axis=numpy_axis(axes, a.ndim), keepdims=True))
        ctx.save_for_backward(a)
        ctx.meta = (axes, keepdim, out)
        if keepdim:
            return out
        return out.reshape([s for i, s in enumerate(a.shape) if i not in axes])

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        axes, keepdim, out = ctx.meta
        xp = backend.get_array_module(a)
        grad = expand_back(grad, a.shape, axes, keepdim)
        with numpy.errstate(divide="ignore", invalid="ignore"):
            scale = xp.where(out == 0, 0, grad / out)  # PyTorch: zero gradient at a zero norm
        return a * scale


class NormP(ArrayFunction):
    """The p-norm for any other p: ``sum(|a|**p) ** (1/p)``."""

    @staticmethod
    def forward(ctx, a, p, axes, keepdim):
        xp = backend.get_array_module(a)
        out = (xp.abs(a) ** p).sum(axis=numpy_axis(axes, a.ndim), keepdims=True) ** (1.0 / p)
        ctx.save_for_backward(a)
        ctx.meta = (p, axes, keepdim, out)
        if keepdim:
            return out
        return out.reshape([s for i, s in enumerate(a.shape) if i not in axes])

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        p, axes, keepdim, out = ctx.meta
        xp = backend.get_array_module(a)
        grad = expand_back(grad, a.shape, axes, keepdim)
        with numpy.errstate(divide="ignore", invalid="ignore"):
            # d/da = sign(a) |a|^(p-1) / norm^(p-1); PyTorch gives 0 at a == 0 and at norm == 0.
            part = xp.where(a == 0, 0, xp.sign(a) * xp.abs(a) ** (p - 1))
            scale = xp.where(out == 0, 0, grad / out ** (p - 1))
        return part * scale


def norm(a: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default): p = 2/'fro', 1, inf, -inf, 0, or any
    other number."""
    if dtype is not None:
        a = cast(a, dtypes.as_dtype(dtype).numpy)
    if p in ("fro", 2, 2.0, None):
        return Norm2.apply(a, axes=normalize_dims(dim, a.array.ndim), keepdim=keepdim)
    if p == float("inf"):
        return amax(abs_(a), dim, keepdim)
    if p == float("-inf"):
        return amin(abs_(a), dim, keepdim)
    if p == 0:
        return sum(cast(a != 0, a.array.dtype), dim, keepdim)
    if p == 1:
        return sum(abs_(a), dim, keepdim)
    if isinstance(p, str):
        raise ValueError(f"norm: unsupported p={p!r} for a vector norm")
    return NormP.apply(a, p=float(p), axes=normalize_dims(dim, a.array.ndim), keepdim=keepdim)
