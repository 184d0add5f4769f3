"""Comparisons, logic and rounding: ``eq, lt, ..., isclose, logical_and, all, any, isnan,
floor, round, sign``... Their results never require grad.

Sorting, ``argmax`` and counting are in ``sorting.py``.

Example:
    >>> import trainctl as tc
    >>> lt(tc.tensor([1.0, 3.0]), 2)
    tensor([ True, False])
"""

from __future__ import annotations

from ...core import backend
from ..tensor import Tensor
from .promotion import promote
from .reduction import normalize_dims


def _data(x):
    return x.array if isinstance(x, Tensor) else x


def _compare(name):
    def compare(a, b) -> Tensor:
        a, b = promote(a, b)
        xp = backend.get_array_module(_data(a), _data(b))
        return Tensor._wrap(xp.asarray(getattr(xp, name)(_data(a), _data(b))))

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


def equal(a: Tensor, b: Tensor) -> bool:
    """True when both tensors have the same shape and elements."""
    return a.array.shape == b.array.shape and bool((a.array == b.array).all())


def _elementwise(name, fn):
    def op(a: Tensor) -> Tensor:
        xp = backend.get_array_module(a.array)
        return Tensor._wrap(xp.asarray(fn(xp, a.array)))

    op.__name__ = name
    op.__doc__ = f"Element-wise ``{name}`` (no gradient)."
    return op


logical_not = _elementwise("logical_not", lambda xp, a: xp.logical_not(a))
sign = _elementwise("sign", lambda xp, a: xp.sign(a))
floor = _elementwise("floor", lambda xp, a: xp.floor(a))
ceil = _elementwise("ceil", lambda xp, a: xp.ceil(a))
trunc = _elementwise("trunc", lambda xp, a: xp.trunc(a))
isnan = _elementwise("isnan", lambda xp, a: xp.isnan(a))
isinf = _elementwise("isinf", lambda xp, a: xp.isinf(a))
isfinite = _elementwise("isfinite", lambda xp, a: xp.isfinite(a))
bitwise_not = _elementwise("bitwise_not", lambda xp, a: ~a)


def round(a: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even (as PyTorch), optionally to ``decimals`` places."""
    xp = backend.get_array_module(a.array)
    return Tensor._wrap(xp.asarray(xp.round(a.array, decimals)))


def all(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element (over ``dim``) is non-zero."""
    axis = None if dim is None else normalize_dims(dim, a.array.ndim)
    xp = backend.get_array_module(a.array)
    return Tensor._wrap(xp.asarray(a.array.astype(bool).all(axis=axis, keepdims=keepdim)))


def any(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element (over ``dim``) is non-zero."""
    axis = None if dim is None else normalize_dims(dim, a.array.ndim)
    xp = backend.get_array_module(a.array)
    return Tensor._wrap(xp.asarray(a.array.astype(bool).any(axis=axis, keepdims=keepdim)))


def _array(x, like):
    if isinstance(x, Tensor):
        return x.array
    return backend.get_array_module(like).asarray(x)


def isclose(input: Tensor, other, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol * |other|`` as a bool tensor."""
    xp = backend.get_array_module(input.array)
    return Tensor._wrap(xp.isclose(input.array, _array(other, input.array), rtol=rtol, atol=atol,
                                   equal_nan=equal_nan))


def allclose(input: Tensor, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every element of ``input`` is close to ``other`` (see :func:`isclose`)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).array.all())
