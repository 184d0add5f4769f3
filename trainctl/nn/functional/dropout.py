"""Dropout: zero elements (or whole channels) with probability ``p`` in training, scale the rest
by ``1 / (1 - p)``; the identity in evaluation. Masks come from trainctl's seeded generator."""

from __future__ import annotations

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from ...core import backend
from ...core.errors import ShapeError
from ...core.random import generator_for

__all__ = ["dropout", "dropout1d", "dropout2d"]


class MaskMul(Function):
    """``x * mask`` with a constant mask (already scaled by ``1 / (1 - p)``)."""

    @staticmethod
    def forward(ctx, a, mask):
        ctx.mask = mask
        return a * mask

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.mask


def _check_p(p: float) -> float:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _masked(input: Tensor, p: float, mask_shape: tuple, generator=None) -> Tensor:
    """Multiply by a Bernoulli(1 - p) mask of ``mask_shape`` (broadcast over the rest)."""
    dtype = input.array.dtype
    if p == 1.0:
        keep = backend.get_array_module(input.array).zeros(mask_shape, dtype=dtype)
    else:
        draw = generator_for(generator).random(mask_shape, dtype="float32")
        keep = ((draw >= p) * (1.0 / (1.0 - p))).astype(dtype)
        keep = backend.to_device(keep, input.device)
    return MaskMul.apply(input, mask=keep)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator=None) -> Tensor:
    """Zero each element with probability ``p`` and scale the others by ``1 / (1 - p)``.

    Example:
        >>> import trainctl as tc
        >>> y = dropout(tc.ones(1000), p=0.5)
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
    """
    p = _check_p(p)
    if not training or p == 0.0:
        return input
    return _masked(input, p, tuple(input.shape), generator)


def _feature_dropout(name, input, p, training, batched_ndim, generator):
    p = _check_p(p)
    if input.ndim not in (batched_ndim - 1, batched_ndim):
        raise ShapeError(
            f"{name}: expected a {batched_ndim - 1}-D or {batched_ndim}-D input, "
            f"got shape {tuple(input.shape)}"
        )
    if not training or p == 0.0:
        return input
    channels = 2 if input.ndim == batched_ndim else 1  # (N, C, ...) or unbatched (C, ...)
    shape = tuple(input.shape[:channels]) + (1,) * (input.ndim - channels)
    return _masked(input, p, shape, generator)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None) -> Tensor:
    """Zero whole channels of an (N, C, L) or (C, L) input."""
    return _feature_dropout("dropout1d", input, p, training, 3, generator)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None) -> Tensor:
    """Zero whole channels of an (N, C, H, W) input (an (N, C, L) input is taken as batched,
    as PyTorch does)."""
    p = _check_p(p)
    if input.ndim not in (3, 4):
        raise ShapeError(
            f"dropout2d: expected a 3-D or 4-D input, got shape {tuple(input.shape)}"
        )
    if not training or p == 0.0:
        return input
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _masked(input, p, shape, generator)
