"""Two-input maths: ``atan2, hypot, logaddexp, logaddexp2, xlogy, xlog1py, copysign, fmax, fmin,
fmod, float_power, ldexp, lerp, heaviside, rsub, clamp_min, clamp_max``.

The operands are brought to one dtype by
:func:`~trainctl.autograd.ops.promotion.promote`; the transcendental ones then compute in the
default float type when both are integers, as in PyTorch.

Example:
    >>> import trainctl as tc
    >>> hypot(tc.tensor([3.0]), tc.tensor([4.0]))
    tensor([5.])
"""

from __future__ import annotations

import numpy

from ...core import backend, dtypes
from ..array_function import ArrayFunction
from ..tensor import Tensor
from .arithmetic import mul, pow, sub
from .promotion import cast, promote
from .selection import clamp


def _floats(a, b):
    """``promote(a, b)``, then integer tensors cast to the default float dtype."""
    a, b = promote(a, b)
    default = dtypes.get_default_dtype().numpy
    a = cast(a, default) if isinstance(a, Tensor) and a.array.dtype.kind != "f" else a
    b = cast(b, default) if isinstance(b, Tensor) and b.array.dtype.kind != "f" else b
    return a, b


class Atan2(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return backend.get_array_module(a, b).arctan2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        scale = grad / (a * a + b * b)
        return (scale * b if need_a else None), (-scale * a if need_b else None)


class Hypot(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        out = backend.get_array_module(a, b).hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        return (grad * a / out if need_a else None), (grad * b / out if need_b else None)


class LogAddExp(ArrayFunction):
    """``log(exp(a) + exp(b))`` (``base=2``: ``log2(2**a + 2**b)``) without overflow."""

    @staticmethod
    def forward(ctx, a, b, base):
        xp = backend.get_array_module(a, b)
        out = xp.logaddexp(a, b) if base == "e" else xp.logaddexp2(a, b)
        ctx.save_for_backward(a, b, out)
        ctx.base = base
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved
        xp = backend.get_array_module(grad)
        power = xp.exp if ctx.base == "e" else xp.exp2  # d/da = base**(a - out)
        need_a, need_b = ctx.needs_input_grad
        return (grad * power(a - out) if need_a else None), (
            grad * power(b - out) if need_b else None)


class Xlogy(ArrayFunction):
    """``a * log(b)`` (``plus_one``: ``a * log1p(b)``), and 0 where ``a == 0`` unless ``b`` is
    nan, as PyTorch."""

    @staticmethod
    def forward(ctx, a, b, plus_one):
        xp = backend.get_array_module(a, b)
        ctx.save_for_backward(a, b)
        ctx.plus_one = plus_one
        with numpy.errstate(divide="ignore", invalid="ignore"):
            out = a * (xp.log1p(b) if plus_one else xp.log(b))
        return xp.where((a == 0) & ~xp.isnan(b), 0, out).astype(out.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        xp = backend.get_array_module(grad)
        need_a, need_b = ctx.needs_input_grad
        log, edge = (xp.log1p, -1) if ctx.plus_one else (xp.log, 0)
        ga = gb = None
        with numpy.errstate(divide="ignore", invalid="ignore"):
            if need_a:
                ga = xp.where((grad == 0) | ((a == 0) & (b <= edge)), 0, grad * log(b))
            if need_b:
                gb = grad * a / (b - edge)
        return ga, gb


class Copysign(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        out = backend.get_array_module(a, b).copysign(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved
        xp = backend.get_array_module(grad)
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if need_a:  # +-1 where the sign flipped or not, 0 at a == 0 (PyTorch's choice)
            ga = grad * xp.where(a == 0, 0, out / xp.where(a == 0, 1, a))
        if need_b:
            gb = xp.zeros_like(xp.asarray(b))
        return ga, gb


class FMax(ArrayFunction):
    """``fmax``/``fmin``: ``maximum``/``minimum`` that ignore a nan operand. A tie sends the
    gradient to ``a``, as PyTorch."""

    @staticmethod
    def forward(ctx, a, b, largest):
        xp = backend.get_array_module(a, b)
        ctx.save_for_backward(a, b)
        ctx.largest = largest
        return xp.fmax(a, b) if largest else xp.fmin(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        xp = backend.get_array_module(grad)
        with numpy.errstate(invalid="ignore"):
            a_wins = ((a >= b) if ctx.largest else (a <= b)) | xp.isnan(b)
        need_a, need_b = ctx.needs_input_grad
        return (grad * a_wins if need_a else None), (grad * ~a_wins if need_b else None)


class Fmod(ArrayFunction):
    """C's ``fmod``: the remainder has the sign of the dividend (``remainder``'s, the divisor's)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return backend.get_array_module(a, b).fmod(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        xp = backend.get_array_module(grad)
        gb = -grad * xp.trunc(a / b) if ctx.needs_input_grad[1] else None
        return grad, gb


class Lerp(ArrayFunction):
    """``start + weight * (end - start)``, computed from ``end`` for ``|weight| >= 0.5`` as
    PyTorch does (exact at ``weight == 1``)."""

    @staticmethod
    def forward(ctx, start, end, weight):
        xp = backend.get_array_module(start, end, weight)
        ctx.save_for_backward(start, end, weight)
        diff = end - start
        return xp.where(xp.abs(weight) < 0.5, start + weight * diff, end - diff * (1 - weight))

    @staticmethod
    def backward(ctx, grad):
        start, end, weight = ctx.saved
        need_s, need_e, need_w = ctx.needs_input_grad
        return ((grad * (1 - weight) if need_s else None), (grad * weight if need_e else None),
                (grad * (end - start) if need_w else None))


def atan2(input, other) -> Tensor:
    """The angle of the point ``(other, input)``: ``atan(input / other)`` in the right quadrant.

    Example:
        >>> import trainctl as tc
        >>> atan2(tc.tensor([1.0, 1.0]), tc.tensor([1.0, -1.0]))
        tensor([0.7854, 2.3562])
    """
    return Atan2.apply(*_floats(input, other))


def hypot(input, other) -> Tensor:
    """``sqrt(input**2 + other**2)`` without overflow.

    Example:
        >>> import trainctl as tc
        >>> hypot(tc.tensor([3.0]), 4.0)
        tensor([5.])
    """
    return Hypot.apply(*_floats(input, other))


def logaddexp(input, other) -> Tensor:
    """``log(exp(input) + exp(other))`` without overflow.

    Example:
        >>> import trainctl as tc
        >>> logaddexp(tc.tensor([1000.0]), tc.tensor([1000.0]))
        tensor([1000.6932])
    """
    return LogAddExp.apply(*_floats(input, other), base="e")


def logaddexp2(input, other) -> Tensor:
    """``log2(2**input + 2**other)`` without overflow.

    Example:
        >>> import trainctl as tc
        >>> logaddexp2(tc.tensor([3.0]), tc.tensor([3.0]))
        tensor([4.])
    """
    return LogAddExp.apply(*_floats(input, other), base="2")


def xlogy(input, other) -> Tensor:
    """``input * log(other)``, 0 where ``input`` is 0 (entropies need ``0 * log 0 = 0``).

    Example:
        >>> import trainctl as tc
        >>> xlogy(tc.tensor([0.0, 2.0]), tc.tensor([0.0, 1.0]))
        tensor([0., 0.])
    """
    return Xlogy.apply(*_tensor_pair(input, other), plus_one=False)


def xlog1py(input, other) -> Tensor:
    """``input * log1p(other)``, 0 where ``input`` is 0 (``torch.special.xlog1py``).

    Example:
        >>> import trainctl as tc
        >>> xlog1py(tc.tensor([0.0, 2.0]), tc.tensor([-1.0, 1e-10], dtype=tc.float64))
        tensor([0.0000e+00, 2.0000e-10], dtype=trainctl.float64)
    """
    return Xlogy.apply(*_tensor_pair(input, other), plus_one=True)


def _tensor_pair(input, other):
    """Both operands as float tensors of one dtype. A number becomes a tensor of the other's
    dtype: log(2.0) would be a float64 NumPy scalar, which turns a float32 result into float64."""
    input, other = _floats(input, other)
    if not isinstance(other, Tensor):
        other = Tensor._constant(backend.get_array_module(input.array).asarray(
            other, dtype=input.array.dtype))
    if not isinstance(input, Tensor):
        input = Tensor._constant(backend.get_array_module(other.array).asarray(
            input, dtype=other.array.dtype))
    return input, other


def copysign(input, other) -> Tensor:
    """``|input|`` with the sign of ``other`` (-0.0 counts as negative).

    Example:
        >>> import trainctl as tc
        >>> copysign(tc.tensor([1, 2]), -1)
        tensor([-1., -2.])
    """
    return Copysign.apply(*_floats(input, other))


def fmax(input, other) -> Tensor:
    """The larger element; where one is nan, the other (``maximum`` propagates nan).

    Example:
        >>> import trainctl as tc
        >>> fmax(tc.tensor([1.0, float("nan")]), tc.tensor([2.0, 0.0]))
        tensor([2., 0.])
    """
    return FMax.apply(*promote(input, other), largest=True)


def fmin(input, other) -> Tensor:
    """The smaller element; where one is nan, the other (``minimum`` propagates nan).

    Example:
        >>> import trainctl as tc
        >>> fmin(tc.tensor([1.0, float("nan")]), tc.tensor([2.0, 0.0]))
        tensor([1., 0.])
    """
    return FMax.apply(*promote(input, other), largest=False)


def fmod(input, other) -> Tensor:
    """The remainder of ``input / other`` with the sign of ``input`` (C's ``fmod``).

    Example:
        >>> import trainctl as tc
        >>> fmod(tc.tensor([-3.0, 3.0]), 2)
        tensor([-1.,  1.])
    """
    return Fmod.apply(*promote(input, other))


def float_power(input, exponent) -> Tensor:
    """``input ** exponent`` computed in float64 (the result is float64, as PyTorch).

    Example:
        >>> import trainctl as tc
        >>> float_power(tc.tensor([2]), 2)
        tensor([4.], dtype=trainctl.float64)
    """
    f64 = numpy.dtype(numpy.float64)
    input = cast(input, f64) if isinstance(input, Tensor) else float(input)
    exponent = cast(exponent, f64) if isinstance(exponent, Tensor) else float(exponent)
    return pow(input, exponent)


def ldexp(input, other) -> Tensor:
    """``input * 2**other``.

    Example:
        >>> import trainctl as tc
        >>> ldexp(tc.tensor([1.0]), tc.tensor([3]))
        tensor([8.])
    """
    input, _ = _floats(input, 0.0)
    return mul(input, pow(2.0, other))


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """Linear interpolation ``input + weight * (end - input)``; ``weight`` a number or tensor.

    Example:
        >>> import trainctl as tc
        >>> lerp(tc.tensor([0.0, 10.0]), tc.tensor([10.0, 20.0]), 0.25)
        tensor([ 2.5000, 12.5000])
    """
    input, end = promote(input, end)
    if isinstance(weight, Tensor):
        weight = cast(weight, input.array.dtype)
    return Lerp.apply(input, end, weight)


def heaviside(input: Tensor, values) -> Tensor:
    """The step function: 0 below zero, 1 above, ``values`` at zero (no gradient, as PyTorch).

    Example:
        >>> import trainctl as tc
        >>> heaviside(tc.tensor([-1.0, 0.0, 2.0]), tc.tensor(0.5))
        tensor([0.0000, 0.5000, 1.0000])
    """
    a = input.array
    v = values.array if isinstance(values, Tensor) else values
    xp = backend.get_array_module(a, v)
    out = xp.where(a == 0, v, (a > 0).astype(a.dtype)).astype(a.dtype, copy=False)
    return Tensor._wrap(xp.asarray(out))


def rsub(input, other, alpha=1) -> Tensor:
    """``other - alpha * input`` (subtraction with the operands swapped).

    Example:
        >>> import trainctl as tc
        >>> rsub(tc.tensor([1.0, 2.0]), 10)
        tensor([9., 8.])
    """
    return sub(other, input, alpha=alpha)


def clamp_min(input: Tensor, min) -> Tensor:  # noqa: A002
    """``clamp(input, min=min)``.

    Example:
        >>> import trainctl as tc
        >>> clamp_min(tc.tensor([-1.0, 2.0]), 0.0)
        tensor([0., 2.])
    """
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:  # noqa: A002
    """``clamp(input, max=max)``.

    Example:
        >>> import trainctl as tc
        >>> clamp_max(tc.tensor([-1.0, 2.0]), 0.0)
        tensor([-1.,  0.])
    """
    return clamp(input, max=max)


arctan2 = atan2
