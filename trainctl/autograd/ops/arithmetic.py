"""Arithmetic: ``add, sub, mul, div, pow, neg, remainder, floor_divide`` (``+ - * / ** % //``).

Binary ops accept tensors and Python scalars, first brought to one dtype by
:func:`~trainctl.autograd.ops.promotion.promote`. Broadcasting is NumPy's; the engine
un-broadcasts the gradients.

Example:
    >>> import trainctl as tc
    >>> add(tc.tensor([1.0, 2.0]), tc.tensor([1.0, 1.0]), alpha=3)
    tensor([4., 5.])
"""

from __future__ import annotations

import numpy

from ...core import backend, dtypes
from ..array_function import ArrayFunction
from ..tensor import Tensor
from .promotion import cast, promote


class Add(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        ga = grad / b if need_a else None
        gb = -grad * a / (b * b) if need_b else None
        return ga, gb


class Pow(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        out = a**b
        # The output only serves the exponent's gradient; not saving it otherwise spares the
        # node a weak reference to its output (x ** 2 is in every MSE).
        ctx.save_for_backward(a, b, out if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if need_a:
            if isinstance(b, (int, float)):
                if b == 2:
                    ga = grad * 2 * a
                elif b == 0:  # PyTorch: zero, not 0 * a**-1 (nan at a == 0)
                    ga = backend.get_array_module(grad).zeros_like(grad)
                else:
                    ga = grad * b * a ** (b - 1)
            else:
                xp = backend.get_array_module(a, b)
                with numpy.errstate(divide="ignore", invalid="ignore"):
                    ga = xp.where(b == 0, 0, grad * b * a ** (b - 1))
        if need_b:
            xp = backend.get_array_module(out)
            with numpy.errstate(divide="ignore", invalid="ignore"):
                gb = grad * out * xp.log(a)
            # PyTorch: d(a**b)/db is 0 where a == 0 and b >= 0 (not nan from 0 * log 0).
            gb = xp.where((xp.asarray(a) == 0) & (xp.asarray(b) >= 0), 0, gb)
        return ga, gb


class Neg(ArrayFunction):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


def add(a, b, alpha=1) -> Tensor:
    """``a + alpha * b`` with broadcasting."""
    if alpha != 1:
        b = mul(b, alpha)
    a, b = promote(a, b)
    return Add.apply(a, b)


def sub(a, b, alpha=1) -> Tensor:
    """``a - alpha * b`` with broadcasting."""
    if alpha != 1:
        b = mul(b, alpha)
    a, b = promote(a, b)
    return Sub.apply(a, b)


def mul(a, b) -> Tensor:
    a, b = promote(a, b)
    return Mul.apply(a, b)


def div(a, b, rounding_mode=None) -> Tensor:
    """True division (ints become float32), or ``rounding_mode='floor'``/``'trunc'``."""
    a, b = promote(a, b)
    if rounding_mode is not None:
        return _rounded_div(a, b, rounding_mode)
    a_float = (a.array.dtype.kind == "f") if isinstance(a, Tensor) else isinstance(a, float)
    b_float = (b.array.dtype.kind == "f") if isinstance(b, Tensor) else isinstance(b, float)
    if not (a_float or b_float):
        default = dtypes.get_default_dtype().numpy
        a = cast(a, default) if isinstance(a, Tensor) else float(a)
        b = cast(b, default) if isinstance(b, Tensor) else float(b)
    return Div.apply(a, b)


def _rounded_div(a, b, mode):
    ad = a.array if isinstance(a, Tensor) else a
    bd = b.array if isinstance(b, Tensor) else b
    xp = backend.get_array_module(ad, bd)
    if mode == "floor":
        out = xp.floor_divide(ad, bd)
    elif mode == "trunc":
        out = xp.trunc(xp.true_divide(ad, bd)).astype(xp.result_type(ad, bd))
    else:
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {mode!r}")
    return Tensor._wrap(xp.asarray(out))


def pow(a, b) -> Tensor:  # noqa: A001
    a, b = promote(a, b)
    return Pow.apply(a, b)


def neg(a: Tensor) -> Tensor:
    return Neg.apply(a)


def floor_divide(a, b) -> Tensor:
    return div(a, b, rounding_mode="floor")


def remainder(a, b) -> Tensor:
    """Python-style modulo (sign of the divisor); the gradient w.r.t. ``a`` is 1."""
    a, b = promote(a, b)
    return Remainder.apply(a, b)


class Remainder(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        xp = backend.get_array_module(a, b)
        ctx.save_for_backward(a, b)
        return xp.remainder(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        gb = None
        if ctx.needs_input_grad[1]:
            xp = backend.get_array_module(grad)
            gb = -grad * xp.floor_divide(a, b)
        return grad, gb
