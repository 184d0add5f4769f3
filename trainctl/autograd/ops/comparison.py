"""Comparisons, logic, bits and rounding: ``eq, lt, ..., isclose, logical_and, bitwise_and, gcd,
all, any, isnan, signbit, floor, round, sign``... Their results never require grad.

Sorting, ``argmax`` and counting are in ``sorting.py``.

Example:
    >>> import trainctl as tc
    >>> lt(tc.tensor([1.0, 3.0]), 2)
    tensor([ True, False])
"""

from __future__ import annotations

import functools

from ...core import backend
from ..array_function import compute
from ..tensor import Tensor
from .promotion import promote
from .reduction import normalize_dims


def _data(x):
    return x.array if isinstance(x, Tensor) else x


def _compare(name):
    def compare(a, b) -> Tensor:
        a, b = promote(a, b)
        xp = backend.get_array_module(_data(a), _data(b))
        return compute(getattr(xp, name), a, b)  # an op, so graphs record it

    compare.__name__ = name
    compare.__doc__ = f"Element-wise ``{name}`` as a bool tensor."
    return compare


eq = _compare("equal")
ne = _compare("not_equal")
lt = _compare("less")
le = _compare("less_equal")
gt = _compare("greater")
ge = _compare("greater_equal")
logical_and = _compare("logical_and")
logical_or = _compare("logical_or")
logical_xor = _compare("logical_xor")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
# Integer and bit-level element-wise ops (no gradient in PyTorch either).
bitwise_and = _compare("bitwise_and")
bitwise_or = _compare("bitwise_or")
bitwise_xor = _compare("bitwise_xor")
bitwise_left_shift = _compare("left_shift")
bitwise_right_shift = _compare("right_shift")
gcd = _compare("gcd")
lcm = _compare("lcm")
nextafter = _compare("nextafter")


def equal(a: Tensor, b: Tensor) -> bool:
    """True when both tensors have the same shape and elements."""
    return a.array.shape == b.array.shape and bool((a.array == b.array).all())


def _elementwise(name, fn):
    def op(a: Tensor) -> Tensor:
        xp = backend.get_array_module(a.array)
        return compute(functools.partial(fn, xp), a)

    op.__name__ = name
    op.__doc__ = f"Element-wise ``{name}`` (no gradient)."
    return op


logical_not = _elementwise("logical_not", lambda xp, a: xp.logical_not(a))
# PyTorch's sign of nan is 0 (NumPy's is nan).
sign = _elementwise("sign", lambda xp, a: xp.where(xp.isnan(a), 0, xp.sign(a)).astype(a.dtype)
                    if a.dtype.kind == "f" else xp.sign(a))
floor = _elementwise("floor", lambda xp, a: xp.floor(a))
ceil = _elementwise("ceil", lambda xp, a: xp.ceil(a))
trunc = _elementwise("trunc", lambda xp, a: xp.trunc(a))
isnan = _elementwise("isnan", lambda xp, a: xp.isnan(a))
isinf = _elementwise("isinf", lambda xp, a: xp.isinf(a))
isfinite = _elementwise("isfinite", lambda xp, a: xp.isfinite(a))
bitwise_not = _elementwise("bitwise_not", lambda xp, a: ~a)
signbit = _elementwise("signbit", lambda xp, a: xp.signbit(a))
isposinf = _elementwise("isposinf", lambda xp, a: xp.isposinf(a))
isneginf = _elementwise("isneginf", lambda xp, a: xp.isneginf(a))
isreal = _elementwise("isreal", lambda xp, a: xp.ones(a.shape, bool))  # no complex tensors
sgn, fix = sign, trunc


def round(a: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even (as PyTorch), optionally to ``decimals`` places."""
    xp = backend.get_array_module(a.array)
    return compute(functools.partial(xp.round, decimals=decimals), a)


def all(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element (over ``dim``) is non-zero."""
    axis = None if dim is None else normalize_dims(dim, a.array.ndim)
    return compute(lambda d: d.astype(bool).all(axis=axis, keepdims=keepdim), a)


def any(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element (over ``dim``) is non-zero."""
    axis = None if dim is None else normalize_dims(dim, a.array.ndim)
    return compute(lambda d: d.astype(bool).any(axis=axis, keepdims=keepdim), a)


def _array(x, like):
    if isinstance(x, Tensor):
        return x.array
    return backend.get_array_module(like).asarray(x)


def isclose(input: Tensor, other, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol * |other|`` as a bool tensor."""
    xp = backend.get_array_module(input.array)
    close = functools.partial(xp.isclose, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return compute(close, input, other if isinstance(other, Tensor) else _array(other, input.array))


def allclose(input: Tensor, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every element of ``input`` is close to ``other`` (see :func:`isclose`)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).array.all())
