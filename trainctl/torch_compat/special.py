"""``tc.special``: the functions of ``torch.special`` trainctl has, under their ``special`` names.

Most are the ``tc`` functions themselves (``expit`` is ``sigmoid``, ``gammaln`` is ``lgamma``,
``psi`` is ``digamma``...); ``ndtr`` is written here. The Bessel functions, orthogonal
polynomials, ``zeta``, ``gammainc``, ``erfcx``, ``ndtri`` and ``log_ndtr`` are refused with the
one-line error (:mod:`.unsupported`).

Example:
    >>> import trainctl as tc
    >>> tc.special.ndtr(tc.tensor([0.0, 1.959964]))
    tensor([0.5000, 0.9750])
"""

from __future__ import annotations

import math

from ..autograd.ops.arithmetic import mul
from ..autograd.ops.binary import xlog1py, xlogy
from ..autograd.ops.comparison import round
from ..autograd.ops.promotion import as_float
from ..autograd.ops.softmax import log_softmax, logsumexp, softmax
from ..autograd.ops.special import digamma, erf, erfc, erfinv, lgamma, mvlgamma, polygamma
from ..autograd.ops.unary import entr, exp2, expm1, log1p, logit, sigmoid, sinc
from ..autograd.tensor import Tensor
from .unsupported import lookup

__all__ = [
    "digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "log1p",
    "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "polygamma", "psi", "round",
    "sinc", "softmax", "xlog1py", "xlogy",
]

expit, gammaln, psi, multigammaln = sigmoid, lgamma, digamma, mvlgamma


def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF, ``erfc(-x / sqrt(2)) / 2``: accurate in both tails, where
    PyTorch's ``(1 + erf(x / sqrt(2))) / 2`` gives 0 below about -8.3 (float64) or -5.5 (float32).

    Example:
        >>> import trainctl as tc
        >>> ndtr(tc.tensor([-10.0], dtype=tc.float64)).item()
        7.619853024160578e-24
    """
    return mul(erfc(mul(as_float(input), -1 / math.sqrt(2))), 0.5)


REFUSED_FEATURE = "the special function torch.special.{name}"
REFUSED = {
    name: (REFUSED_FEATURE.format(name=name), instead)
    for names, instead in [
        ("""airy_ai bessel_j0 bessel_j1 bessel_y0 bessel_y1 i0 i0e i1 i1e modified_bessel_i0
            modified_bessel_i1 modified_bessel_k0 modified_bessel_k1 scaled_modified_bessel_k0
            scaled_modified_bessel_k1 spherical_bessel_j0""",
         "use scipy.special on tensor.detach().numpy() (no gradient)"),
        ("""chebyshev_polynomial_t chebyshev_polynomial_u chebyshev_polynomial_v
            chebyshev_polynomial_w hermite_polynomial_h hermite_polynomial_he
            laguerre_polynomial_l legendre_polynomial_p shifted_chebyshev_polynomial_t
            shifted_chebyshev_polynomial_u shifted_chebyshev_polynomial_v
            shifted_chebyshev_polynomial_w""",
         "write the recurrence with tensor ops, or use numpy.polynomial"),
        ("erfcx gammainc gammaincc log_ndtr ndtri zeta",
         "use scipy.special on tensor.detach().numpy() (no gradient)"),
    ]
    for name in names.split()
}


def __getattr__(name: str):
    lookup(REFUSED, __name__, name)
