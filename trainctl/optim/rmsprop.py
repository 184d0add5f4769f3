"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum."""

from __future__ import annotations

from collections.abc import Iterable

from ..autograd.tensor import Tensor
from ..core import backend
from .optimizer import Optimizer, _bump, _grad_for_update, _lerp_, _step_counter, _zeros_state


class RMSprop(Optimizer):
    """RMSprop (``torch.optim.RMSprop``).

    Update rule for each parameter ``p`` with gradient ``g``::

        if maximize: g = -g
        if weight_decay != 0: g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            g_avg = lerp(g_avg, g, 1 - alpha)
            avg = sqrt(v - g_avg * g_avg) + eps
        else:
            avg = sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / avg
            p = p - lr * b
        else:
            p = p - lr * g / avg

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant (default 0.99).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty (default 0).
        momentum: momentum factor (default 0).
        centered: normalise by an estimate of the gradient's variance.
        maximize: maximize the objective.
        capturable, foreach, differentiable: accepted for compatibility; ignored.

    Example:
        >>> import trainctl as tc
        >>> w = tc.tensor([1.0], requires_grad=True)
        >>> opt = tc.optim.RMSprop([w], lr=0.01)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.9000], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"{type(self).__name__}: lr must be >= 0, got {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"{type(self).__name__}: eps must be >= 0, got {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"{type(self).__name__}: momentum must be >= 0, got {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(
                f"{type(self).__name__}: weight_decay must be >= 0, got {weight_decay}"
            )
        if not 0.0 <= alpha:
            raise ValueError(f"{type(self).__name__}: alpha must be >= 0, got {alpha}")
        defaults = dict(
            lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
            weight_decay=weight_decay, capturable=capturable, foreach=foreach,
            maximize=maximize, differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _update(self, p: Tensor, grad, group) -> None:
        xp = backend.get_array_module(p.array)
        state = self.state[p]
        if not state:
            state["step"] = _step_counter()
            state["square_avg"] = _zeros_state(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = _zeros_state(p)
            if group["centered"]:
                state["grad_avg"] = _zeros_state(p)
        alpha, momentum = group["alpha"], group["momentum"]
        _bump(state["step"])
        g = _grad_for_update(p, grad, group, xp)
        v = state["square_avg"].array
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:
            g_avg = state["grad_avg"].array
            _lerp_(g_avg, g, 1 - alpha, xp)
            avg = v - g_avg * g_avg
            xp.sqrt(avg, out=avg)
        else:
            avg = xp.sqrt(v)
        avg += group["eps"]
        if momentum > 0:
            buf = state["momentum_buffer"].array
            buf *= momentum
            buf += g / avg
            p.array -= group["lr"] * buf
        else:
            update = g * -group["lr"]
            update /= avg
            p.array += update
