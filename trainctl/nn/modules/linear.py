"""Layers ``Identity``, ``Linear`` and ``Bilinear``, initialised as in PyTorch."""

from __future__ import annotations

import math

from ...autograd import creation
from ...autograd.tensor import Tensor
from .. import init
from ..functional.linear import bilinear, linear
from ..module import Module
from ..parameter import Parameter

__all__ = ["Identity", "Linear", "Bilinear"]


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored, as in PyTorch).

    Example:
        >>> import trainctl as tc
        >>> tc.nn.Identity(54, unused="x")(tc.ones(2)).shape
        trainctl.Size([2])
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x @ W.T + b`` with ``W`` of shape (out_features, in_features).

    Initialised like PyTorch: ``W ~ U(-1/sqrt(in), 1/sqrt(in))`` (``kaiming_uniform_`` with
    ``a=sqrt(5)``) and the same bound for ``b``.

    Example:
        >>> import trainctl as tc
        >>> layer = tc.nn.Linear(20, 30)
        >>> layer(tc.randn(128, 20)).shape
        trainctl.Size([128, 30])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty(out_features, in_features, device=device,
                                               dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        # Fast path: read the parameters from their dict. `self.weight` finds them only through
        # Module.__getattr__ after a failed normal lookup, ~1.5 µs each on Python 3.11, a tenth
        # of a small layer's whole step. The slow path serves a weight replaced by a plain
        # attribute (del layer.weight; layer.weight = tensor).
        params = self._parameters
        if "weight" in params and "bias" in params:
            return linear(input, params["weight"], params["bias"])
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """``y = x1^T A x2 + b`` with ``A`` of shape (out, in1, in2); ``U(-1/sqrt(in1), 1/sqrt(in1))``.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.Bilinear(20, 30, 40)(tc.randn(8, 20), tc.randn(8, 30)).shape
        trainctl.Size([8, 40])
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty(out_features, in1_features, in2_features,
                                               device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
