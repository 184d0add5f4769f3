"""``LambdaLR`` and ``MultiplicativeLR``: factors from a function of the epoch.

Both take a Python callable or, from a config, an expression string in ``epoch`` such as
``"0.95 ** epoch"`` (see :mod:`trainctl.optim.expr`). Expressions are saved in ``state_dict`` as
their text, so a schedule built from a config can be checkpointed and resumed. An expression's
factor must be a finite number >= 0: anything else (``exp(1000)``, ``1 - epoch``) is a
ConfigError naming the expression and the epoch, raised by the step that computes it.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

from ..optimizer import Optimizer
from .base import LRScheduler, _group_values

LrLambda = Callable[[int], float] | str


def _lambdas(optimizer: Optimizer, lr_lambda) -> list:
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != len(optimizer.param_groups):
            raise ValueError(
                f"lr_lambda: one per param group is needed; got {len(lr_lambda)} for "
                f"{len(optimizer.param_groups)} group(s)"
            )
        fns = list(lr_lambda)
    else:
        fns = [lr_lambda] * len(optimizer.param_groups)
    if any(isinstance(f, str) for f in fns):
        from ..expr import compile_expression  # imported on demand: it pulls in `ast`

        fns = [compile_expression(f, minimum=0.0) if isinstance(f, str) else f for f in fns]
    for f in fns:
        if not callable(f):
            raise TypeError(
                f"lr_lambda should be a function or an expression string, but got "
                f"{type(f).__name__}"
            )
    return fns


def _is_expression(fn) -> bool:
    """True for a compiled expression (without importing the evaluator when none exists)."""
    expr = sys.modules.get("trainctl.optim.expr")
    return expr is not None and isinstance(fn, expr.Expression)


class _LambdaScheduler(LRScheduler):
    """Saves and restores ``lr_lambdas``: expressions as text, callable objects by __dict__."""

    def state_dict(self) -> dict[str, Any]:
        lambdas = self.__dict__.pop("lr_lambdas")
        try:
            state = super().state_dict()
        finally:
            self.lr_lambdas = lambdas
        saved = []
        for fn in lambdas:
            if _is_expression(fn):
                saved.append(fn.source)
            elif isinstance(fn, types.FunctionType):
                saved.append(None)  # a plain function or lambda cannot be saved
            else:
                saved.append(dict(fn.__dict__))
        state["lr_lambdas"] = saved
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        saved = state_dict.pop("lr_lambdas")
        super().load_state_dict(state_dict)
        for i, entry in enumerate(saved):
            if isinstance(entry, str):
                from ..expr import compile_expression

                self.lr_lambdas[i] = compile_expression(entry, minimum=0.0)
            elif entry is not None:
                self.lr_lambdas[i].__dict__.update(entry)


class LambdaLR(_LambdaScheduler):
    """Set each group's learning rate to ``initial_lr * lr_lambda(epoch)``.

    Args:
        optimizer: the wrapped optimizer.
        lr_lambda: a function of the epoch, an expression string in ``epoch``, or a list of
            those (one per param group).
        last_epoch: index of the last epoch (default -1: start).

    Example:
        >>> import trainctl as tc
        >>> opt = tc.optim.SGD([tc.zeros(1, requires_grad=True)], lr=1.0)
        >>> sched = tc.optim.lr_scheduler.LambdaLR(opt, "min(1.0, (epoch + 1) / 4)")
        >>> lrs = []
        >>> for _ in range(5):
        ...     opt.step()
        ...     lrs.append(sched.get_last_lr()[0])
        ...     sched.step()
        >>> lrs
        [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: LrLambda | list[LrLambda],
                 last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaScheduler):
    """Multiply each group's learning rate by ``lr_lambda(epoch)`` at every step after the first.

    Args:
        optimizer: the wrapped optimizer.
        lr_lambda: a function of the epoch, an expression string in ``epoch``, or a list of
            those (one per param group).
        last_epoch: index of the last epoch (default -1: start).

    Example:
        >>> import trainctl as tc
        >>> opt = tc.optim.SGD([tc.zeros(1, requires_grad=True)], lr=1.0)
        >>> sched = tc.optim.lr_scheduler.MultiplicativeLR(opt, "0.5")
        >>> opt.step(); sched.step(); opt.step(); sched.step()
        >>> sched.get_last_lr()
        [0.25]
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: LrLambda | list[LrLambda],
                 last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        return [
            group["lr"] * fn(self.last_epoch)
            for fn, group in zip(self.lr_lambdas, self.optimizer.param_groups)
        ]
