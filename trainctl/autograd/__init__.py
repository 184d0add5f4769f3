"""Reverse-mode automatic differentiation: ``Tensor``, ``Function``, grad modes, ``grad``."""

from ..core.allocator import tune_allocator as _tune_allocator
from . import inplace as _inplace  # noqa: F401  (attaches the in-place updates to Tensor)
from . import methods as _methods  # noqa: F401  (attaches the ops and backward to Tensor)
from .engine import backward, grad
from .function import Function, sum_to
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck
from .tensor import Size, Tensor

_tune_allocator()  # steps reuse freed array memory instead of faulting in new pages

__all__ = [
    "Function", "Size", "Tensor", "backward", "enable_grad", "grad", "gradcheck", "is_grad_enabled",
    "no_grad", "set_grad_enabled", "sum_to",
]
