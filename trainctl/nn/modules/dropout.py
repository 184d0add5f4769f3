"""Dropout layers: active in training mode, the identity after ``eval()``."""

from __future__ import annotations

from ...autograd.tensor import Tensor
from ..functional.dropout import dropout, dropout1d, dropout2d
from ..module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` during training; scale the rest by
    ``1 / (1 - p)``.

    Example:
        >>> import trainctl as tc
        >>> drop = tc.nn.Dropout(0.5).eval()
        >>> bool((drop(tc.ones(4)) == 1).all())
        True
    """

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) inputs during training."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout1d(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) inputs during training."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout2d(input, self.p, self.training)
