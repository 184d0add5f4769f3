"""Element-wise ops: arithmetic, unary maths, activations, ``clamp``, ``maximum``, ``where``.

Binary ops accept tensors and Python scalars. Operands are first brought to one dtype with
PyTorch's rules (:func:`promote`): across categories bool < integer < float the higher one wins;
within one category a dimensioned tensor beats a 0-d one, else the wider type wins; a Python
scalar takes the tensor's dtype (an int tensor times a float scalar becomes float32).
Broadcasting is NumPy's; the engine un-broadcasts the gradients.
"""

from __future__ import annotations

import numbers

import numpy

from ...core import backend, dtypes
from ..function import Function
from ..tensor import Tensor

# ---------------------------------------------------------------------------- dtype promotion


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad  # the engine casts back to the input's dtype


def cast(t: Tensor, np_dtype) -> Tensor:
    """``t`` converted to ``np_dtype`` (differentiable between float types)."""
    if t.data.dtype == np_dtype:
        return t
    return Cast.apply(t, dtype=np_dtype)


def _promote_pair(a: Tensor, b: Tensor):
    da, db = a.data.dtype, b.data.dtype
    ka, kb = dtypes.from_numpy_dtype(da).category, dtypes.from_numpy_dtype(db).category
    if ka != kb:
        target = da if ka > kb else db
    elif (a.data.ndim == 0) != (b.data.ndim == 0):
        target = db if a.data.ndim == 0 else da
    else:
        target = numpy.promote_types(da, db)
    return cast(a, target), cast(b, target)


def _with_scalar(t: Tensor, s):
    """Make a Python scalar fit tensor ``t``; returns the (maybe cast) tensor and the scalar."""
    kind = t.data.dtype.kind
    if isinstance(s, bool):
        return t, s
    if isinstance(s, numbers.Integral):
        if kind == "b":
            t = cast(t, numpy.dtype(numpy.int64))
        return t, int(s)
    if isinstance(s, numbers.Real):
        if kind != "f":
            t = cast(t, dtypes.get_default_dtype().numpy)
        return t, float(s)
    raise TypeError(f"unsupported operand type for a tensor op: {type(s).__name__}")


def promote(a, b):
    """Bring the operands of a binary op to a common dtype, PyTorch's way."""
    # The common cases first: two tensors of one dtype, or a float tensor and a Python number.
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            da, db = a.data.dtype, b.data.dtype
            if da is db or da == db:
                return a, b
            return _promote_pair(a, b)
        if (type(b) is float or type(b) is int) and a.data.dtype.kind == "f":
            return a, b
    elif isinstance(b, Tensor) and (type(a) is float or type(a) is int) and (
        b.data.dtype.kind == "f"
    ):
        return a, b
    if isinstance(a, numpy.generic):
        a = a.item()
    if isinstance(b, numpy.generic):
        b = b.item()
    if isinstance(a, numpy.ndarray):
        a = Tensor._wrap(a)
    if isinstance(b, numpy.ndarray):
        b = Tensor._wrap(b)
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a.data.dtype == b.data.dtype:
                return a, b
            return _promote_pair(a, b)
        return _with_scalar(a, b)
    if isinstance(b, Tensor):
        b, a = _with_scalar(b, a)
        return a, b
    raise TypeError("expected at least one tensor operand")


# ---------------------------------------------------------------------------- arithmetic


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Function):
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


class Pow(Function):
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


class Neg(Function):
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
    a_float = (a.data.dtype.kind == "f") if isinstance(a, Tensor) else isinstance(a, float)
    b_float = (b.data.dtype.kind == "f") if isinstance(b, Tensor) else isinstance(b, float)
    if not (a_float or b_float):
        default = dtypes.get_default_dtype().numpy
        a = cast(a, default) if isinstance(a, Tensor) else float(a)
        b = cast(b, default) if isinstance(b, Tensor) else float(b)
    return Div.apply(a, b)


def _rounded_div(a, b, mode):
    ad = a.data if isinstance(a, Tensor) else a
    bd = b.data if isinstance(b, Tensor) else b
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


class Remainder(Function):
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


# ---------------------------------------------------------------------------- unary maths


def _unary(name, fwd, bwd, saves="input"):
    """Build a one-input Function from ``fwd(xp, a)`` and ``bwd(xp, grad, a, out)``."""

    def forward(ctx, a):
        xp = backend.get_array_module(a)
        out = fwd(xp, a)
        ctx.save_for_backward(a if saves == "input" else out)
        return out

    def backward(ctx, grad):
        (saved,) = ctx.saved
        xp = backend.get_array_module(grad)
        if saves == "input":
            return bwd(xp, grad, saved, None)
        return bwd(xp, grad, None, saved)

    return type(name, (Function,), {
        "forward": staticmethod(forward),
        "backward": staticmethod(backward),
        "__doc__": f"Element-wise {name.lower()}.",
    })


Abs = _unary("Abs", lambda xp, a: xp.abs(a), lambda xp, g, a, o: g * xp.sign(a))
Exp = _unary("Exp", lambda xp, a: xp.exp(a), lambda xp, g, a, o: g * o, saves="output")
Log = _unary("Log", lambda xp, a: xp.log(a), lambda xp, g, a, o: g / a)
Log1p = _unary("Log1p", lambda xp, a: xp.log1p(a), lambda xp, g, a, o: g / (1 + a))
Sqrt = _unary("Sqrt", lambda xp, a: xp.sqrt(a), lambda xp, g, a, o: g / (2 * o), saves="output")
Rsqrt = _unary(
    "Rsqrt", lambda xp, a: 1 / xp.sqrt(a), lambda xp, g, a, o: -0.5 * g * o * o * o,
    saves="output",
)
Sin = _unary("Sin", lambda xp, a: xp.sin(a), lambda xp, g, a, o: g * xp.cos(a))
Cos = _unary("Cos", lambda xp, a: xp.cos(a), lambda xp, g, a, o: -g * xp.sin(a))
Tanh = _unary("Tanh", lambda xp, a: xp.tanh(a), lambda xp, g, a, o: g * (1 - o * o),
              saves="output")
# sigmoid(x) = (1 + tanh(x / 2)) / 2: no overflow for large |x|, one transcendental call.
Sigmoid = _unary(
    "Sigmoid", lambda xp, a: 0.5 * (1 + xp.tanh(0.5 * a)), lambda xp, g, a, o: g * o * (1 - o),
    saves="output",
)
Relu = _unary("Relu", lambda xp, a: xp.maximum(a, 0), lambda xp, g, a, o: g * (o > 0),
              saves="output")


def abs(a: Tensor) -> Tensor:  # noqa: A001
    return Abs.apply(a)


def exp(a: Tensor) -> Tensor:
    return Exp.apply(_float(a))


def log(a: Tensor) -> Tensor:
    return Log.apply(_float(a))


def log1p(a: Tensor) -> Tensor:
    return Log1p.apply(_float(a))


def sqrt(a: Tensor) -> Tensor:
    return Sqrt.apply(_float(a))


def rsqrt(a: Tensor) -> Tensor:
    return Rsqrt.apply(_float(a))


def sin(a: Tensor) -> Tensor:
    return Sin.apply(_float(a))


def cos(a: Tensor) -> Tensor:
    return Cos.apply(_float(a))


def tanh(a: Tensor) -> Tensor:
    return Tanh.apply(_float(a))


def sigmoid(a: Tensor) -> Tensor:
    return Sigmoid.apply(_float(a))


def relu(a: Tensor) -> Tensor:
    return Relu.apply(a)


def square(a: Tensor) -> Tensor:
    return mul(a, a)


def reciprocal(a: Tensor) -> Tensor:
    return div(1.0, a)


def _float(a: Tensor) -> Tensor:
    """Transcendental ops on integer tensors compute in the default float type (as PyTorch)."""
    if a.data.dtype.kind != "f":
        return cast(a, dtypes.get_default_dtype().numpy)
    return a


# ---------------------------------------------------------------------------- clamp, max, where


class Clamp(Function):
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
            min = cast(min, a.data.dtype)
        return ClampTensor.apply(a, min, max)
    if a.data.dtype.kind != "f" and any(isinstance(v, float) for v in (min, max)):
        a = cast(a, dtypes.get_default_dtype().numpy)
    return Clamp.apply(a, min=min, max=max)


class ClampTensor(Function):
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


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        xp = backend.get_array_module(a, b)
        ctx.save_for_backward(a, b)
        return xp.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return _tie_split(grad, a > b, a == b, ctx.needs_input_grad)


class Minimum(Function):
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


class Where(Function):
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
    cond = condition.data if isinstance(condition, Tensor) else condition
    if input is None and other is None:
        xp = backend.get_array_module(cond)
        return tuple(Tensor._wrap(i.astype(xp.int64)) for i in xp.nonzero(cond))
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        # where(mask, 1.0, 0.0): two Python scalars become 0-d tensors of their type
        xp = backend.get_array_module(cond)
        input = Tensor._wrap(xp.asarray(input, dtype=_scalar_dtype(input)))
    a, b = promote(input, other)
    return Where.apply(cond.astype(bool) if cond.dtype != bool else cond, a, b)


def _scalar_dtype(value):
    if isinstance(value, bool):
        return numpy.bool_
    if isinstance(value, numbers.Integral):
        return numpy.int64
    return dtypes.get_default_dtype().numpy
