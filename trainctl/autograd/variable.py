"""``Variable``: PyTorch's legacy wrapper, which since PyTorch 0.4 just returns a tensor.

Old code (``from torch.autograd import Variable``) keeps running: ``Variable(t)`` is a tensor
sharing ``t``'s data, outside the graph, with the ``requires_grad`` asked for, and every tensor
is an instance of ``Variable``.

Example:
    >>> import trainctl as tc
    >>> w = Variable(tc.zeros(2), requires_grad=True)
    >>> w.requires_grad, isinstance(w, Variable)
    (True, True)
"""

from __future__ import annotations

import warnings

import numpy

from ..core import dtypes
from .tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, other) -> bool:
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False)``: ``data`` (a tensor) as a new tensor sharing its
    storage, cut from the graph, with ``requires_grad`` set. ``volatile`` is accepted and ignored
    (PyTorch warns the same); use ``tc.no_grad()``."""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = False,
                volatile: bool | None = None) -> Tensor:
        if volatile is not None:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` "
                          "instead.", UserWarning, stacklevel=2)
        if data is None:
            return Tensor._wrap(numpy.zeros(0, dtypes.get_default_dtype().numpy), requires_grad)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)
