"""PyTorch's ``out=`` argument for the common ``tc.*`` functions (``tc.matmul(a, b, out=c)``).

:mod:`trainctl._api` wraps each function named in :data:`OUT_FUNCTIONS` with :func:`with_out`.
"""

from __future__ import annotations

import functools

from ..autograd.grad_mode import STATE
from ..autograd.tensor import Tensor


def with_out(fn):
    """``fn`` with PyTorch's ``out=`` argument: the result is written into ``out``.

    As in PyTorch, ``out`` is resized when its shape differs, and results that need gradients
    cannot be written into ``out``.
    """

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        result = fn(*args, **kwargs)
        if out is None:
            return result
        if not isinstance(out, Tensor):
            raise TypeError(f"{fn.__name__}(): out must be a Tensor, got {type(out).__name__}")
        if STATE.enabled and (result.requires_grad or out.requires_grad):
            raise RuntimeError(
                f"{fn.__name__}(): functions with out=... arguments don't support automatic "
                "differentiation; call it without out= (or under tc.no_grad())"
            )
        data = result.array.astype(out.array.dtype, copy=False)
        if out.array.shape == data.shape:
            out.array[...] = data
        else:
            out.array = data.copy()
        out._version += 1
        return out

    return wrapper


# Functions of ``tc.*`` that accept ``out=`` (see trainctl/_api.py).
OUT_FUNCTIONS = (
    "abs", "add", "sub", "mul", "div", "pow", "exp", "log", "sqrt", "neg", "clamp", "maximum",
    "minimum", "sigmoid", "tanh", "matmul", "mm", "bmm", "cat", "stack", "sum", "mean",
    "argmax", "where",
)
