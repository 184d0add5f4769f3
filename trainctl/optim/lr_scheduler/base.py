"""``LRScheduler``: the base class of the learning-rate schedulers, with PyTorch's semantics.

A scheduler records each group's starting learning rate as ``group['initial_lr']`` (kept in
``base_lrs``) and takes its first step in the constructor, so that ``get_last_lr()`` is the
rate of epoch 0. Each ``step()`` then advances ``last_epoch`` and writes the new rates into the
optimizer's groups. Most schedulers compute the new rate from the current one (the "chainable"
form of ``get_lr()``, so several schedulers can act on one optimizer); the deprecated
``step(epoch)`` jumps to an epoch with the closed form (``_get_closed_form_lr``) where one exists.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

from ...autograd.trace import graph_step
from ..optimizer import Optimizer

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` is deprecated (as in PyTorch): call "
    "`scheduler.step()` without it. With an epoch, the closed form is used where it exists."
)


def _per_group(name: str, optimizer: Optimizer, value) -> list:
    """One value per param group: a list or tuple checked for length, or a scalar repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"{name}: one value per param group is needed; got {len(value)} values for "
                f"{len(optimizer.param_groups)} group(s)"
            )
        return list(value)
    return [value] * len(optimizer.param_groups)


def _group_values(optimizer: Optimizer, key: str) -> list:
    return [group[key] for group in optimizer.param_groups]


class LRScheduler:
    """Base class of the learning-rate schedulers (``torch.optim.lr_scheduler.LRScheduler``).

    Subclasses implement ``get_lr()`` (and ``_get_closed_form_lr()`` where a closed form exists).

    Args:
        optimizer: the optimizer whose learning rates are scheduled.
        last_epoch: index of the last epoch; -1 (default) starts a new schedule. Any other value
            resumes one and needs ``initial_lr`` in every param group.

    Example:
        >>> import trainctl as tc
        >>> opt = tc.optim.SGD([tc.zeros(1, requires_grad=True)], lr=1.0)
        >>> sched = tc.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        >>> lrs = []
        >>> for _ in range(5):
        ...     opt.step()
        ...     lrs.append(sched.get_last_lr()[0])
        ...     sched.step()
        >>> lrs
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:  # a graph replays a scheduler's step by calling it again
            cls.step = graph_step(cls.__dict__["step"])

    _get_lr_called_within_step = False
    _is_initial = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"expected a trainctl Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param_groups[{i}] has no 'initial_lr', which resuming "
                        f"{type(self).__name__} with last_epoch={last_epoch}: load the "
                        "optimizer's state first, or start a new schedule with last_epoch=-1"
                    )
        self.base_lrs: list[float] = _group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Set the step count to zero and take the constructor's step."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer (copied, so later steps do not change it)."""
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "optimizer"})

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the attributes saved by :meth:`state_dict`."""
        self.__dict__.update(copy.deepcopy(state_dict))

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last step, one per param group."""
        return list(self._last_lr)

    def get_lr(self) -> list[float]:
        """The learning rates of the current ``last_epoch`` (called by ``step``)."""
        raise NotImplementedError

    def _warn_if_called_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn(
                "get_lr() is what step() calls; read the current learning rates with "
                "get_last_lr()",
                UserWarning,
                stacklevel=3,
            )

    @graph_step
    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or jump to ``epoch``, deprecated) and update the learning rates.

        Call it after ``optimizer.step()``.
        """
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", True):
            warnings.warn(
                "lr_scheduler.step() was called before optimizer.step(): step the optimizer "
                "first, or the schedule's first learning rate is never used",
                UserWarning,
                stacklevel=2,
            )
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = _group_values(self.optimizer, "lr")


_LRScheduler = LRScheduler  # PyTorch's old name
