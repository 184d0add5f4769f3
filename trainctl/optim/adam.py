"""Adam: adaptive moment estimation (Kingma & Ba, 2015), with AMSGrad as an option."""

from __future__ import annotations

from collections.abc import Iterable

from ..autograd.tensor import Tensor
from ..core import backend
from .optimizer import Optimizer, _bump, _grad_for_update, _lerp_, _step_counter, _zeros_state


def _check_betas(owner: str, lr, betas, eps, weight_decay) -> None:
    """The checks shared by the Adam family (messages name the optimizer and the argument)."""
    for name, value in (("lr", lr), ("eps", eps), ("weight_decay", weight_decay)):
        if not 0.0 <= value:
            raise ValueError(f"{owner}: {name} must be >= 0, got {value}")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"{owner}: betas[{i}] must be in [0, 1), got {beta}")


class Adam(Optimizer):
    """Adam (PyTorch's ``torch.optim.Adam``, its single-tensor numerics).

    Update rule for each parameter ``p`` with gradient ``g`` at step ``t`` (from 1)::

        if maximize: g = -g
        if weight_decay != 0:
            p = p * (1 - lr * weight_decay)      if decoupled_weight_decay   (AdamW)
            g = g + weight_decay * p             otherwise
        m = lerp(m, g, 1 - beta1)                # beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        step_size = lr / (1 - beta1 ** t)
        if amsgrad: v_max = max(v_max, v); v_hat = v_max   else: v_hat = v
        denom = sqrt(v_hat) / sqrt(1 - beta2 ** t) + eps
        p = p - step_size * m / denom

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages of the gradient and its square.
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty (default 0).
        amsgrad: use the running maximum of ``v`` (AMSGrad).
        maximize: maximize the objective.
        decoupled_weight_decay: decay the weights directly, as AdamW does.
        foreach, capturable, differentiable, fused: accepted for compatibility; ignored.

    Example:
        >>> import trainctl as tc
        >>> w = tc.tensor([1.0], requires_grad=True)
        >>> opt = tc.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.9000], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        _check_betas(type(self).__name__, lr, betas, eps, weight_decay)
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable, fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, state: dict) -> None:
        state["step"] = _step_counter()
        state["exp_avg"] = _zeros_state(p)
        state["exp_avg_sq"] = _zeros_state(p)

    def _update(self, p: Tensor, grad, group) -> None:
        xp = backend.get_array_module(p.array)
        state = self._state(p)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = _zeros_state(p)
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
        step_size = lr / (1 - beta1**step)
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"].array
            xp.maximum(v_max, v, out=v_max)
            v = v_max
        denom = xp.sqrt(v)
        denom /= bias_correction2_sqrt
        denom += group["eps"]
        update = m * -step_size
        update /= denom
        p.array += update
