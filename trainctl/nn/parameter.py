"""``Parameter``: a tensor that a :class:`~trainctl.nn.Module` registers as a learnable weight."""

from __future__ import annotations

import numpy

from ..autograd.tensor import Tensor
from ..core.dtypes import get_default_dtype


class Parameter(Tensor):
    """A leaf tensor that requires grad and is registered when assigned to a Module attribute.

    It shares memory with ``data`` (as in PyTorch). Ops on a parameter return plain tensors.

    Args:
        data: the initial values (a tensor or array-like); an empty float tensor when None.
        requires_grad: whether the optimizer should train it.

    Example:
        >>> import trainctl as tc
        >>> w = tc.nn.Parameter(tc.zeros(2, 3))
        >>> w.requires_grad, w.shape
        (True, trainctl.Size([2, 3]))
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            array = numpy.empty(0, dtype=get_default_dtype().numpy)
        elif isinstance(data, Tensor):
            array = data.array
        else:
            from ..autograd.creation import tensor

            array = tensor(data).array
        self.array = array
        self.grad = None
        self.grad_fn = None
        self._version = 0
        self._hooks = None
        self._requires_grad = False
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
