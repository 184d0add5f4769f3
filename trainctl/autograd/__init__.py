"""Reverse-mode automatic differentiation: ``Tensor``, ``Function``, grad modes, ``grad``."""

from . import methods as _methods  # noqa: F401  (attaches ops to Tensor)
from .engine import backward, grad
from .function import Function, sum_to
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck
from .tensor import Size, Tensor

__all__ = [
    "Function", "Size", "Tensor", "backward", "enable_grad", "grad", "gradcheck", "is_grad_enabled",
    "no_grad", "set_grad_enabled", "sum_to",
]
