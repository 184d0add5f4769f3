"""trainctl: config-driven training on a small, PyTorch-compatible NumPy autograd engine.

Example:
    >>> import trainctl as tc
    >>> x = tc.tensor([[1., 2.], [2., 3.]], requires_grad=True)
    >>> y = (x @ tc.ones(2, 1)).sum()
    >>> y.backward()
    >>> x.grad
    tensor([[1., 1.],
            [1., 1.]])
"""

from . import autograd, nn, optim, utils
from .autograd import (
    Size,
    Tensor,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .autograd.ops.comparison import (
    all, any, argmax, argmin, argsort, bincount, ceil, eq, equal, floor, ge, gt, isfinite, isinf,
    isnan, le, logical_and, logical_not, logical_or, logical_xor, lt, ne, nonzero, round, sign,
    sort, topk, trunc, unique,
)
from .autograd.ops.elementwise import (
    abs, add, clamp, cos, div, exp, floor_divide, log, log1p, maximum, minimum, mul, neg, pow,
    reciprocal, relu, remainder, rsqrt, sigmoid, sin, sqrt, square, sub, tanh, where,
)
from .autograd.ops.indexing import gather, index_select, masked_fill, pad
from .autograd.ops.linalg import bmm, dot, einsum, matmul, mm, outer
from .autograd.ops.reduction import (
    amax, amin, log_softmax, logsumexp, max, mean, min, norm, prod, softmax, std, sum, var,
)
from .autograd.ops.shape import (
    broadcast_to, cat, chunk, concat, concatenate, expand, flatten, flip, narrow, permute, reshape,
    split, squeeze, stack, swapaxes, t, tile, transpose, unbind, unflatten, unsqueeze,
)
from .backend import device
from .creation import (
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, is_tensor, linspace,
    logspace, normal, numel, ones, ones_like, rand, rand_like, randint, randint_like, randn,
    randn_like, randperm, tensor, zeros, zeros_like,
)
from .dtypes import (
    bool_ as bool,
)
from .dtypes import (
    double, float, float16, float32, float64, get_default_dtype, half, int, int8, int16, int32,
    int64, long, set_default_dtype, short, uint8,
)
from .autograd.printing import set_printoptions
from .errors import CheckpointError, ConfigError, DataError, DeviceError, ShapeError, TrainctlError
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state

from ._version import __version__

clip = clamp
dtype = type(float32)
