"""The softmax family: ``softmax``, ``log_softmax`` and ``logsumexp``, computed stably.

Each subtracts the maximum along ``dim`` before exponentiating, so large inputs never overflow
and ``log_softmax`` never takes the log of 0.

Example:
    >>> import trainctl as tc
    >>> softmax(tc.tensor([1.0, 1.0]), dim=0)
    tensor([0.5000, 0.5000])
"""

from __future__ import annotations

from ...core import backend, dtypes
from ..array_function import ArrayFunction
from ..tensor import Tensor
from .promotion import cast
from .reduction import expand_back, normalize_dims, numpy_axis


class Softmax(ArrayFunction):
    @staticmethod
    def forward(ctx, a, axis):
        xp = backend.get_array_module(a)
        e = xp.exp(a - a.max(axis=axis, keepdims=True))
        out = e / e.sum(axis=axis, keepdims=True)
        ctx.meta = (axis, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        axis, out = ctx.meta
        return out * (grad - (grad * out).sum(axis=axis, keepdims=True))


class LogSoftmax(ArrayFunction):
    @staticmethod
    def forward(ctx, a, axis):
        xp = backend.get_array_module(a)
        shifted = a - a.max(axis=axis, keepdims=True)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.meta = (axis, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        axis, out = ctx.meta
        xp = backend.get_array_module(grad)
        return grad - xp.exp(out) * grad.sum(axis=axis, keepdims=True)


def _softmax_dim(a: Tensor, dim):
    if dim is None:
        # PyTorch's legacy implicit choice: dim 0 for 0-, 1- and 3-d inputs, else 1.
        dim = 0 if a.array.ndim in (0, 1, 3) else 1
    return normalize_dims(dim, a.array.ndim)[0] if a.array.ndim else None


def softmax(a: Tensor, dim=None, dtype=None) -> Tensor:
    """``exp(a) / sum(exp(a), dim)``, computed stably."""
    if dtype is not None:
        a = cast(a, dtypes.as_dtype(dtype).numpy)
    return Softmax.apply(a, axis=_softmax_dim(a, dim))


def log_softmax(a: Tensor, dim=None, dtype=None) -> Tensor:
    """``log(softmax(a, dim))``, computed stably (no log of 0)."""
    if dtype is not None:
        a = cast(a, dtypes.as_dtype(dtype).numpy)
    return LogSoftmax.apply(a, axis=_softmax_dim(a, dim))


class LogSumExp(ArrayFunction):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        xp = backend.get_array_module(a)
        axis = numpy_axis(axes, a.ndim)
        m = a.max(axis=axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.exp(a - m).sum(axis=axis, keepdims=True)) + m
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
        return expand_back(grad, a.shape, axes, keepdim) * xp.exp(a - out)


def logsumexp(a: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(a), dim))`` computed without overflow."""
    return LogSumExp.apply(a, axes=normalize_dims(dim, a.array.ndim), keepdim=keepdim)
