"""Small PyTorch functions that tutorial programs use and the op modules do not define.

``tc.isclose`` / ``tc.allclose``, ``Tensor.scatter`` / ``scatter_`` (the transforms tutorial's
one-hot: ``tc.zeros(10).scatter_(0, tc.tensor(y), value=1)``), the ``out=`` argument of the
common ``tc.*`` functions (``tc.matmul(a, b, out=c)``), which :mod:`trainctl._api` adds with
:func:`with_out`, ``tc.inference_mode``, ``tc.finfo``/``tc.iinfo``, the legacy constructors
``tc.FloatTensor([...])``/``tc.LongTensor(...)`` and constants ``tc.pi``, ``tc.inf``...

Example:
    >>> import trainctl as tc
    >>> tc.zeros(4).scatter_(0, tc.tensor(2), value=1)
    tensor([0., 0., 1., 0.])
    >>> tc.allclose(tc.tensor([1.0]), tc.tensor([1.0 + 1e-9]))
    True
"""

from __future__ import annotations

import functools

import numpy

from . import backend, dtypes
from .autograd.function import Function
from .autograd.grad_mode import STATE, _GradMode
from .autograd.ops.indexing import _full_index
from .autograd.tensor import Tensor
from .errors import ShapeError


def _array(x, like):
    if isinstance(x, Tensor):
        return x.data
    return backend.get_array_module(like).asarray(x)


def isclose(input: Tensor, other, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol * |other|`` as a bool tensor."""
    xp = backend.get_array_module(input.data)
    return Tensor._wrap(xp.isclose(input.data, _array(other, input.data), rtol=rtol, atol=atol,
                                   equal_nan=equal_nan))


def allclose(input: Tensor, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every element of ``input`` is close to ``other`` (see :func:`isclose`)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())


# ---------------------------------------------------------------------------- scatter


def _scatter_args(self: Tensor, dim: int, index, src, value):
    if src is not None and value is None and numpy.isscalar(src):
        src, value = None, src  # scatter_(dim, index, 1.0): a number is the value
    index = index.data if isinstance(index, Tensor) else numpy.asarray(index)
    if index.ndim == 0 and self.data.ndim == 1:
        index = index.reshape(1)  # PyTorch accepts a 0-d index into a 1-d tensor
    if index.ndim != self.data.ndim:
        raise ShapeError(f"scatter: index has {index.ndim} dimensions but the tensor has "
                         f"{self.data.ndim}")
    if (src is None) == (value is None):
        raise TypeError("scatter: pass exactly one of src (a tensor) or value (a number)")
    if index.dtype.kind not in "iu":
        raise TypeError(f"scatter: index must be an integer tensor, got {index.dtype}")
    return dim % self.data.ndim, index.astype(numpy.int64, copy=False), src, value


class Scatter(Function):
    @staticmethod
    def forward(ctx, a, src, index, axis):
        out = a.copy()
        where = _full_index(backend.get_array_module(a), index, axis)
        ctx.meta = (where, index.shape, None if numpy.isscalar(src) else src.shape)
        out[where] = src if numpy.isscalar(src) else src[tuple(slice(0, n) for n in index.shape)]
        return out

    @staticmethod
    def backward(ctx, grad):
        where, index_shape, src_shape = ctx.meta
        xp = backend.get_array_module(grad)
        grad_a = grad_src = None
        if ctx.needs_input_grad[0]:
            grad_a = grad.copy()
            grad_a[where] = 0
        if src_shape is not None and ctx.needs_input_grad[1]:
            grad_src = xp.zeros(src_shape, dtype=grad.dtype)
            grad_src[tuple(slice(0, n) for n in index_shape)] = grad[where]
        return grad_a, grad_src


def scatter(self: Tensor, dim: int, index, src=None, value=None) -> Tensor:
    """Out of place: ``out[index[i][j]][j] = src[i][j]`` (for ``dim=0``), or ``value``.

    Differentiable in ``self`` and ``src``. Repeated indices keep one of the written values.
    """
    dim, index, src, value = _scatter_args(self, dim, index, src, value)
    index = backend.to_device(index, self.device)
    fill = src if src is not None else value
    if isinstance(fill, Tensor):
        return Scatter.apply(self, fill, index=index, axis=dim)
    return Scatter.apply(self, float(fill) if self.is_floating_point() else fill,
                         index=index, axis=dim)


def scatter_(self: Tensor, dim: int, index, src=None, value=None) -> Tensor:
    """In place form of :func:`scatter` (use under ``tc.no_grad()`` on tensors in a graph)."""
    dim, index, src, value = _scatter_args(self, dim, index, src, value)
    self._check_inplace("scatter_")
    xp = backend.get_array_module(self.data)
    where = _full_index(xp, backend.to_device(index, self.device), dim)
    if src is not None:
        data = src.data if isinstance(src, Tensor) else xp.asarray(src)
        self.data[where] = data[tuple(slice(0, n) for n in index.shape)]
    else:
        self.data[where] = value.item() if isinstance(value, Tensor) else value
    return self


for _name in ("scatter", "scatter_", "isclose", "allclose"):
    setattr(Tensor, _name, globals()[_name])


# ---------------------------------------------------------------------------- out=


def with_out(fn):
    """``fn`` with PyTorch's ``out=`` argument: the result is written into ``out``.

    As in PyTorch, ``out`` is resized when its shape differs, and results that need gradients
    cannot be written into ``out``.
    """

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        result = fn(*args, **kwargs)
        if out is None:
            return result
        if not isinstance(out, Tensor):
            raise TypeError(f"{fn.__name__}(): out must be a Tensor, got {type(out).__name__}")
        if STATE.enabled and (result.requires_grad or out.requires_grad):
            raise RuntimeError(
                f"{fn.__name__}(): functions with out=... arguments don't support automatic "
                "differentiation; call it without out= (or under tc.no_grad())"
            )
        data = result.data.astype(out.data.dtype, copy=False)
        if out.data.shape == data.shape:
            out.data[...] = data
        else:
            out.data = data.copy()
        out._version += 1
        return out

    return wrapper


# Functions of ``tc.*`` that accept ``out=`` (see trainctl/_api.py).
OUT_FUNCTIONS = (
    "abs", "add", "sub", "mul", "div", "pow", "exp", "log", "sqrt", "neg", "clamp", "maximum",
    "minimum", "sigmoid", "tanh", "matmul", "mm", "bmm", "cat", "stack", "sum", "mean",
    "argmax", "where",
)


# ---------------------------------------------------------------------------- small names


class inference_mode(_GradMode):
    """``no_grad`` under PyTorch's newer name (trainctl has no separate inference tensors).

    Example:
        >>> import trainctl as tc
        >>> with tc.inference_mode():
        ...     y = tc.ones(2, requires_grad=True) * 2
        >>> y.requires_grad
        False
    """

    mode = False  # for the bare decorator form, `@tc.inference_mode`

    def __init__(self, mode: bool = True):
        self.mode = not mode


class finfo:
    """Limits of a floating dtype as Python floats (``eps``, ``max``, ``min``, ``tiny``...).

    Example:
        >>> finfo(dtypes.float32).eps
        1.1920928955078125e-07
    """

    def __init__(self, type=None):  # noqa: A002
        self.dtype = dtypes.as_dtype(type or dtypes.get_default_dtype())
        info = numpy.finfo(self.dtype.numpy)
        self.bits = int(info.bits)
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = float(info.resolution)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype.name})")


class iinfo:
    """Limits of an integer dtype (``min``, ``max``, ``bits``) as Python ints."""

    def __init__(self, type):  # noqa: A002
        self.dtype = dtypes.as_dtype(type)
        info = numpy.iinfo(self.dtype.numpy)
        self.bits, self.min, self.max = int(info.bits), int(info.min), int(info.max)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype.name})"


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def clone(input: Tensor, memory_format=None) -> Tensor:
    """A copy of ``input`` that stays in the graph."""
    return input.clone()


def _legacy(dtype: dtypes.dtype):
    def make(*args, device=None) -> Tensor:
        from .creation import tensor, zeros

        if len(args) == 1 and not isinstance(args[0], int):  # from data
            return tensor(args[0], dtype=dtype, device=device)
        return zeros(*args, dtype=dtype, device=device)  # from sizes (zeros, not garbage)

    make.__name__ = make.__qualname__ = {
        "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
        "int64": "LongTensor", "int32": "IntTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
    }[dtype.name]
    make.__doc__ = (f"Legacy constructor: ``{make.__name__}(data)`` or ``{make.__name__}(*sizes)``"
                    f" gives a {dtype.name} tensor (a function: not usable with isinstance).")
    return make


FloatTensor = _legacy(dtypes.float32)
DoubleTensor = _legacy(dtypes.float64)
HalfTensor = _legacy(dtypes.float16)
LongTensor = _legacy(dtypes.int64)
IntTensor = _legacy(dtypes.int32)
ByteTensor = _legacy(dtypes.uint8)
BoolTensor = _legacy(dtypes.bool_)
