"""Adagrad: per-coordinate learning rates from the sum of squared gradients (Duchi et al.)."""

from __future__ import annotations

from collections.abc import Iterable

from ..autograd.tensor import Tensor
from ..core import backend
from .optimizer import Optimizer, _bump, _grad_for_update, _step_counter


class Adagrad(Optimizer):
    """Adagrad (``torch.optim.Adagrad``). State is created in the constructor, as in PyTorch.

    Update rule for each parameter ``p`` with gradient ``g`` at step ``t`` (from 1)::

        if maximize: g = -g
        if weight_decay != 0: g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g                        # s starts at initial_accumulator_value
        p = p - clr * g / (sqrt(s) + eps)

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay (default 0).
        weight_decay: L2 penalty (default 0).
        initial_accumulator_value: starting value of the sum of squares (default 0).
        eps: added to the denominator (default 1e-10).
        maximize: maximize the objective.
        foreach, differentiable, fused: accepted for compatibility; ignored.

    Example:
        >>> import trainctl as tc
        >>> w = tc.tensor([1.0], requires_grad=True)
        >>> opt = tc.optim.Adagrad([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.9000], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        checks = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                      initial_accumulator_value=initial_accumulator_value, eps=eps)
        for name, value in checks.items():
            if not 0.0 <= value:
                raise ValueError(f"Adagrad: {name} must be >= 0, got {value}")
        defaults = dict(
            lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, foreach=foreach,
            maximize=maximize, differentiable=differentiable, fused=fused,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_group_state(p, group)

    def _init_group_state(self, p: Tensor, group) -> None:
        xp = backend.get_array_module(p.array)
        state = self.state[p]
        state["step"] = _step_counter()
        state["sum"] = Tensor._wrap(xp.full_like(p.array, group["initial_accumulator_value"]))

    def _update(self, p: Tensor, grad, group) -> None:
        xp = backend.get_array_module(p.array)
        state = self.state[p]
        if not state:
            self._init_group_state(p, group)
        step = _bump(state["step"])
        g = _grad_for_update(p, grad, group, xp)
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        s = state["sum"].array
        s += g * g
        std = xp.sqrt(s)
        std += group["eps"]
        update = g * -clr
        update /= std
        p.array += update
