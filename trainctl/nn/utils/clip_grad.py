"""Gradient clipping: by total norm (``clip_grad_norm_``) or by value (``clip_grad_value_``)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...autograd.trace import graph_step
from ...core import backend


def _as_list(tensors) -> list:
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def get_total_norm(tensors: Iterable[Tensor] | Tensor, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` together, as if concatenated into one vector."""
    tensors = [t for t in _as_list(tensors) if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._wrap(backend.get_array_module().zeros((), "float32"))
    datas = [t.array for t in tensors]
    xp = backend.get_array_module(datas[0])
    if norm_type == math.inf:
        total = xp.max(xp.stack([xp.abs(d).max() for d in datas]))
    elif norm_type == 2.0:
        # vdot on the flat view is one BLAS call per tensor, no temporary of |g|^2.
        total = xp.sqrt(sum(xp.vdot(d.ravel(), d.ravel()) for d in datas))
    else:
        total = sum((xp.abs(d) ** norm_type).sum() for d in datas) ** (1.0 / norm_type)
    total = xp.asarray(total, dtype=datas[0].dtype)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._wrap(total)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor, foreach=None) -> None:
    """Scale the gradients by ``min(1, max_norm / (total_norm + 1e-6))`` in place."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    total = total_norm.array if isinstance(total_norm, Tensor) else total_norm
    xp = backend.get_array_module(grads[0].array)
    coef = xp.minimum(float(max_norm) / (total + 1e-6), 1.0)
    with no_grad():
        for g in grads:
            g.array *= coef.astype(g.array.dtype)


@graph_step
def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Rescale gradients in place so their total norm is at most ``max_norm``.

    Returns the total norm *before* clipping (a 0-d tensor), like PyTorch.

    Example:
        >>> import trainctl as tc
        >>> w = tc.nn.Parameter(tc.ones(4)); w.grad = tc.full((4,), 3.0)
        >>> float(tc.nn.utils.clip_grad_norm_([w], max_norm=1.0))
        6.0
        >>> round(float(w.grad.norm()), 4)
        1.0
    """
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


@graph_step
def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float,
                     foreach=None) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)
