"""Activation functions, each one fused op (one graph node) with its closed-form derivative.

Behaviour at the kinks follows PyTorch (e.g. ``relu'(0) = 0``, ``hardtanh`` passes no gradient at
its bounds, ``leaky_relu'(0) = negative_slope``). ``inplace=True`` is accepted for compatibility;
the result is always a new tensor (in-place writes would break the recorded graph).
"""

from __future__ import annotations

import math

from ...autograd.array_function import ArrayFunction
from ...autograd.ops.promotion import as_float
from ...autograd.ops.softmax import softmax
from ...autograd.ops.special import erfc_array
from ...autograd.ops.unary import Relu
from ...autograd.tensor import Tensor
from ...core import backend

__all__ = [
    "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "hardtanh",
    "softplus", "logsigmoid", "hardsigmoid", "hardswish", "softsign", "softmin",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class LeakyRelu(ArrayFunction):
    @staticmethod
    def forward(ctx, a, slope):
        xp = backend.get_array_module(a)
        pos = a > 0
        ctx.save_for_backward(pos)
        ctx.slope = slope
        return xp.where(pos, a, a * slope)

    @staticmethod
    def backward(ctx, grad):
        (pos,) = ctx.saved
        xp = backend.get_array_module(grad)
        return xp.where(pos, grad, grad * ctx.slope)


class Hardtanh(ArrayFunction):
    @staticmethod
    def forward(ctx, a, lo, hi):
        xp = backend.get_array_module(a)
        ctx.save_for_backward((a > lo) & (a < hi))
        return xp.clip(a, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved
        return grad * inside


class Elu(ArrayFunction):
    """``scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1))``: ELU, SELU and CELU."""

    @staticmethod
    def forward(ctx, a, alpha, scale, input_scale):
        xp = backend.get_array_module(a)
        pos = a > 0
        neg = alpha * xp.expm1(xp.minimum(a, 0) * input_scale)
        ctx.save_for_backward(pos, neg)
        ctx.params = (alpha, scale, input_scale)
        out = xp.where(pos, a, neg)
        return out * scale if scale != 1 else out

    @staticmethod
    def backward(ctx, grad):
        pos, neg = ctx.saved
        alpha, scale, input_scale = ctx.params
        xp = backend.get_array_module(grad)
        # d/dx alpha * (exp(s x) - 1) = s * (neg + alpha)
        return grad * (scale * xp.where(pos, 1, input_scale * (neg + alpha)))


class Gelu(ArrayFunction):
    @staticmethod
    def forward(ctx, a, approximate):
        xp = backend.get_array_module(a)
        ctx.save_for_backward(a)
        ctx.approximate = approximate
        if approximate == "tanh":
            t = xp.tanh(_SQRT_2_OVER_PI * (a + 0.044715 * a * a * a))
            ctx.t = t
            return 0.5 * a * (1 + t)
        cdf = 0.5 * erfc_array(-a * _INV_SQRT_2)  # Phi(x), accurate in both tails
        ctx.cdf = cdf
        return a * cdf

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        xp = backend.get_array_module(grad)
        if ctx.approximate == "tanh":
            t = ctx.t
            inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * a * a)
            return grad * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * inner)
        return grad * (ctx.cdf + a * (_INV_SQRT_2PI * xp.exp(-0.5 * a * a)))


class Silu(ArrayFunction):
    @staticmethod
    def forward(ctx, a):
        xp = backend.get_array_module(a)
        s = 0.5 * (1 + xp.tanh(0.5 * a))
        ctx.save_for_backward(a, s)
        return a * s

    @staticmethod
    def backward(ctx, grad):
        a, s = ctx.saved
        return grad * (s * (1 + a * (1 - s)))


def _softplus_array(xp, a):
    """log(1 + exp(a)) without overflow."""
    return xp.maximum(a, 0) + xp.log1p(xp.exp(-xp.abs(a)))


class Mish(ArrayFunction):
    @staticmethod
    def forward(ctx, a):
        xp = backend.get_array_module(a)
        t = xp.tanh(_softplus_array(xp, a))
        ctx.save_for_backward(a, t)
        return a * t

    @staticmethod
    def backward(ctx, grad):
        a, t = ctx.saved
        xp = backend.get_array_module(grad)
        s = 0.5 * (1 + xp.tanh(0.5 * a))
        return grad * (t + a * s * (1 - t * t))


class Softplus(ArrayFunction):
    @staticmethod
    def forward(ctx, a, beta, threshold):
        xp = backend.get_array_module(a)
        z = a * beta
        linear = z > threshold
        ctx.save_for_backward(z, linear)
        return xp.where(linear, a, _softplus_array(xp, z) / beta)

    @staticmethod
    def backward(ctx, grad):
        z, linear = ctx.saved
        xp = backend.get_array_module(grad)
        return xp.where(linear, grad, grad * (0.5 * (1 + xp.tanh(0.5 * z))))


class LogSigmoid(ArrayFunction):
    @staticmethod
    def forward(ctx, a):
        xp = backend.get_array_module(a)
        ctx.save_for_backward(a)
        return -_softplus_array(xp, -a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        xp = backend.get_array_module(grad)
        return grad * (0.5 * (1 - xp.tanh(0.5 * a)))  # sigmoid(-x)


class Hardswish(ArrayFunction):
    @staticmethod
    def forward(ctx, a):
        xp = backend.get_array_module(a)
        ctx.save_for_backward(a)
        return a * xp.clip(a + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        xp = backend.get_array_module(grad)
        return grad * xp.where(a < -3, 0, xp.where(a <= 3, a / 3 + 0.5, 1))


class Softsign(ArrayFunction):
    @staticmethod
    def forward(ctx, a):
        xp = backend.get_array_module(a)
        d = 1 + xp.abs(a)
        ctx.save_for_backward(d)
        return a / d

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved
        return grad / (d * d)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``."""
    return Relu.apply(input)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)`` (a ``hardtanh(x, 0, 6)``)."""
    return hardtanh(input, 0.0, 6.0)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x if x > 0 else negative_slope * x``."""
    return LeakyRelu.apply(input, slope=float(negative_slope))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``x`` clipped to ``[min_val, max_val]``."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return Hardtanh.apply(input, lo=float(min_val), hi=float(max_val))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x if x > 0 else alpha * (exp(x) - 1)``."""
    return Elu.apply(as_float(input), alpha=float(alpha), scale=1.0, input_scale=1.0)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Self-normalising ELU: ``scale * elu(x, alpha)`` with the fixed constants of the paper."""
    return Elu.apply(as_float(input), alpha=_SELU_ALPHA, scale=_SELU_SCALE, input_scale=1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x if x > 0 else alpha * (exp(x / alpha) - 1)``."""
    if alpha == 0:
        raise ValueError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return Elu.apply(as_float(input), alpha=float(alpha), scale=1.0, input_scale=1.0 / alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)`` (``approximate='none'``, exact through erf) or its tanh approximation.

    Example:
        >>> import trainctl as tc
        >>> round(float(gelu(tc.tensor(1.0))), 6)
        0.841345
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return Gelu.apply(as_float(input), approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    return Silu.apply(as_float(input))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return Mish.apply(as_float(input))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``; linear where ``beta * x > threshold``."""
    return Softplus.apply(as_float(input), beta=float(beta), threshold=float(threshold))


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, stable for large ``|x|``."""
    return LogSigmoid.apply(as_float(input))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    return hardtanh(input, -3.0, 3.0) / 6 + 0.5


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    return Hardswish.apply(as_float(input))


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return Softsign.apply(as_float(input))


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-x, dim)``."""
    return softmax(-input, dim, dtype=dtype)
