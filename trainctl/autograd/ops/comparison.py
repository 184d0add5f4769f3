"""Non-differentiable ops: comparisons, logic, rounding, ``argmax``, ``sort``, ``topk``,
``unique``... Their results never require grad (``sort``/``topk`` values excepted: they are a
differentiable gather of the input at the returned indices, as in PyTorch).
"""

from __future__ import annotations

from collections import namedtuple

from ...core import backend
from ..tensor import Tensor
from .elementwise import promote
from .reduction import TakeAlong, normalize_dims


def _data(x):
    return x.data if isinstance(x, Tensor) else x


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
    return a.data.shape == b.data.shape and bool((a.data == b.data).all())


def _elementwise(name, fn):
    def op(a: Tensor) -> Tensor:
        xp = backend.get_array_module(a.data)
        return Tensor._wrap(xp.asarray(fn(xp, a.data)))

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
    xp = backend.get_array_module(a.data)
    return Tensor._wrap(xp.asarray(xp.round(a.data, decimals)))


def _arg(a: Tensor, dim, keepdim, fn_name):
    xp = backend.get_array_module(a.data)
    fn = getattr(xp, fn_name)
    if dim is None or a.data.ndim == 0:
        out = xp.asarray(fn(a.data.reshape(-1)))
        if keepdim:
            out = out.reshape((1,) * a.data.ndim)
    else:
        axis = normalize_dims(dim, a.data.ndim)[0]
        out = xp.asarray(fn(a.data, axis=axis))  # a 1-D input gives a NumPy scalar
        if keepdim:
            out = xp.expand_dims(out, axis)
    return Tensor._wrap(out.astype(xp.int64))


def argmax(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (first one on ties)."""
    return _arg(a, dim, keepdim, "argmax")


def argmin(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value (first one on ties)."""
    return _arg(a, dim, keepdim, "argmin")


def all(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element (over ``dim``) is non-zero."""
    axis = None if dim is None else normalize_dims(dim, a.data.ndim)
    xp = backend.get_array_module(a.data)
    return Tensor._wrap(xp.asarray(a.data.astype(bool).all(axis=axis, keepdims=keepdim)))


def any(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element (over ``dim``) is non-zero."""
    axis = None if dim is None else normalize_dims(dim, a.data.ndim)
    xp = backend.get_array_module(a.data)
    return Tensor._wrap(xp.asarray(a.data.astype(bool).any(axis=axis, keepdims=keepdim)))


SortResult = namedtuple("SortResult", ["values", "indices"])


def sort(a: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """Sorted values and their original indices along ``dim`` (values carry gradient)."""
    xp = backend.get_array_module(a.data)
    axis = normalize_dims(dim, a.data.ndim)[0] if a.data.ndim else 0
    data = a.data if a.data.ndim else a.data.reshape(1)
    # A stable sort of the negated keys keeps equal elements in order when descending.
    keys = -data if descending and data.dtype.kind != "b" else data
    idx = xp.argsort(keys, axis=axis, kind="stable")
    if descending and data.dtype.kind == "b":
        idx = xp.flip(xp.argsort(data, axis=axis, kind="stable"), axis=axis)
    source = a if a.data.ndim else a.reshape(1)
    values = TakeAlong.apply(source, indices=idx, axis=axis)
    if not a.data.ndim:
        values, idx = values.reshape(()), idx.reshape(())
    return SortResult(values, Tensor._wrap(idx.astype(xp.int64)))


def argsort(a: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort ``a`` along ``dim``."""
    return sort(a, dim, descending, stable).indices


TopK = namedtuple("TopK", ["values", "indices"])


def topk(a: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    n = a.data.shape[dim] if a.data.ndim else 1
    if not 0 <= k <= n:
        raise IndexError(f"topk: k ({k}) is out of range for dimension of size {n}")
    values, indices = sort(a, dim, descending=largest)
    from .shape import narrow

    if a.data.ndim == 0:
        return TopK(values, indices)
    first_k = [slice(None)] * a.data.ndim
    first_k[dim] = slice(0, k)
    return TopK(narrow(values, dim, 0, k), Tensor._wrap(indices.data[tuple(first_k)]))


def unique(a: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim=None):
    """The distinct values (sorted), optionally with inverse indices and counts."""
    xp = backend.get_array_module(a.data)
    result = xp.unique(a.data, return_inverse=return_inverse, return_counts=return_counts,
                       axis=dim)
    if not (return_inverse or return_counts):
        return Tensor._wrap(result)
    values, *rest = result
    out = [Tensor._wrap(values)]
    if return_inverse:
        inverse = rest.pop(0)
        inverse = inverse.reshape(a.data.shape if dim is None else -1)
        out.append(Tensor._wrap(inverse.astype(xp.int64)))
    if return_counts:
        out.append(Tensor._wrap(rest.pop(0).astype(xp.int64)))
    return tuple(out)


def bincount(a: Tensor, weights=None, minlength: int = 0) -> Tensor:
    """Count occurrences of each non-negative integer."""
    xp = backend.get_array_module(a.data)
    w = None if weights is None else _data(weights)
    return Tensor._wrap(xp.bincount(a.data, weights=w, minlength=minlength))


def nonzero(a: Tensor, as_tuple: bool = False):
    """Indices of non-zero elements: an (n, ndim) tensor, or one tensor per dimension."""
    xp = backend.get_array_module(a.data)
    idx = xp.nonzero(a.data)
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(xp.int64)) for i in idx)
    return Tensor._wrap(xp.stack(idx, axis=1).astype(xp.int64) if idx else xp.zeros((0, 0)))


def _array(x, like):
    if isinstance(x, Tensor):
        return x.data
    return backend.get_array_module(like).asarray(x)


def isclose(input: Tensor, other, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol * |other|`` as a bool tensor."""
    xp = backend.get_array_module(input.data)
    return Tensor._wrap(xp.isclose(input.data, _array(other, input.data), rtol=rtol, atol=atol,
                                   equal_nan=equal_nan))


def allclose(input: Tensor, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every element of ``input`` is close to ``other`` (see :func:`isclose`)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())
