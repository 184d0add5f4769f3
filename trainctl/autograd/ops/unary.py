"""Unary maths and activations: ``abs, exp, log, log1p, sqrt, rsqrt, sin, cos, tanh, sigmoid,
relu, square, reciprocal``.

Each differentiable op is one line of the table below: its forward and its derivative, written
with the array module ``xp``. Transcendental ops on integer tensors compute in the default float
type (:func:`~trainctl.autograd.ops.promotion.as_float`), as in PyTorch.

Example:
    >>> import trainctl as tc
    >>> sigmoid(tc.tensor([0.0]))
    tensor([0.5000])
"""

from __future__ import annotations

from ...core import backend
from ..function import Function
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

