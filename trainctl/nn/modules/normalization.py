"""Normalization layers ``BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm``.

Batch norm keeps PyTorch's buffers (``running_mean``, ``running_var``, ``num_batches_tracked``)
under the same names, so ``state_dict`` keys match, and its train/eval behaviour: in training
the batch statistics normalize and update the running ones (``momentum=None``: a cumulative
average over ``num_batches_tracked`` batches); in eval the running statistics normalize.
"""

from __future__ import annotations

from ...autograd import creation
from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...autograd.trace import graph_step
from ...core import dtypes
from ...core.errors import ShapeError
from .. import init
from ..functional.normalization import batch_norm, group_norm, layer_norm
from ..module import Module
from ..parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm"]


def _affine_parameters(module: Module, shape: tuple, affine: bool, bias: bool, device,
                       dtype) -> None:
    """Register ``weight`` (ones) and ``bias`` (zeros) of ``shape``; None for those left out."""
    if affine:
        module.weight = Parameter(creation.ones(*shape, device=device, dtype=dtype))
        if bias:
            module.bias = Parameter(creation.zeros(*shape, device=device, dtype=dtype))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_affine(module: Module) -> None:
    if module.weight is not None:
        init.ones_(module.weight)
        if module.bias is not None:
            init.zeros_(module.bias)


@graph_step
def _count_batch(counter: Tensor) -> None:
    """``num_batches_tracked += 1``, a step a graph's replay repeats (it is not an op)."""
    counter.array += 1


class _BatchNorm(Module):
    _dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine_parameters(self, (num_features,), affine, bias, device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean",
                                 creation.zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var",
                                 creation.ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked",
                                 creation.tensor(0, dtype=dtypes.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        if input.ndim not in self._dims:
            want = " or ".join(f"{d}D" for d in self._dims)
            raise ShapeError(f"{type(self).__name__}: expected {want} input (got {input.ndim}D "
                             f"input of shape {tuple(input.shape)})")
        if input.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}: expected {self.num_features} channels "
                             f"(dim 1), got input of shape {tuple(input.shape)}")

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            _count_batch(self.num_batches_tracked)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or (self.running_mean is None
                                            and self.running_var is None)
        track = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if track else None,
                          self.running_var if track else None, self.weight, self.bias,
                          use_batch_stats, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization over ``(N, C)`` or ``(N, C, L)`` inputs, per channel ``C``.

    Args:
        num_features: ``C``.
        eps: added to the variance.
        momentum: weight of the new batch in the running statistics; None for a cumulative
            average.
        affine: learn ``weight`` (ones) and, when ``bias``, ``bias`` (zeros).
        track_running_stats: keep running statistics (else batch statistics in eval too).
        bias: (keyword) learn the bias when ``affine``.

    Example:
        >>> import trainctl as tc
        >>> bn = tc.nn.BatchNorm1d(4)
        >>> bn(tc.randn(8, 4)).shape
        trainctl.Size([8, 4])
        >>> list(bn.state_dict())
        ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization over ``(N, C, H, W)`` inputs, per channel ``C`` (see BatchNorm1d).

    Example:
        >>> import trainctl as tc
        >>> bn = tc.nn.BatchNorm2d(3).eval()
        >>> bn(tc.ones(2, 3, 4, 4)).mean().item() > 0.99
        True
    """

    _dims = (4,)


class LayerNorm(Module):
    """Normalize over the trailing ``normalized_shape`` dimensions of each sample.

    Args:
        normalized_shape: an int or a shape (the last dimensions of the input).
        eps: added to the variance.
        elementwise_affine: learn ``weight`` (ones) and, when ``bias``, ``bias`` (zeros).

    Example:
        >>> import trainctl as tc
        >>> ln = tc.nn.LayerNorm(10)
        >>> ln(tc.randn(4, 10)).shape
        trainctl.Size([4, 10])
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, device, dtype)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalize each group of ``num_channels / num_groups`` channels of each sample.

    Example:
        >>> import trainctl as tc
        >>> gn = tc.nn.GroupNorm(2, 6)
        >>> gn(tc.randn(4, 6, 5, 5)).shape
        trainctl.Size([4, 6, 5, 5])
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine_parameters(self, (num_channels,), affine, bias, device, dtype)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
