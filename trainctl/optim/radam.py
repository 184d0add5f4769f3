"""RAdam: Adam with a rectified adaptive learning rate (Liu et al., 2020)."""

from __future__ import annotations

from collections.abc import Iterable

from ..autograd.tensor import Tensor
from ..core import backend
from .adam import _check_betas
from .optimizer import Optimizer, _bump, _grad_for_update, _lerp_, _step_counter, _zeros_state


class RAdam(Optimizer):
    """RAdam (``torch.optim.RAdam``).

    Update rule for each parameter ``p`` with gradient ``g`` at step ``t`` (from 1)::

        if maximize: g = -g
        if weight_decay != 0:
            p = p * (1 - lr * weight_decay)      if decoupled_weight_decay
            g = g + weight_decay * p             otherwise
        m = lerp(m, g, 1 - beta1)
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
        if rho_t > 5:
            rect = sqrt((rho_t - 4) (rho_t - 2) rho_inf / ((rho_inf - 4) (rho_inf - 2) rho_t))
            adaptive = sqrt(1 - beta2 ** t) / (sqrt(v) + eps)
            p = p - m_hat * lr * adaptive * rect
        else:
            p = p - m_hat * lr

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: running-average coefficients (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: weight decay (default 0).
        decoupled_weight_decay: decay the weights directly (as AdamW).
        maximize: maximize the objective.
        foreach, capturable, differentiable: accepted for compatibility; ignored.

    Example:
        >>> import trainctl as tc
        >>> w = tc.tensor([1.0], requires_grad=True)
        >>> opt = tc.optim.RAdam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.8000], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_betas(type(self).__name__, lr, betas, eps, weight_decay)
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
            foreach=foreach, capturable=capturable,
            decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, state: dict) -> None:
        state["step"] = _step_counter()
        state["exp_avg"] = _zeros_state(p)
        state["exp_avg_sq"] = _zeros_state(p)

    def _update(self, p: Tensor, grad, group) -> None:
        xp = backend.get_array_module(p.array)
        state = self._state(p)
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        decoupled = group["decoupled_weight_decay"]
        step = _bump(state["step"])
        if decoupled and wd != 0:
            p.array *= 1 - lr * wd
        g = _grad_for_update(p, grad, group, xp, weight_decay=not decoupled)
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array
        _lerp_(m, g, 1 - beta1, xp)
        v *= beta2
        v += (1 - beta2) * g * g
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        update = m / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * beta2**step / bias_correction2
        update *= lr
        if rho_t > 5.0:
            rect = (
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            ) ** 0.5
            adaptive = xp.sqrt(v)
            adaptive += group["eps"]
            xp.divide(bias_correction2**0.5, adaptive, out=adaptive)
            update *= adaptive
            update *= rect
        p.array -= update
