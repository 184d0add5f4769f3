"""The public API of ``import trainctl as tc``, loaded on first use (see ``__init__.py``)."""


import math as _math

from .autograd import serialization
from .core import random
from .torch_compat import accelerator, backends, cuda, special
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
from .autograd.ops.binary import (
    arctan2, atan2, clamp_max, clamp_min, copysign, float_power, fmax, fmin, fmod, heaviside,
    hypot, ldexp, lerp, logaddexp, logaddexp2, rsub, xlogy,
)
from .autograd.ops.comparison import (
    bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift, bitwise_xor,
    fix, gcd, greater, greater_equal, isneginf, isposinf, isreal, lcm, less, less_equal,
    nextafter, not_equal, sgn, signbit,
)
from .autograd.ops.shape import meshgrid
from .autograd.ops.special import digamma, erf, erfc, erfinv, lgamma, mvlgamma, polygamma
from .autograd.ops.unary import (
    absolute, acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctanh, asin, asinh, atan,
    atanh, cosh, deg2rad, exp2, expm1, frac, log2, log10, logit, nan_to_num, positive, rad2deg,
    sinc, sinh, tan,
)
from .core.backend import device, get_default_device, set_default_device
from .torch_compat.out import OUT_FUNCTIONS as _OUT_FUNCTIONS
from .torch_compat.legacy import (
    BoolTensor, ByteTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor,
)
from .autograd.creation import clone, is_floating_point
from .core.dtypes import finfo, iinfo
from .autograd.grad_mode import inference_mode
from .torch_compat.out import with_out
from .torch_compat.settings import (
    are_deterministic_algorithms_enabled, get_deterministic_debug_mode,
    get_float32_matmul_precision, get_num_interop_threads, get_num_threads,
    is_deterministic_algorithms_warn_only_enabled, is_warn_always_enabled,
    set_deterministic_debug_mode, set_float32_matmul_precision, set_warn_always,
    use_deterministic_algorithms,
)
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

multiply, subtract, divide, true_divide, negative = mul, sub, div, div, neg
swapdims, ravel, detach, detach_, scatter = (
    swapaxes, flatten, Tensor.detach, Tensor.detach_, Tensor.scatter)
newaxis = None
# What NumPy and CuPy raise when memory runs out (torch.OutOfMemoryError is PyTorch's own class):
# `except tc.OutOfMemoryError:` catches it on either backend.
OutOfMemoryError = MemoryError
# torch.exp_(x) and the namespace's other in-place functions are the Tensor methods.
for _name in """abs_ acos_ acosh_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_
        atan_ atanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ deg2rad_ erf_ erfc_
        exp2_ exp_ expm1_ fix_ floor_ frac_ gcd_ lcm_ ldexp_ log10_ log1p_ log2_ log_ logit_
        nan_to_num_ neg_ negative_ rad2deg_ reciprocal_ relu_ round_ rsqrt_ sigmoid_ sin_ sinc_
        sinh_ sqrt_ square_ tan_ tanh_ trunc_ xlogy_ zero_ fill_""".split():
    globals()[_name] = getattr(Tensor, _name)

# tc.matmul(a, b, out=c) and friends (PyTorch's out= argument).
for _name in _OUT_FUNCTIONS:
    globals()[_name] = with_out(globals()[_name])


def compile(model=None, **options):  # noqa: A001
    """``torch.compile``: trace a module or a step function once, then replay it (graph mode).

    The whole description is :func:`trainctl.nn.graph.compile`'s; see also docs/graph.md.

    Example:
        >>> import trainctl as tc
        >>> double = tc.compile(lambda x: x * 2)
        >>> double(tc.ones(2))
        tensor([2., 2.])
    """
    from .nn.graph import compile as graph_compile  # on first use: `import trainctl` stays fast

    return graph_compile(model, **options)


def __getattr__(name: str):
    # Out-of-scope PyTorch features (tc.jit, tc.amp, ...) fail with a line naming them.
    from .torch_compat.unsupported import TOP_LEVEL, lookup

    lookup(TOP_LEVEL, "trainctl", name)
