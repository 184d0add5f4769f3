"""Adamax: Adam with the infinity norm (Kingma & Ba, 2015, section 7)."""

from __future__ import annotations

from collections.abc import Iterable

from ..autograd.tensor import Tensor
from ..core import backend
from .adam import _check_betas
from .optimizer import Optimizer, _bump, _grad_for_update, _lerp_, _step_counter, _zeros_state


class Adamax(Optimizer):
    """Adamax (``torch.optim.Adamax``).

    Update rule for each parameter ``p`` with gradient ``g`` at step ``t`` (from 1)::

        if maximize: g = -g
        if weight_decay != 0: g = g + weight_decay * p
        m = lerp(m, g, 1 - beta1)
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1 ** t) * m / u

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 2e-3).
        betas: coefficients of the running average and of the infinity norm.
        eps: added to ``|g|`` (default 1e-8).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective.
        foreach, differentiable, capturable: accepted for compatibility; ignored.

    Example:
        >>> import trainctl as tc
        >>> w = tc.tensor([1.0], requires_grad=True)
        >>> opt = tc.optim.Adamax([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.9000], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_betas(type(self).__name__, lr, betas, eps, weight_decay)
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
            maximize=maximize, differentiable=differentiable, capturable=capturable,
        )
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, state: dict) -> None:
        state["step"] = _step_counter()
        state["exp_avg"] = _zeros_state(p)
        state["exp_inf"] = _zeros_state(p)

    def _update(self, p: Tensor, grad, group) -> None:
        xp = backend.get_array_module(p.array)
        state = self._state(p)
        beta1, beta2 = group["betas"]
        step = _bump(state["step"])
        g = _grad_for_update(p, grad, group, xp)
        m, u = state["exp_avg"].array, state["exp_inf"].array
        _lerp_(m, g, 1 - beta1, xp)
        u *= beta2
        norm = xp.abs(g)
        norm += group["eps"]
        xp.maximum(u, norm, out=u)
        clr = group["lr"] / (1 - beta1**step)
        update = m * -clr
        update /= u
        p.array += update
