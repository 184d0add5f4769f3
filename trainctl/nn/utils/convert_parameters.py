"""Flatten parameters into one vector and back (e.g. for line searches or evolution methods)."""

from __future__ import annotations

from collections.abc import Iterable

from ...autograd.grad_mode import no_grad
from ...autograd.ops.shape import cat, reshape
from ...autograd.tensor import Tensor
from ...core.errors import ShapeError


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """One 1-D tensor holding every parameter, flattened, in order (differentiable).

    Example:
        >>> import trainctl as tc
        >>> tc.nn.utils.parameters_to_vector(tc.nn.Linear(3, 2).parameters()).shape
        trainctl.Size([8])
    """
    return cat([reshape(p, -1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (in place)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected vec to be a Tensor, but got {type(vec).__name__}")
    if vec.ndim != 1:
        raise ShapeError(f"vector_to_parameters: vec must be 1-D, got shape {tuple(vec.shape)}")
    parameters = list(parameters)
    total = sum(p.numel() for p in parameters)
    if total != vec.numel():
        raise ShapeError(
            f"vector_to_parameters: vec has {vec.numel()} elements, the parameters {total}"
        )
    pointer = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.copy_(vec.array[pointer:pointer + n].reshape(p.array.shape))
            pointer += n
