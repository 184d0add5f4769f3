"""The public API of ``import trainctl as tc``, loaded on first use (see ``__init__.py``)."""


import math as _math

from .autograd import serialization
from .core import random
from .torch_compat import accelerator, backends, cuda
from . import autograd, nn, optim, utils  # noqa: F401
from .autograd import Size, Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.ops.arithmetic import add, div, floor_divide, mul, neg, pow, remainder, sub
from .autograd.ops.comparison import (
    all, allclose, any, ceil, eq, equal, floor, ge, gt, isclose, isfinite, isinf, isnan, le,
    logical_and, logical_not, logical_or, logical_xor, lt, ne, round, sign, trunc,
)
from .autograd.ops.indexing import gather, index_select, masked_fill, pad
from .autograd.ops.linalg import bmm, dot, einsum, matmul, mm, outer
from .autograd.ops.reduction import amax, amin, max, mean, min, norm, prod, std, sum, var
from .autograd.ops.selection import clamp, maximum, minimum, where
from .autograd.ops.shape import (
    broadcast_to, cat, chunk, concat, concatenate, expand, flatten, flip, narrow, permute, reshape,
    split, squeeze, stack, swapaxes, t, tile, transpose, unbind, unflatten, unsqueeze,
)
from .autograd.ops.softmax import log_softmax, logsumexp, softmax
from .autograd.ops.sorting import argmax, argmin, argsort, bincount, nonzero, sort, topk, unique
from .autograd.ops.unary import (
    abs, cos, exp, log, log1p, reciprocal, relu, rsqrt, sigmoid, sin, sqrt, square, tanh,
)
from .core.backend import device
from .torch_compat.out import OUT_FUNCTIONS as _OUT_FUNCTIONS
from .torch_compat.legacy import (
    BoolTensor, ByteTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor,
)
from .autograd.creation import clone, is_floating_point
from .core.dtypes import finfo, iinfo
from .autograd.grad_mode import inference_mode
from .torch_compat.out import with_out
from .autograd.creation import (
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, is_tensor, linspace,
    logspace, normal, numel, ones, ones_like, rand, rand_like, randint, randint_like, randn,
    randn_like, randperm, tensor, zeros, zeros_like,
)
from .core.dtypes import bool_ as bool
from .core.dtypes import (
    double, float, float16, float32, float64, get_default_dtype, half, int, int8, int16, int32,
    int64, long, set_default_dtype, short, uint8,
)
from .autograd.printing import set_printoptions
from .core.errors import (
    CheckpointError, ConfigError, DataError, DeviceError, ShapeError, TrainctlError,
)
from .autograd.serialization import load, save
from .core.random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state


clip = clamp
dtype = type(float32)
e, inf, nan, pi = _math.e, _math.inf, _math.nan, _math.pi

# tc.matmul(a, b, out=c) and friends (PyTorch's out= argument).
for _name in _OUT_FUNCTIONS:
    globals()[_name] = with_out(globals()[_name])


def __getattr__(name: str):
    # Out-of-scope PyTorch features (tc.jit, tc.compile, ...) fail with a line naming them.
    from .torch_compat.unsupported import TOP_LEVEL, lookup

    lookup(TOP_LEVEL, "trainctl", name)
