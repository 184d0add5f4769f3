"""Loss layers: modules that hold a loss's options and call ``trainctl.nn.functional``.

Class weights (``weight``, ``pos_weight``) are registered as buffers, so they follow ``.to()``
and appear in ``state_dict`` exactly as in PyTorch. Besides tensors they may be given as lists,
tuples or numbers (as a YAML config writes them), which become float32 tensors.

Example:
    >>> import trainctl as tc
    >>> tc.nn.CrossEntropyLoss(weight=[1.0, 1.7]).weight
    tensor([1.0000, 1.7000])
"""

from __future__ import annotations

from ...autograd.tensor import Tensor
from .. import functional as F
from ..functional.loss import reduction_mode
from ..module import Module

__all__ = [
    "L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss", "KLDivLoss", "CosineEmbeddingLoss",
]


def as_weight(name: str, value) -> Tensor | None:
    """A loss weight as a tensor: tensors and None pass; lists, tuples and numbers become
    float32 tensors (a number: shape ``(1,)``)."""
    if value is None or isinstance(value, Tensor):
        return value
    from ...autograd.creation import tensor

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)) and not hasattr(value, "__array__"):
        raise ValueError(f"{name} must be a tensor or a list of numbers, got {value!r:.80}")
    try:
        weight = tensor(value, dtype="float32")
    except (TypeError, ValueError):
        weight = None
    if weight is None or weight.array.dtype.kind != "f":
        raise ValueError(f"{name} must be a tensor or a list of numbers, got {value!r:.80}")
    if not bool(weight.isfinite().all()):
        raise ValueError(f"{name} must be finite numbers, got {value!r:.80}")
    return weight


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = reduction_mode(reduction, size_average, reduce)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", as_weight("weight", weight))


class L1Loss(_Loss):
    """Mean absolute error.

    Example:
        >>> import trainctl as tc
        >>> float(tc.nn.L1Loss()(tc.tensor([1.0, -1.0]), tc.zeros(2)))
        1.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error; input and target must have the same shape.

    Example:
        >>> import trainctl as tc
        >>> float(tc.nn.MSELoss(reduction="sum")(tc.tensor([1.0, 2.0]), tc.zeros(2)))
        5.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, linear above."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic below ``delta``, linear (slope ``delta``) above."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy on logits with class-index or class-probability targets.

    Example:
        >>> import trainctl as tc
        >>> loss = tc.nn.CrossEntropyLoss(label_smoothing=0.1)
        >>> loss(tc.zeros(4, 3), tc.tensor([0, 1, 2, 1])).shape
        trainctl.Size([])
    """

    def __init__(self, weight: Tensor | None = None, size_average=None, ignore_index: int = -100,
                 reduce=None, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (pair with ``LogSoftmax``)."""

    def __init__(self, weight: Tensor | None = None, size_average=None, ignore_index: int = -100,
                 reduce=None, reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities in [0, 1]."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy, stable for large logits; ``pos_weight`` per class.

    Targets are float probabilities of the input's shape (a one-logit model's ``(N, 1)``
    output takes ``(N, 1)`` targets); integer targets are refused, as in PyTorch.

    Example:
        >>> import trainctl as tc
        >>> loss = tc.nn.BCEWithLogitsLoss(pos_weight=[3.0])
        >>> round(loss(tc.zeros(2, 1), tc.tensor([[1.0], [0.0]])).item(), 4)
        1.3863
    """

    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean", pos_weight: Tensor | None = None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", as_weight("weight", weight))
        self.register_buffer("pos_weight", as_weight("pos_weight", pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class KLDivLoss(_Loss):
    """KL divergence for log-probability inputs; prefer ``reduction='batchmean'``."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class CosineEmbeddingLoss(_Loss):
    """Pull pairs with target 1 together, push pairs with target -1 below ``margin``."""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                       reduction=self.reduction)
