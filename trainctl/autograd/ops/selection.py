"""Element-wise selection: ``clamp, maximum, minimum, where``.

Each output element is one of the input elements, so the gradient is routed back to the input it
was taken from (ties between ``maximum``'s operands split it, as PyTorch does).

Example:
    >>> import trainctl as tc
    >>> clamp(tc.tensor([-1.0, 0.5, 2.0]), min=0.0, max=1.0)
    tensor([0.0000, 0.5000, 1.0000])
"""

from __future__ import annotations

import numbers

import numpy

from ...core import backend, dtypes
from ..array_function import ArrayFunction, compute
from ..tensor import Tensor
from ..trace import refuse_in_graph
from .promotion import cast, promote


class Clamp(ArrayFunction):
    @staticmethod
    def forward(ctx, a, min, max):
        xp = backend.get_array_module(a)
        ctx.save_for_backward(a)
        ctx.bounds = (min, max)
        return xp.clip(a, min, max)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        lo, hi = ctx.bounds
        # PyTorch passes the gradient where min <= a <= max (bounds included).
        keep = True
        if lo is not None:
            keep = a >= lo
        if hi is not None:
            keep = keep & (a <= hi)
        return grad * keep


def clamp(a: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    """Limit values to [min, max]; either bound may be None."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is not None:
            a, min = promote(a, min)
        if max is not None:
            a, max = promote(a, max)
        if isinstance(min, Tensor):
            min = cast(min, a.array.dtype)
        return ClampTensor.apply(a, min, max)
    if a.array.dtype.kind != "f" and any(isinstance(v, float) for v in (min, max)):
        a = cast(a, dtypes.get_default_dtype().numpy)
    return Clamp.apply(a, min=min, max=max)


class ClampTensor(ArrayFunction):
    """clamp with tensor bounds: ``minimum(maximum(a, min), max)``, with PyTorch's gradients
    (``a`` keeps it on ties with a bound; where min > max the result and gradient are max's)."""

    @staticmethod
    def forward(ctx, a, lo, hi):
        xp = backend.get_array_module(a)
        low = a if lo is None else xp.maximum(a, lo)
        ctx.save_for_backward(a, lo, hi, low)
        return low if hi is None else xp.minimum(low, hi)

    @staticmethod
    def backward(ctx, grad):
        a, lo, hi, low = ctx.saved
        xp = backend.get_array_module(grad)
        need_a, need_lo, need_hi = ctx.needs_input_grad
        below = None if lo is None else a < lo
        above = None if hi is None else low > hi
        ga = glo = ghi = None
        if need_a:
            inside = True
            if below is not None:
                inside = ~below
            if above is not None:
                inside = inside & ~above
            ga = xp.where(inside, grad, 0)
        if need_lo:
            ga_lo = below if hi is None else below & (lo <= hi)
            glo = xp.where(ga_lo, grad, 0)
        if need_hi:
            ghi = xp.where(above, grad, 0)
        return ga, glo, ghi


class Maximum(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        xp = backend.get_array_module(a, b)
        ctx.save_for_backward(a, b)
        return xp.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return _tie_split(grad, a > b, a == b, ctx.needs_input_grad)


class Minimum(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        xp = backend.get_array_module(a, b)
        ctx.save_for_backward(a, b)
        return xp.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return _tie_split(grad, a < b, a == b, ctx.needs_input_grad)


def _tie_split(grad, a_wins, tie, needs):
    """Route the gradient to the winner; ties split it half and half, as PyTorch does."""
    xp = backend.get_array_module(grad)
    half = grad * 0.5
    ga = xp.where(a_wins, grad, xp.where(tie, half, 0)) if needs[0] else None
    gb = xp.where(a_wins | tie, xp.where(tie, half, 0), grad) if needs[1] else None
    return ga, gb


def maximum(a, b) -> Tensor:
    a, b = promote(a, b)
    return Maximum.apply(a, b)


def minimum(a, b) -> Tensor:
    a, b = promote(a, b)
    return Minimum.apply(a, b)


class Where(ArrayFunction):
    @staticmethod
    def forward(ctx, cond, a, b):
        xp = backend.get_array_module(a, b)
        ctx.save_for_backward(cond)
        return xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved
        xp = backend.get_array_module(grad)
        _, need_a, need_b = ctx.needs_input_grad
        ga = xp.where(cond, grad, 0) if need_a else None
        gb = xp.where(cond, 0, grad) if need_b else None
        return None, ga, gb


def where(condition, input=None, other=None) -> Tensor:  # noqa: A002
    """Pick from ``input`` where ``condition`` holds, else from ``other``.

    With only ``condition`` it returns the indices of true elements (``nonzero(as_tuple=True)``).
    """
    cond = condition.array if isinstance(condition, Tensor) else condition
    if input is None and other is None:
        refuse_in_graph("where(condition) (its result's shape depends on the values)")
        xp = backend.get_array_module(cond)
        return tuple(Tensor._wrap(i.astype(xp.int64)) for i in xp.nonzero(cond))
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        # where(mask, 1.0, 0.0): two Python scalars become 0-d tensors of their type
        xp = backend.get_array_module(cond)
        input = Tensor._constant(xp.asarray(input, dtype=_scalar_dtype(input)))
    a, b = promote(input, other)
    if cond.dtype != bool:  # the cast is an op, so a graph repeats it
        cond = compute(lambda c: c.astype(bool), cond).array
    return Where.apply(cond, a, b)


def _scalar_dtype(value):
    if isinstance(value, bool):
        return numpy.bool_
    if isinstance(value, numbers.Integral):
        return numpy.int64
    return dtypes.get_default_dtype().numpy
