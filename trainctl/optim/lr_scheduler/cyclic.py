"""``CyclicLR``: the learning rate cycles between two bounds (Smith, 2017), and the momentum
(or Adam's beta1) cycles the opposite way."""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from typing import Any, Literal

from ..optimizer import Optimizer
from .base import LRScheduler, _per_group
from .lambda_lr import _is_expression


def _set_momentum(group: dict, value: float, use_beta1: bool) -> None:
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _init_momentum(optimizer: Optimizer, base_momentum, max_momentum, last_epoch: int):
    """Check that momentum can be cycled; set the starting momentum. Returns the per-group
    (base, max) lists and whether Adam-style ``betas`` hold it."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(
            f"cycle_momentum=True needs an optimizer with 'momentum' or 'betas'; "
            f"{type(optimizer).__name__} has neither (pass cycle_momentum=False)"
        )
    use_beta1 = "betas" in optimizer.defaults
    bases = _per_group("base_momentum", optimizer, base_momentum)
    maxes = _per_group("max_momentum", optimizer, max_momentum)
    if last_epoch == -1:
        for m_max, m_base, group in zip(maxes, bases, optimizer.param_groups):
            _set_momentum(group, m_max, use_beta1)
            group["max_momentum"] = m_max
            group["base_momentum"] = m_base
    return bases, maxes, use_beta1


class CyclicLR(LRScheduler):
    """Cycle the learning rate between ``base_lr`` and ``max_lr`` (call ``step()`` per batch).

    One cycle lasts ``step_size_up + step_size_down`` steps. The amplitude is scaled by
    ``mode``: ``'triangular'`` (constant), ``'triangular2'`` (halved each cycle) or
    ``'exp_range'`` (``gamma ** step``), or by a custom ``scale_fn`` (a function or an
    expression string in ``x``) applied per ``'cycle'`` or per ``'iterations'``. With
    ``cycle_momentum`` the optimizer's momentum (or beta1) goes from ``max_momentum`` down to
    ``base_momentum`` while the rate goes up.

    Example:
        >>> import trainctl as tc
        >>> opt = tc.optim.SGD([tc.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        >>> sched = tc.optim.lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1,
        ...                                        step_size_up=4)
        >>> lrs = []
        >>> for _ in range(5):
        ...     opt.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        ...     sched.step()
        >>> lrs
        [0.01, 0.0325, 0.055, 0.0775, 0.1]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: Literal["triangular", "triangular2", "exp_range"] = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | str | None = None,
        scale_mode: Literal["cycle", "iterations"] = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float = 0.8,
        max_momentum: float = 0.9,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"expected a trainctl Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(
                f"CyclicLR: mode must be triangular, triangular2 or exp_range (or give "
                f"scale_fn), got {mode!r}"
            )
        self.mode = mode
        self.gamma = gamma
        if isinstance(scale_fn, str):
            from ..expr import compile_expression

            scale_fn = compile_expression(scale_fn, variable="x")
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_mode()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.base_momentums, self.max_momentums, self.use_beta1 = _init_momentum(
                optimizer, base_momentum, max_momentum, last_epoch
            )
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_mode(self) -> None:
        if self._scale_fn_custom is None:
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x: float) -> float:
        """The amplitude multiplier at cycle (or iteration) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (top - base) * scale_factor * scale
               for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, m_base, m_max in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums
            ):
                momentum = m_max - (m_max - m_base) * scale_factor * scale
                _set_momentum(group, momentum, self.use_beta1)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        fn = self.__dict__.pop("_scale_fn_custom")
        try:
            state = super().state_dict()
        finally:
            self._scale_fn_custom = fn
        if _is_expression(fn):
            state["_scale_fn_custom"] = fn.source
        elif fn is not None and not isinstance(fn, types.FunctionType):
            state["_scale_fn_custom"] = dict(fn.__dict__)
        else:
            state["_scale_fn_custom"] = None
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        fn = state_dict.pop("_scale_fn_custom", None)
        super().load_state_dict(state_dict)
        if isinstance(fn, str):
            from ..expr import compile_expression

            self._scale_fn_custom = compile_expression(fn, variable="x")
        elif fn is not None:
            self._scale_fn_custom.__dict__.update(fn)
        self._init_scale_mode()
