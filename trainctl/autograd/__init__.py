"""Reverse-mode automatic differentiation: ``Tensor``, ``Function``, grad modes, ``grad``.

``Function`` is the public, tensor-level base of custom functions (PyTorch's); trainctl's own
ops subclass the array-level ``array_function.ArrayFunction`` underneath it.
"""

from ..core.allocator import tune_allocator as _tune_allocator
from . import graph, variable
from . import inplace as _inplace  # noqa: F401  (attaches the in-place updates to Tensor)
from . import methods as _methods  # noqa: F401  (attaches the ops and backward to Tensor)
from .array_function import sum_to
from .engine import backward, grad
from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck
from .tensor import Size, Tensor
from .variable import Variable

_tune_allocator()  # steps reuse freed array memory instead of faulting in new pages

__all__ = [
    "Function", "Size", "Tensor", "backward", "enable_grad", "grad", "gradcheck", "is_grad_enabled",
    "no_grad", "set_grad_enabled", "sum_to", "Variable", "graph", "variable",
]
