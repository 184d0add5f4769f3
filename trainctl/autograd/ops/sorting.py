"""Sorting, searching and counting: ``sort, argsort, topk, argmax, argmin, unique, bincount,
nonzero``.

Indices and counts never require grad. ``sort``/``topk`` values do: they are a differentiable
gather of the input at the returned indices, as in PyTorch.

Example:
    >>> import trainctl as tc
    >>> topk(tc.tensor([3.0, 1.0, 2.0]), 2)
    TopK(values=tensor([3., 2.]), indices=tensor([0, 2]))
"""

from __future__ import annotations

from collections import namedtuple

from ...core import backend
from ..array_function import compute
from ..tensor import Tensor
from ..trace import refuse_in_graph
from .reduction import TakeAlong, normalize_dims
from .shape import narrow


def _arg(a: Tensor, dim, keepdim, fn_name):
    xp = backend.get_array_module(a.array)
    fn = getattr(xp, fn_name)
    ndim = a.array.ndim
    axis = None if dim is None or ndim == 0 else normalize_dims(dim, ndim)[0]

    def indices(data):
        if axis is None:
            out = xp.asarray(fn(data.reshape(-1)))
            if keepdim:
                out = out.reshape((1,) * ndim)
        else:
            out = xp.asarray(fn(data, axis=axis))  # a 1-D input gives a NumPy scalar
            if keepdim:
                out = xp.expand_dims(out, axis)
        return out.astype(xp.int64)

    return compute(indices, a)  # an op, so graphs record it


def argmax(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (first one on ties)."""
    return _arg(a, dim, keepdim, "argmax")


def argmin(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value (first one on ties)."""
    return _arg(a, dim, keepdim, "argmin")


SortResult = namedtuple("SortResult", ["values", "indices"])


def sort(a: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """Sorted values and their original indices along ``dim`` (values carry gradient)."""
    xp = backend.get_array_module(a.array)
    axis = normalize_dims(dim, a.array.ndim)[0] if a.array.ndim else 0
    data = a.array if a.array.ndim else a.array.reshape(1)
    # A stable sort of the negated keys keeps equal elements in order when descending.
    keys = -data if descending and data.dtype.kind != "b" else data
    idx = xp.argsort(keys, axis=axis, kind="stable")
    if descending and data.dtype.kind == "b":
        idx = xp.flip(xp.argsort(data, axis=axis, kind="stable"), axis=axis)
    source = a if a.array.ndim else a.reshape(1)
    values = TakeAlong.apply(source, indices=idx, axis=axis)
    if not a.array.ndim:
        values, idx = values.reshape(()), idx.reshape(())
    return SortResult(values, Tensor._wrap(idx.astype(xp.int64)))


def argsort(a: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort ``a`` along ``dim``."""
    return sort(a, dim, descending, stable).indices


TopK = namedtuple("TopK", ["values", "indices"])


def topk(a: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    n = a.array.shape[dim] if a.array.ndim else 1
    if not 0 <= k <= n:
        raise IndexError(f"topk: k ({k}) is out of range for dimension of size {n}")
    values, indices = sort(a, dim, descending=largest)
    if a.array.ndim == 0:
        return TopK(values, indices)
    first_k = [slice(None)] * a.array.ndim
    first_k[dim] = slice(0, k)
    return TopK(narrow(values, dim, 0, k), Tensor._wrap(indices.array[tuple(first_k)]))


def unique(a: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim=None):
    """The distinct values (sorted), optionally with inverse indices and counts."""
    refuse_in_graph("unique() (its result's shape depends on the values)")
    xp = backend.get_array_module(a.array)
    result = xp.unique(a.array, return_inverse=return_inverse, return_counts=return_counts,
                       axis=dim)
    if not (return_inverse or return_counts):
        return Tensor._wrap(result)
    values, *rest = result
    out = [Tensor._wrap(values)]
    if return_inverse:
        inverse = rest.pop(0)
        inverse = inverse.reshape(a.array.shape if dim is None else -1)
        out.append(Tensor._wrap(inverse.astype(xp.int64)))
    if return_counts:
        out.append(Tensor._wrap(rest.pop(0).astype(xp.int64)))
    return tuple(out)


def bincount(a: Tensor, weights=None, minlength: int = 0) -> Tensor:
    """Count occurrences of each non-negative integer."""
    refuse_in_graph("bincount() (its result's shape depends on the values)")
    xp = backend.get_array_module(a.array)
    w = weights.array if isinstance(weights, Tensor) else weights
    return Tensor._wrap(xp.bincount(a.array, weights=w, minlength=minlength))


def nonzero(a: Tensor, as_tuple: bool = False):
    """Indices of non-zero elements: an (n, ndim) tensor, or one tensor per dimension."""
    refuse_in_graph("nonzero() (its result's shape depends on the values)")
    xp = backend.get_array_module(a.array)
    idx = xp.nonzero(a.array)
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(xp.int64)) for i in idx)
    return Tensor._wrap(xp.stack(idx, axis=1).astype(xp.int64) if idx else xp.zeros((0, 0)))

