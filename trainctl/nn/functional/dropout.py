"""Dropout: zero elements (or whole channels) with probability ``p`` in training, scale the rest
by ``1 / (1 - p)``; the identity in evaluation. Masks come from trainctl's seeded generator."""

from __future__ import annotations

import warnings

from ...autograd.array_function import ArrayFunction
from ...autograd.tensor import Tensor
from ...core import backend
from ...core.errors import ShapeError
from ...core.random import generator_for

__all__ = ["dropout", "dropout1d", "dropout2d"]


class MaskMul(ArrayFunction):
    """``x * mask`` with a Bernoulli(1 - p) mask of ``mask_shape`` scaled by ``1 / (1 - p)``.

    The mask is drawn inside ``forward``, so a graph replaying the op draws a fresh one from the
    same generator, in the same order as eager mode (a mask drawn before ``apply`` would be a
    constant of the trace).
    """

    @staticmethod
    def forward(ctx, a, mask_shape, p, generator):
        if p == 1.0 or backend.is_meta(a):  # all dropped; or on meta, nothing to draw
            mask = backend.get_array_module(a).zeros(mask_shape, dtype=a.dtype)
        else:
            draw = generator_for(generator).random(mask_shape, dtype="float32")
            # in the input's dtype throughout: `(draw >= p) * scale` would go through float64,
            # 4x the time on a large mask (same values: 0 or float32(scale))
            mask = (draw >= p).astype(a.dtype)
            mask *= 1.0 / (1.0 - p)
            mask = backend.to_device(mask, backend.device_of(a))
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
    return MaskMul.apply(input, mask_shape=mask_shape, p=p, generator=generator)


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
    """Zero whole channels of an (N, C, H, W) input.

    As in PyTorch 2.13, an (N, C, L) input is taken as batched (channel-wise 1-D dropout) with a
    warning, and any other input of 2 dimensions or more warns that it is deprecated and runs
    the same rule: channels along dimension 1, so a 2-D (N, C) input drops single elements.

    Example:
        >>> import trainctl as tc, warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     dropout2d(tc.ones(4, 6), 0.5).shape
        trainctl.Size([4, 6])
        >>> caught[0].message.args[0][:47]
        'dropout2d: Received a 2-D input to dropout2d, w'
    """
    p = _check_p(p)
    ndim = input.ndim
    if ndim not in (3, 4):
        warnings.warn(_DROPOUT2D_DIMS.format(ndim=ndim), stacklevel=2)
    if ndim == 3:
        warnings.warn(_DROPOUT2D_3D, stacklevel=2)
    if ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if not training or p == 0.0:
        return input
    shape = tuple(input.shape[:2]) + (1,) * (ndim - 2)
    return _masked(input, p, shape, generator)


# PyTorch's warnings, word for word (code that filters warnings by message keeps working).
_DROPOUT2D_DIMS = (
    "dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated and will result in "
    "an error in a future release. To retain the behavior and silence this warning, please use "
    "dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with "
    "2 spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
    "inputs)."
)
_DROPOUT2D_3D = (
    "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
    "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
    "This behavior will change in a future release to interpret the input as one without a "
    "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
    "please switch to using dropout1d instead."
)
