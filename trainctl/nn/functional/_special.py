"""The error function ``erf`` (and ``erfc``), vectorised and accurate to float64.

NumPy has no ``erf``. These are Chebyshev expansions fitted (at 2000 Chebyshev nodes) to the C
library's ``erf``/``erfc``. Measured relative error against it: below 1e-15 for ``erf``
everywhere and for ``erfc`` up to ``|x| = 4``, growing to 6e-14 at ``x = 26`` (the rounding of
``x * x`` inside ``exp``). The three pieces:

- ``|x| < 1``: ``erf(x) = x * A(2x^2 - 1)``
- ``1 <= |x| < 4``: ``erfc(x) = exp(-x^2) * B((2x - 5) / 3)``
- ``|x| >= 4``: ``erfc(x) = exp(-x^2) / x * C(32 / x^2 - 1)``

Everything is computed in float64 and cast back, so float32 results are correctly rounded or
nearly so. Works on NumPy and CuPy arrays alike.
"""

from __future__ import annotations

import math

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from ...core import backend

_ERF_SMALL = (
    0.9754769393826541, -0.14226120510371362, 0.010035582187599743, -0.0005768764699767347,
    2.7419931252179675e-05, -1.1043175507406296e-06, 3.8488755387334984e-08,
    -1.1808582432157819e-09, 3.2334228555570324e-11, -7.990832516154001e-13,
    1.7982489026049865e-14,
)
_ERFCX_MID = (
    0.2444257528492357, -0.135898628915946, 0.03563511414853499, -0.008884098618222496,
    0.0021184239975530995, -0.00048539876408002414, 0.00010727375453769074,
    -2.2936634481907126e-05, 4.7568746915284706e-06, -9.589944832773328e-07,
    1.8829006882363915e-07, -3.6063206641832753e-08, 6.747601986623353e-09,
    -1.2349070401521227e-09, 2.2131499369734458e-10, -3.88795423822139e-11, 6.7013654367876856e-12,
    -1.1342338340409303e-12, 1.8858090893112896e-13, -3.085144910511777e-14, 4.929210189881689e-15,
    -7.881821136954695e-16, 9.830333712014765e-17,
)
_ERFCX_TAIL = (
    0.5559256934251757, -0.008090332092115746, 0.000167768369286891, -5.5310416338176034e-06,
    2.443693640268756e-07, -1.3327004381282738e-08, 8.550274966711461e-10, -6.254007367584435e-11,
    5.1017250860064276e-12, -4.567155488434716e-13, 4.431330118619155e-14, -4.601660398618072e-15,
    5.038046027407567e-16,
)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _cheb(coeffs, t):
    """Clenshaw's recurrence: the Chebyshev series ``sum c_k T_k(t)``."""
    b1 = b2 = 0.0
    t2 = 2.0 * t
    for c in coeffs[:0:-1]:
        b1, b2 = t2 * b1 - b2 + c, b1
    return t * b1 - b2 + coeffs[0]


def _erfc_pos(xp, a):
    """``erfc(a)`` for ``a >= 1`` (float64)."""
    out = xp.empty_like(a)
    mid = a < 4.0
    am = a[mid]
    out[mid] = xp.exp(-am * am) * _cheb(_ERFCX_MID, (2.0 * am - 5.0) / 3.0)
    at = a[~mid]
    out[~mid] = xp.exp(-at * at) / at * _cheb(_ERFCX_TAIL, 32.0 / (at * at) - 1.0)
    return out


def erf_array(x):
    """``erf`` of an array (any float dtype; the result has the same dtype)."""
    xp = backend.get_array_module(x)
    a64 = xp.abs(x.astype(xp.float64))
    out = xp.empty_like(a64)
    small = a64 < 1.0
    s = a64[small]
    out[small] = s * _cheb(_ERF_SMALL, 2.0 * s * s - 1.0)
    out[~small] = 1.0 - _erfc_pos(xp, a64[~small])
    return (xp.sign(x) * out).astype(x.dtype, copy=False)


def erfc_array(x):
    """``erfc = 1 - erf`` of an array, accurate in the tail where ``1 - erf`` would round to 0."""
    xp = backend.get_array_module(x)
    x64 = x.astype(xp.float64)
    a64 = xp.abs(x64)
    out = xp.empty_like(a64)
    small = a64 < 1.0
    s = x64[small]
    out[small] = 1.0 - s * _cheb(_ERF_SMALL, 2.0 * s * s - 1.0)
    big = ~small
    tail = _erfc_pos(xp, a64[big])
    out[big] = xp.where(x64[big] < 0, 2.0 - tail, tail)
    return out.astype(x.dtype, copy=False)


class Erf(Function):
    """``erf`` as a differentiable op: d/dx erf(x) = 2/sqrt(pi) exp(-x^2)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return erf_array(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        xp = backend.get_array_module(a)
        return grad * (_TWO_OVER_SQRT_PI * xp.exp(-a * a))


def erf(input: Tensor) -> Tensor:
    """The error function, element-wise (differentiable).

    Example:
        >>> import trainctl as tc
        >>> round(float(erf(tc.tensor(0.5))), 6)
        0.5205
    """
    return Erf.apply(input)
