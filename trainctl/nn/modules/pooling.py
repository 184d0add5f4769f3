"""Pooling layers: ``MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, AdaptiveMaxPool1d/2d``.

Each stores its arguments under PyTorch's attribute names and calls the functional form.
"""

from __future__ import annotations

from ...autograd.tensor import Tensor
from ..functional import adaptive_pooling as A
from ..functional import pooling as P
from ..module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling (see :func:`~trainctl.nn.functional.max_pool2d`); stride defaults to the
    kernel size.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.MaxPool2d(2)(tc.randn(1, 3, 8, 8)).shape
        trainctl.Size([1, 3, 4, 4])
    """

    def forward(self, input: Tensor):  # noqa: A002
        return P.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling over ``(N, C, L)``.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.MaxPool1d(3, stride=2)(tc.randn(1, 3, 9)).shape
        trainctl.Size([1, 3, 4])
    """

    def forward(self, input: Tensor):  # noqa: A002
        return P.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool2d(Module):
    """2-D average pooling (see :func:`~trainctl.nn.functional.avg_pool2d`).

    Example:
        >>> import trainctl as tc
        >>> tc.nn.AvgPool2d(2)(tc.ones(1, 1, 4, 4))
        tensor([[[[1., 1.],
                  [1., 1.]]]])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _single(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


class AvgPool1d(Module):
    """1-D average pooling over ``(N, C, L)``.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.AvgPool1d(2)(tc.tensor([[[1., 3., 5., 7.]]]))
        tensor([[[2., 6.]]])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__()
        # PyTorch keeps AvgPool1d's sizes as 1-tuples.
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average pooling to a fixed output size (int, or ``(h, w)`` with None = keep).

    Example:
        >>> import trainctl as tc
        >>> tc.nn.AdaptiveAvgPool2d((1, 1))(tc.randn(2, 8, 7, 7)).shape
        trainctl.Size([2, 8, 1, 1])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average pooling of ``(N, C, L)`` to a fixed length.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.AdaptiveAvgPool1d(2)(tc.randn(2, 8, 7)).shape
        trainctl.Size([2, 8, 2])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.adaptive_avg_pool1d(input, self.output_size)


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices: bool = False):
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Max pooling to a fixed output size; ``return_indices`` also returns flat ``h * W + w``.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.AdaptiveMaxPool2d(3)(tc.randn(2, 8, 7, 7)).shape
        trainctl.Size([2, 8, 3, 3])
    """

    def forward(self, input: Tensor):  # noqa: A002
        return A.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Max pooling of ``(N, C, L)`` to a fixed length.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.AdaptiveMaxPool1d(3)(tc.randn(2, 8, 7)).shape
        trainctl.Size([2, 8, 3])
    """

    def forward(self, input: Tensor):  # noqa: A002
        return A.adaptive_max_pool1d(input, self.output_size, self.return_indices)
