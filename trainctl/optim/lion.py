"""Lion: EvoLved Sign Momentum (Chen et al., 2023, "Symbolic Discovery of Optimization
Algorithms", Algorithm 2). PyTorch has no Lion; this follows the paper."""

from __future__ import annotations

from collections.abc import Iterable

from ..autograd.tensor import Tensor
from ..core import backend
from .optimizer import Optimizer, _grad_for_update, _zeros_state


class Lion(Optimizer):
    """Lion: the update is the sign of an interpolation of momentum and gradient.

    Update rule for each parameter ``p`` with gradient ``g`` (the paper's Algorithm 2)::

        if maximize: g = -g
        c = beta1 * m + (1 - beta1) * g
        p = p - lr * (sign(c) + weight_decay * p)     # decoupled weight decay
        m = beta2 * m + (1 - beta2) * g

    Lion's updates all have magnitude ``lr``, so it wants a learning rate 3-10x smaller than
    AdamW's and a weight decay 3-10x larger.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-4).
        betas: interpolation coefficient for the update and momentum decay (default (0.9, 0.99)).
        weight_decay: decoupled weight decay (default 0.0).
        maximize: maximize the objective.

    Example:
        >>> import trainctl as tc
        >>> w = tc.tensor([1.0, -1.0], requires_grad=True)
        >>> opt = tc.optim.Lion([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"{type(self).__name__}: lr must be >= 0, got {lr}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{type(self).__name__}: betas[{i}] must be in [0, 1), got {beta}")
        if not 0.0 <= weight_decay:
            raise ValueError(
                f"{type(self).__name__}: weight_decay must be >= 0, got {weight_decay}"
            )
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, state: dict) -> None:
        state["exp_avg"] = _zeros_state(p)

    def _update(self, p: Tensor, grad, group) -> None:
        xp = backend.get_array_module(p.array)
        state = self._state(p)
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        g = _grad_for_update(p, grad, group, xp, weight_decay=False)
        m = state["exp_avg"].array
        c = beta1 * m
        c += (1 - beta1) * g
        if wd != 0:
            p.array *= 1 - lr * wd
        xp.sign(c, out=c)
        c *= lr
        p.array -= c
        m *= beta2
        m += (1 - beta2) * g
