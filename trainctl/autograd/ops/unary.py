"""Unary maths and activations: ``abs, exp, exp2, expm1, log, log2, log10, log1p, sqrt, rsqrt``,
the trigonometric and hyperbolic functions and their inverses, ``sigmoid, logit, relu, square,
reciprocal, sinc, deg2rad, rad2deg, frac, nan_to_num``.

Each differentiable op is one line of the table below: its forward and its derivative, written
with the array module ``xp``. Transcendental ops on integer tensors compute in the default float
type (:func:`~trainctl.autograd.ops.promotion.as_float`), as in PyTorch.

Example:
    >>> import trainctl as tc
    >>> sigmoid(tc.tensor([0.0]))
    tensor([0.5000])
"""

from __future__ import annotations

import math

import numpy

from ...core import backend
from ..array_function import ArrayFunction
from ..tensor import Tensor
from .arithmetic import div, mul
from .promotion import as_float


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

    return type(name, (ArrayFunction,), {
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
Tan = _unary("Tan", lambda xp, a: xp.tan(a), lambda xp, g, a, o: g * (1 + o * o),
             saves="output")
Asin = _unary("Asin", lambda xp, a: xp.arcsin(a), lambda xp, g, a, o: g / xp.sqrt(1 - a * a))
Acos = _unary("Acos", lambda xp, a: xp.arccos(a), lambda xp, g, a, o: -g / xp.sqrt(1 - a * a))
Atan = _unary("Atan", lambda xp, a: xp.arctan(a), lambda xp, g, a, o: g / (1 + a * a))
Sinh = _unary("Sinh", lambda xp, a: xp.sinh(a), lambda xp, g, a, o: g * xp.cosh(a))
Cosh = _unary("Cosh", lambda xp, a: xp.cosh(a), lambda xp, g, a, o: g * xp.sinh(a))
Asinh = _unary("Asinh", lambda xp, a: xp.arcsinh(a), lambda xp, g, a, o: g / xp.sqrt(a * a + 1))
Acosh = _unary("Acosh", lambda xp, a: xp.arccosh(a), lambda xp, g, a, o: g / xp.sqrt(a * a - 1))
Atanh = _unary("Atanh", lambda xp, a: xp.arctanh(a), lambda xp, g, a, o: g / (1 - a * a))
Exp2 = _unary("Exp2", lambda xp, a: xp.exp2(a), lambda xp, g, a, o: g * o * math.log(2),
              saves="output")
Expm1 = _unary("Expm1", lambda xp, a: xp.expm1(a), lambda xp, g, a, o: g * (o + 1),
               saves="output")
Log2 = _unary("Log2", lambda xp, a: xp.log2(a), lambda xp, g, a, o: g / (a * math.log(2)))
# NumPy's float32 log10 is one ulp off at powers of ten (log10(100) = 2.0000002): computed in
# float64 and rounded, it gives PyTorch's exact values.
Log10 = _unary("Log10", lambda xp, a: xp.log10(a.astype(xp.float64)).astype(a.dtype, copy=False),
               lambda xp, g, a, o: g / (a * math.log(10)))


def _sinc_grad(xp, g, a, o):
    # d/dx sin(pi x)/(pi x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0 (PyTorch's value)
    safe = xp.where(a == 0, 1, a)
    return xp.where(a == 0, 0, g * (xp.cos(math.pi * a) - xp.sinc(a)) / safe)


Sinc = _unary("Sinc", lambda xp, a: xp.sinc(a), _sinc_grad)
Frac = _unary("Frac", lambda xp, a: a - xp.trunc(a), lambda xp, g, a, o: g)


def _entr(xp, a):
    with numpy.errstate(divide="ignore", invalid="ignore"):
        return xp.where(a > 0, -a * xp.log(a), xp.where(a == 0, 0.0, -xp.inf)).astype(a.dtype)


def _entr_grad(xp, g, a, o):
    with numpy.errstate(divide="ignore", invalid="ignore"):  # inf at 0, as PyTorch
        return g * -(1 + xp.log(a))


Entr = _unary("Entr", _entr, _entr_grad)


class Logit(ArrayFunction):
    """``log(x / (1 - x))``, with ``x`` first clamped to ``[eps, 1 - eps]`` when ``eps`` is given
    (the gradient is then 0 outside that interval, as PyTorch's)."""

    @staticmethod
    def forward(ctx, a, eps):
        xp = backend.get_array_module(a)
        ctx.save_for_backward(a)
        ctx.eps = eps
        z = a if eps is None else xp.clip(a, eps, 1 - eps)
        with numpy.errstate(divide="ignore", invalid="ignore"):  # inf at 0 and 1, as PyTorch
            return xp.log(z / (1 - z))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        xp = backend.get_array_module(a)
        with numpy.errstate(divide="ignore", invalid="ignore"):
            g = grad / (a * (1 - a))
        if ctx.eps is not None:
            g = xp.where((a < ctx.eps) | (a > 1 - ctx.eps), 0, g)
        return g


class NanToNum(ArrayFunction):
    """``nan``, ``+inf`` and ``-inf`` replaced by numbers; the gradient flows where the input
    was finite (0 elsewhere, as PyTorch)."""

    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        xp = backend.get_array_module(a)
        ctx.save_for_backward(a)
        return xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * backend.get_array_module(a).isfinite(a)


def abs(a: Tensor) -> Tensor:  # noqa: A001
    return Abs.apply(a)


def exp(a: Tensor) -> Tensor:
    return Exp.apply(as_float(a))


def log(a: Tensor) -> Tensor:
    return Log.apply(as_float(a))


def log1p(a: Tensor) -> Tensor:
    return Log1p.apply(as_float(a))


def sqrt(a: Tensor) -> Tensor:
    return Sqrt.apply(as_float(a))


def rsqrt(a: Tensor) -> Tensor:
    return Rsqrt.apply(as_float(a))


def sin(a: Tensor) -> Tensor:
    return Sin.apply(as_float(a))


def cos(a: Tensor) -> Tensor:
    return Cos.apply(as_float(a))


def tanh(a: Tensor) -> Tensor:
    return Tanh.apply(as_float(a))


def sigmoid(a: Tensor) -> Tensor:
    return Sigmoid.apply(as_float(a))


def relu(a: Tensor) -> Tensor:
    return Relu.apply(a)


def square(a: Tensor) -> Tensor:
    return mul(a, a)


def reciprocal(a: Tensor) -> Tensor:
    return div(1.0, a)



def _float_unary(op, name: str, example_input: str, example_output: str):
    """The public function of a one-input op that computes in floating point (ints become the
    default float dtype, as in PyTorch), with a docstring example ``name(example_input)``."""

    def fn(input: Tensor) -> Tensor:
        return op.apply(as_float(input))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Element-wise ``{name}``.\n\nExample:\n    >>> import trainctl as tc\n"
                  f"    >>> {name}({example_input})\n    {example_output}\n")
    return fn


tan = _float_unary(Tan, "tan", "tc.tensor([0.0, 1.0])", "tensor([0.0000, 1.5574])")
asin = _float_unary(Asin, "asin", "tc.tensor([0.5])", "tensor([0.5236])")
acos = _float_unary(Acos, "acos", "tc.tensor([0.5])", "tensor([1.0472])")
atan = _float_unary(Atan, "atan", "tc.tensor([1.0])", "tensor([0.7854])")
sinh = _float_unary(Sinh, "sinh", "tc.tensor([1.0])", "tensor([1.1752])")
cosh = _float_unary(Cosh, "cosh", "tc.tensor([1.0])", "tensor([1.5431])")
asinh = _float_unary(Asinh, "asinh", "tc.tensor([1.0])", "tensor([0.8814])")
acosh = _float_unary(Acosh, "acosh", "tc.tensor([2.0])", "tensor([1.3170])")
atanh = _float_unary(Atanh, "atanh", "tc.tensor([0.5])", "tensor([0.5493])")
exp2 = _float_unary(Exp2, "exp2", "tc.tensor([3])", "tensor([8.])")
expm1 = _float_unary(Expm1, "expm1", "tc.tensor([1e-5])", "tensor([1.0000e-05])")
log2 = _float_unary(Log2, "log2", "tc.tensor([8.0])", "tensor([3.])")
log10 = _float_unary(Log10, "log10", "tc.tensor([100.0])", "tensor([2.])")
sinc = _float_unary(Sinc, "sinc", "tc.tensor([0.0, 0.5])", "tensor([1.0000, 0.6366])")
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
absolute = abs


def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians.

    Example:
        >>> import trainctl as tc
        >>> deg2rad(tc.tensor([180.0]))
        tensor([3.1416])
    """
    return mul(as_float(input), math.pi / 180)


def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees.

    Example:
        >>> import trainctl as tc
        >>> rad2deg(tc.tensor([3.141592653589793]))
        tensor([180.])
    """
    return mul(as_float(input), 180 / math.pi)


def frac(input: Tensor) -> Tensor:
    """The fractional part ``x - trunc(x)`` (negative for negative ``x``, as PyTorch).

    Example:
        >>> import trainctl as tc
        >>> frac(tc.tensor([-1.5, 2.25]))
        tensor([-0.5000,  0.2500])
    """
    return Frac.apply(input)


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))``; with ``eps``, ``p`` is first clamped to ``[eps, 1 - eps]``.

    Example:
        >>> import trainctl as tc
        >>> logit(tc.tensor([0.25, 0.5]))
        tensor([-1.0986,  0.0000])
    """
    return Logit.apply(as_float(input), eps=eps)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """``nan`` -> ``nan``, ``inf`` -> ``posinf`` (default: the dtype's largest), ``-inf`` ->
    ``neginf`` (default: the lowest).

    Example:
        >>> import trainctl as tc
        >>> nan_to_num(tc.tensor([float("nan"), 1.0, float("-inf")]), neginf=-9.0)
        tensor([ 0.,  1., -9.])
    """
    if input.array.dtype.kind != "f":
        return Tensor._wrap(input.array.copy())
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


def entr(input: Tensor) -> Tensor:
    """The entropy term ``-x log(x)``: 0 at 0, ``-inf`` below 0 (``torch.special.entr``).

    Example:
        >>> import trainctl as tc
        >>> entr(tc.tensor([0.0, 0.5, -1.0]))
        tensor([0.0000, 0.3466,   -inf])
    """
    return Entr.apply(as_float(input))


def positive(input: Tensor) -> Tensor:
    """``input`` itself (PyTorch's unary plus).

    Example:
        >>> import trainctl as tc
        >>> positive(tc.tensor([-1.0]))
        tensor([-1.])
    """
    return input
