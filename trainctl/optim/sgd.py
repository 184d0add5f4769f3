"""Stochastic gradient descent, optionally with (Nesterov) momentum."""

from __future__ import annotations

from collections.abc import Iterable

from ..autograd.tensor import Tensor
from ..core import backend
from ._blas import axpby, axpy
from .optimizer import Optimizer, _grad_for_update


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's ``torch.optim.SGD``).

    Update rule for each parameter ``p`` with gradient ``g`` (``t`` counts steps from 1)::

        if maximize: g = -g
        if weight_decay != 0: g = g + weight_decay * p
        if momentum != 0:
            b = g                                      if t == 1
            b = momentum * b + (1 - dampening) * g     otherwise
            g = g + momentum * b   if nesterov else   b
        p = p - lr * g

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        nesterov: Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        maximize: maximize the objective instead of minimizing it.
        foreach, differentiable, fused: accepted for PyTorch compatibility; ignored.

    Example:
        >>> import trainctl as tc
        >>> w = tc.tensor([1.0], requires_grad=True)
        >>> opt = tc.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> (2 * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.8000], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"{type(self).__name__}: lr must be >= 0, got {lr}")
        if momentum < 0.0:
            raise ValueError(f"{type(self).__name__}: momentum must be >= 0, got {momentum}")
        if weight_decay < 0.0:
            raise ValueError(
                f"{type(self).__name__}: weight_decay must be >= 0, got {weight_decay}"
            )
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening == 0")
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
            nesterov=nesterov, maximize=maximize, foreach=foreach,
            differentiable=differentiable, fused=fused,
        )
        super().__init__(params, defaults)

    def _update(self, p: Tensor, grad, group) -> None:
        # The updates are fused BLAS calls on big arrays (see _blas.py): one pass, not five.
        if not (group["momentum"] or group.get("weight_decay") or group.get("maximize")):
            axpy(-group["lr"], grad, p.array)  # plain SGD, the common case: no helper calls
            return
        xp = backend.get_array_module(p.array)
        g = _grad_for_update(p, grad, group, xp)
        momentum = group["momentum"]
        if momentum != 0:
            state = self.state[p]
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = Tensor._wrap(xp.array(g, copy=True))
            else:
                axpby(1 - group["dampening"], g, momentum, buf.array)
            g = g + momentum * buf.array if group["nesterov"] else buf.array
        axpy(-group["lr"], g, p.array)
