"""NAdam: Adam with Nesterov momentum (Dozat, 2016)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy

from ..autograd.tensor import Tensor
from ..core import backend
from .adam import _check_betas
from .optimizer import Optimizer, _bump, _grad_for_update, _lerp_, _step_counter, _zeros_state


class NAdam(Optimizer):
    """NAdam (``torch.optim.NAdam``), with the momentum-decay schedule of the paper.

    Update rule for each parameter ``p`` with gradient ``g`` at step ``t`` (from 1)::

        if maximize: g = -g
        if weight_decay != 0:
            p = p * (1 - lr * weight_decay)      if decoupled_weight_decay
            g = g + weight_decay * p             otherwise
        mu_t      = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next   = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mu_prod   = mu_prod * mu_t                        # float32, starts at 1
        m = lerp(m, g, 1 - beta1)
        v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2 ** t)) + eps
        p = p - lr * (1 - mu_t) / (1 - mu_prod) * g / denom
        p = p - lr * mu_next / (1 - mu_prod * mu_next) * m / denom

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 2e-3).
        betas: running-average coefficients (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: weight decay (default 0).
        momentum_decay: the ``psi`` of the momentum schedule (default 4e-3).
        decoupled_weight_decay: decay the weights directly (NAdamW).
        maximize: maximize the objective.
        foreach, capturable, differentiable: accepted for compatibility; ignored.

    Example:
        >>> import trainctl as tc
        >>> w = tc.tensor([1.0], requires_grad=True)
        >>> opt = tc.optim.NAdam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> round(w.item(), 4)
        0.8944
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_betas(type(self).__name__, lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(
                f"{type(self).__name__}: momentum_decay must be >= 0, got {momentum_decay}"
            )
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, state: dict) -> None:
        state["step"] = _step_counter()
        state["mu_product"] = Tensor._wrap(numpy.ones((), dtype=numpy.float32))
        state["exp_avg"] = _zeros_state(p)
        state["exp_avg_sq"] = _zeros_state(p)

    def _update(self, p: Tensor, grad, group) -> None:
        xp = backend.get_array_module(p.array)
        state = self._state(p)
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        decay, decoupled = group["momentum_decay"], group["decoupled_weight_decay"]
        step = _bump(state["step"])
        bias_correction2 = 1 - beta2**step
        if decoupled and wd != 0:
            p.array *= 1 - lr * wd
        g = _grad_for_update(p, grad, group, xp, weight_decay=not decoupled)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
        mu_product = state["mu_product"].array
        mu_product *= mu  # kept in float32, as PyTorch keeps it in a float32 tensor
        mu_product = float(mu_product)
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array
        _lerp_(m, g, 1 - beta1, xp)
        v *= beta2
        v += (1 - beta2) * g * g
        denom = v / bias_correction2
        xp.sqrt(denom, out=denom)
        denom += group["eps"]
        update = g * (-lr * (1.0 - mu) / (1.0 - mu_product))
        update /= denom
        p.array += update
        update = m * (-lr * mu_next / (1.0 - mu_product * mu_next))
        update /= denom
        p.array += update
