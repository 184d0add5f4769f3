"""Adadelta: an adaptive learning-rate method without a global step size (Zeiler, 2012)."""

from __future__ import annotations

from collections.abc import Iterable

from ..autograd.tensor import Tensor
from ..core import backend
from .optimizer import Optimizer, _bump, _grad_for_update, _step_counter, _zeros_state


class Adadelta(Optimizer):
    """Adadelta (``torch.optim.Adadelta``).

    Update rule for each parameter ``p`` with gradient ``g``::

        if maximize: g = -g
        if weight_decay != 0: g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta

    Args:
        params: parameters or parameter groups.
        lr: scale applied to the update (default 1.0).
        rho: coefficient of the running averages (default 0.9).
        eps: added inside the square roots (default 1e-6).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective.
        foreach, capturable, differentiable: accepted for compatibility; ignored.

    Example:
        >>> import trainctl as tc
        >>> w = tc.tensor([1.0], requires_grad=True)
        >>> opt = tc.optim.Adadelta([w])
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> round(w.item(), 5)
        0.99684
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"{type(self).__name__}: lr must be >= 0, got {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"{type(self).__name__}: rho must be in [0, 1], got {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"{type(self).__name__}: eps must be >= 0, got {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(
                f"{type(self).__name__}: weight_decay must be >= 0, got {weight_decay}"
            )
        defaults = dict(
            lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
            capturable=capturable, foreach=foreach, differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, state: dict) -> None:
        state["step"] = _step_counter()
        state["square_avg"] = _zeros_state(p)
        state["acc_delta"] = _zeros_state(p)

    def _update(self, p: Tensor, grad, group) -> None:
        xp = backend.get_array_module(p.array)
        state = self._state(p)
        rho, eps = group["rho"], group["eps"]
        _bump(state["step"])
        g = _grad_for_update(p, grad, group, xp)
        v, u = state["square_avg"].array, state["acc_delta"].array
        v *= rho
        v += (1 - rho) * g * g
        std = v + eps
        xp.sqrt(std, out=std)
        delta = u + eps
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        u *= rho
        u += (1 - rho) * delta * delta
        p.array -= group["lr"] * delta
