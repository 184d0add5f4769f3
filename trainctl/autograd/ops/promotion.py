"""dtype promotion: how the operands of an op are brought to one dtype, PyTorch's way.

Across categories bool < integer < float the higher one wins; within one category a dimensioned
tensor beats a 0-d one, else the wider type wins; a Python scalar takes the tensor's dtype (an
int tensor times a float scalar becomes float32). :func:`cast` is the differentiable conversion
every op uses for this.

Example:
    >>> import trainctl as tc
    >>> a, b = promote(tc.tensor([1, 2]), 0.5)
    >>> a.dtype, b
    (trainctl.float32, 0.5)
"""

from __future__ import annotations

import numbers

import numpy

from ...core import dtypes
from ..array_function import ArrayFunction
from ..tensor import Tensor


class Cast(ArrayFunction):
    @staticmethod
    def forward(ctx, a, dtype):
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad  # the engine casts back to the input's dtype


def cast(t: Tensor, np_dtype) -> Tensor:
    """``t`` converted to ``np_dtype`` (differentiable between float types)."""
    if t.array.dtype == np_dtype:
        return t
    return Cast.apply(t, dtype=np_dtype)


def _promote_pair(a: Tensor, b: Tensor):
    da, db = a.array.dtype, b.array.dtype
    ka, kb = dtypes.from_numpy_dtype(da).category, dtypes.from_numpy_dtype(db).category
    if ka != kb:
        target = da if ka > kb else db
    elif (a.array.ndim == 0) != (b.array.ndim == 0):
        target = db if a.array.ndim == 0 else da
    else:
        target = numpy.promote_types(da, db)
    return cast(a, target), cast(b, target)


def _with_scalar(t: Tensor, s):
    """Make a Python scalar fit tensor ``t``; returns the (maybe cast) tensor and the scalar."""
    kind = t.array.dtype.kind
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
            da, db = a.array.dtype, b.array.dtype
            if da is db or da == db:
                return a, b
            return _promote_pair(a, b)
        if (type(b) is float or type(b) is int) and a.array.dtype.kind == "f":
            return a, b
    elif isinstance(b, Tensor) and (type(a) is float or type(a) is int) and (
        b.array.dtype.kind == "f"
    ):
        return a, b
    if isinstance(a, numpy.generic):
        a = a.item()
    if isinstance(b, numpy.generic):
        b = b.item()
    if isinstance(a, numpy.ndarray):  # a NumPy constant of the caller's
        a = Tensor._constant(a)
    if isinstance(b, numpy.ndarray):
        b = Tensor._constant(b)
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a.array.dtype == b.array.dtype:
                return a, b
            return _promote_pair(a, b)
        return _with_scalar(a, b)
    if isinstance(b, Tensor):
        b, a = _with_scalar(b, a)
        return a, b
    raise TypeError("expected at least one tensor operand")


def as_float(a: Tensor) -> Tensor:
    """``a`` itself when it is floating, else ``a`` cast to the default float dtype.

    Transcendental ops (``exp``, ``sigmoid``, ``gelu``...) on integer tensors compute in the
    default float type, as in PyTorch.

    Example:
        >>> import trainctl as tc
        >>> as_float(tc.tensor([1, 2])).dtype
        trainctl.float32
    """
    if a.array.dtype.kind != "f":
        return cast(a, dtypes.get_default_dtype().numpy)
    return a
