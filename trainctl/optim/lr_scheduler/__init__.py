"""``trainctl.optim.lr_scheduler``: PyTorch's fifteen learning-rate schedulers.

Every scheduler matches ``torch.optim.lr_scheduler`` number for number (checked against golden
fixtures). Call ``scheduler.step()`` after ``optimizer.step()``; ``ReduceLROnPlateau.step`` takes
the metric.

Example:
    >>> import trainctl as tc
    >>> opt = tc.optim.SGD([tc.zeros(1, requires_grad=True)], lr=0.1)
    >>> sched = tc.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
"""

from .base import LRScheduler, _LRScheduler
from .composite import ChainedScheduler, SequentialLR
from .cyclic import CyclicLR
from .decay import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from .lambda_lr import LambdaLR, MultiplicativeLR
from .one_cycle import OneCycleLR
from .plateau import ReduceLROnPlateau
from .warm_restarts import CosineAnnealingWarmRestarts

__all__ = [
    "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
    "ExponentialLR", "SequentialLR", "CosineAnnealingLR", "ChainedScheduler",
    "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
    "PolynomialLR", "LRScheduler", "_LRScheduler",
]
