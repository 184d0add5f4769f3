"""Rprop: resilient backpropagation, step sizes adapted from gradient signs (Riedmiller, 1993)."""

from __future__ import annotations

from collections.abc import Iterable

from ..autograd.tensor import Tensor
from ..core import backend
from .optimizer import Optimizer, _bump, _grad_for_update, _step_counter, _zeros_state


class Rprop(Optimizer):
    """Rprop (``torch.optim.Rprop``): per-coordinate step sizes grown or shrunk by sign changes.

    Update rule for each parameter ``p`` with gradient ``g``::

        if maximize: g = -g
        s = sign(g * g_prev)
        factor = eta_plus where s > 0, eta_minus where s < 0, 1 where s == 0
        step_size = clip(step_size * factor, step_size_min, step_size_max)   # starts at lr
        g = 0 where s < 0                # after a sign change, skip the coordinate once
        p = p - sign(g) * step_size
        g_prev = g

    Args:
        params: parameters or parameter groups.
        lr: initial step size (default 1e-2).
        etas: (eta_minus, eta_plus), the shrink and growth factors (default (0.5, 1.2)).
        step_sizes: (min, max) allowed step sizes (default (1e-6, 50)).
        maximize: maximize the objective.
        capturable, foreach, differentiable: accepted for compatibility; ignored.

    Example:
        >>> import trainctl as tc
        >>> w = tc.tensor([1.0], requires_grad=True)
        >>> opt = tc.optim.Rprop([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.9000], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"{type(self).__name__}: lr must be >= 0, got {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Rprop: etas must satisfy 0 < eta_minus < 1 < eta_plus, got {etas}")
        defaults = dict(
            lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
            differentiable=differentiable, capturable=capturable,
        )
        super().__init__(params, defaults)

    def _update(self, p: Tensor, grad, group) -> None:
        xp = backend.get_array_module(p.array)
        state = self.state[p]
        if not state:
            state["step"] = _step_counter()
            state["prev"] = _zeros_state(p)
            state["step_size"] = Tensor._wrap(xp.full_like(grad, group["lr"]))
        eta_minus, eta_plus = group["etas"]
        size_min, size_max = group["step_sizes"]
        _bump(state["step"])
        g = _grad_for_update(p, grad, group, xp, weight_decay=False)
        prev, step_size = state["prev"].array, state["step_size"].array
        factor = g * prev
        grew, flipped = factor > 0, factor < 0
        factor[...] = 1
        factor[grew] = eta_plus
        factor[flipped] = eta_minus
        step_size *= factor
        xp.clip(step_size, size_min, size_max, out=step_size)
        g = xp.array(g, copy=True)
        g[flipped] = 0  # after a sign change, skip this coordinate once
        prev[...] = g
        xp.sign(g, out=g)
        g *= step_size
        p.array -= g
