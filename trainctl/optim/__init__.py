"""``trainctl.optim``: optimizers with PyTorch's API and numerics, and ``lr_scheduler``.

Example:
    >>> import trainctl as tc
    >>> w = tc.zeros(3, requires_grad=True)
    >>> opt = tc.optim.AdamW([w], lr=1e-3)
    >>> sched = tc.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
"""

from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .lbfgs import LBFGS
from .lion import Lion
from .nadam import NAdam
from .optimizer import Optimizer, required
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = [
    "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS", "Lion", "NAdam", "Optimizer",
    "RAdam", "RMSprop", "Rprop", "SGD", "lr_scheduler", "required", "simulate_lr",
]


def __getattr__(name: str):
    # The schedulers (and simulate_lr, built on them) load on first use: ~6 ms of every
    # `import trainctl` otherwise. `tc.optim.lr_scheduler.StepLR` works as before.
    if name == "lr_scheduler":  # importlib: `from . import` would ask this function again
        import importlib

        return importlib.import_module(f"{__name__}.lr_scheduler")
    if name == "simulate_lr":
        from .simulate import simulate_lr

        return simulate_lr
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
