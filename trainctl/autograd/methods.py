"""Attach the ops to ``Tensor`` as methods and Python operators (``x.sum()``, ``a @ b``...),
and ``backward``.

Kept apart from ``tensor.py`` so the Tensor class stays small and the op modules and the engine
can import it without an import cycle.
"""

from __future__ import annotations

from ..core import backend, dtypes
from . import creation, engine
from .array_function import ArrayFunction
from .ops import arithmetic as ar
from .ops import binary as bi
from .ops import comparison as cmp
from .ops import indexing as ix
from .ops import linalg as la
from .ops import promotion as pr
from .ops import reduction as red
from .ops import selection as sel
from .ops import shape as sh
from .ops import softmax as sm
from .ops import sorting as so
from .ops import special as sp
from .ops import unary as un
from .tensor import Tensor


class Clone(ArrayFunction):
    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class ToDevice(ArrayFunction):
    @staticmethod
    def forward(ctx, a, device):
        ctx.source = backend.device_of(a)
        return backend.to_device(a, device)

    @staticmethod
    def backward(ctx, grad):
        return backend.to_device(grad, ctx.source)


def clone(self: Tensor, memory_format=None) -> Tensor:
    """A copy of the data that stays in the graph."""
    return Clone.apply(self)


def parse_to(args: tuple, kwargs: dict):
    """The ``(device, dtype)`` that ``to(*args, **kwargs)`` asks for, each None when not given.

    ``Tensor.to`` and ``Module.to`` share it, so both read their arguments the same way. It pops
    the keywords it knows from ``kwargs``.

    Example:
        >>> parse_to(("cpu",), {"dtype": "float64"})
        ('cpu', 'float64')
    """
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, (dtypes.dtype, type)) or (
            isinstance(arg, str) and dtypes.is_dtype_name(arg)
        ):
            dtype = arg
        elif arg is not None and not isinstance(arg, bool):
            device = arg
    return device, dtype


def to(self: Tensor, *args, **kwargs) -> Tensor:
    """Move and/or cast: ``x.to("cuda")``, ``x.to(tc.float64)``, ``x.to(other)``.

    Returns ``self`` when nothing changes (unless ``copy=True``), like PyTorch.
    """
    copy = bool(kwargs.get("copy", False))
    device, dtype = parse_to(args, kwargs)
    out = self
    if dtype is not None:
        out = pr.cast(out, dtypes.as_dtype(dtype).numpy)
    if device is not None:
        dev = backend.as_device(device)
        if dev != out.device:
            out = ToDevice.apply(out, device=dev)
        elif dev.type == "cuda":
            backend.array_module_for(dev)
    if copy and out is self:
        out = clone(self)
    return out


def cpu(self: Tensor) -> Tensor:
    return to(self, "cpu")


def cuda(self: Tensor, device=None) -> Tensor:
    if isinstance(device, int):
        device = f"cuda:{device}"
    return to(self, device or "cuda")


_LEGACY_TYPES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
    "uint8": "ByteTensor", "bool": "BoolTensor",
}
_FROM_LEGACY = {v: k for k, v in _LEGACY_TYPES.items()}


def type_(self: Tensor, dtype=None, non_blocking: bool = False):
    """Without arguments the type name (``'trainctl.FloatTensor'``); else a cast to ``dtype``."""
    if dtype is None:
        prefix = "trainctl." if self.device.type == "cpu" else "trainctl.cuda."
        return prefix + _LEGACY_TYPES[self.dtype.name]
    if isinstance(dtype, str):
        name = dtype.rsplit(".", 1)[-1]
        dtype = _FROM_LEGACY.get(name, dtype)
    return pr.cast(self, dtypes.as_dtype(dtype).numpy)


def _caster(np_name):
    def convert(self: Tensor, memory_format=None) -> Tensor:
        return pr.cast(self, dtypes.as_dtype(np_name).numpy)

    convert.__doc__ = f"Cast to {np_name}."
    return convert


def _new(fill):
    def new(self: Tensor, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return creation.full(
            creation.size_tuple(size), fill, dtype=dtype or self.dtype,
            device=device or self.device, requires_grad=requires_grad,
        )

    return new


def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> Tensor:
    return creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                           requires_grad=requires_grad)


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return creation.full(size, fill_value, dtype=dtype or self.dtype,
                         device=device or self.device, requires_grad=requires_grad)


def _reflected(fn):
    def reflected(self, other):
        return fn(other, self)

    return reflected


def backward(self: Tensor, gradient=None, retain_graph=None, create_graph: bool = False) -> None:
    """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

    ``gradient`` is required unless the tensor has one element. The graph is freed
    afterwards unless ``retain_graph=True``.

    Example:
        >>> import trainctl as tc
        >>> x = tc.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4.])
    """
    engine.backward(self, gradient, retain_graph, create_graph)


def _view(self: Tensor, *shape) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], (dtypes.dtype, str)):
        raise NotImplementedError("view(dtype) reinterpretation is not supported; use .to(dtype)")
    return sh.reshape(self, *shape)


_METHODS = {
    # arithmetic and operators
    "add": ar.add, "sub": ar.sub, "mul": ar.mul, "div": ar.div, "pow": ar.pow,
    "subtract": ar.sub, "multiply": ar.mul, "divide": ar.div, "true_divide": ar.div,
    "neg": ar.neg, "negative": ar.neg, "remainder": ar.remainder, "floor_divide": ar.floor_divide,
    "__add__": ar.add, "__radd__": ar.add,  # commutative: tensor first, as torch orders edges
    "__sub__": ar.sub, "__rsub__": _reflected(ar.sub),
    "__mul__": ar.mul, "__rmul__": ar.mul,
    "__truediv__": ar.div, "__rtruediv__": _reflected(ar.div),
    "__floordiv__": ar.floor_divide, "__rfloordiv__": _reflected(ar.floor_divide),
    "__mod__": ar.remainder, "__rmod__": _reflected(ar.remainder),
    "__pow__": ar.pow, "__rpow__": _reflected(ar.pow),
    "__matmul__": la.matmul, "__rmatmul__": _reflected(la.matmul),
    "__neg__": ar.neg, "__pos__": lambda self: self, "__abs__": un.abs,
    "__eq__": cmp.eq, "__ne__": cmp.ne, "__lt__": cmp.lt, "__le__": cmp.le,
    "__gt__": cmp.gt, "__ge__": cmp.ge,
    "__and__": cmp.logical_and, "__or__": cmp.logical_or, "__xor__": cmp.logical_xor,
    "__invert__": cmp.logical_not, "__getitem__": ix.getitem,
    # unary maths
    "abs": un.abs, "exp": un.exp, "log": un.log, "log1p": un.log1p, "sqrt": un.sqrt,
    "rsqrt": un.rsqrt, "sin": un.sin, "cos": un.cos, "tanh": un.tanh, "sigmoid": un.sigmoid,
    "relu": un.relu, "square": un.square, "reciprocal": un.reciprocal,
    "tan": un.tan, "asin": un.asin, "acos": un.acos, "atan": un.atan, "sinh": un.sinh,
    "cosh": un.cosh, "asinh": un.asinh, "acosh": un.acosh, "atanh": un.atanh,
    "arcsin": un.asin, "arccos": un.acos, "arctan": un.atan, "arcsinh": un.asinh,
    "arccosh": un.acosh, "arctanh": un.atanh, "exp2": un.exp2, "expm1": un.expm1,
    "log2": un.log2, "log10": un.log10, "sinc": un.sinc, "deg2rad": un.deg2rad,
    "rad2deg": un.rad2deg, "frac": un.frac, "logit": un.logit, "nan_to_num": un.nan_to_num,
    "positive": un.positive, "absolute": un.abs,
    "erf": sp.erf, "erfc": sp.erfc, "erfinv": sp.erfinv, "lgamma": sp.lgamma,
    "digamma": sp.digamma, "polygamma": lambda self, n: sp.polygamma(n, self),
    "mvlgamma": sp.mvlgamma,
    # two-input maths
    "atan2": bi.atan2, "arctan2": bi.atan2, "hypot": bi.hypot, "logaddexp": bi.logaddexp,
    "logaddexp2": bi.logaddexp2, "xlogy": bi.xlogy, "copysign": bi.copysign, "fmax": bi.fmax,
    "fmin": bi.fmin, "fmod": bi.fmod, "float_power": bi.float_power, "ldexp": bi.ldexp,
    "lerp": bi.lerp, "heaviside": bi.heaviside, "clamp_min": bi.clamp_min,
    "clamp_max": bi.clamp_max,
    # element-wise selection
    "clamp": sel.clamp, "clip": sel.clamp, "maximum": sel.maximum, "minimum": sel.minimum,
    "where": lambda self, condition, other: sel.where(condition, self, other),
    # reductions and the softmax family
    "sum": red.sum, "mean": red.mean, "prod": red.prod, "max": red.max, "min": red.min,
    "amax": red.amax, "amin": red.amin, "var": red.var, "std": red.std, "norm": red.norm,
    "logsumexp": sm.logsumexp, "softmax": sm.softmax, "log_softmax": sm.log_softmax,
    # products
    "matmul": la.matmul, "mm": la.mm, "bmm": la.bmm, "outer": la.outer, "dot": la.dot,
    # shapes
    "reshape": sh.reshape, "view": _view, "flatten": sh.flatten, "unflatten": sh.unflatten,
    "squeeze": sh.squeeze, "unsqueeze": sh.unsqueeze, "permute": sh.permute,
    "transpose": sh.transpose, "swapaxes": sh.transpose, "swapdims": sh.transpose,
    "ravel": lambda self: sh.flatten(self), "t": sh.t, "expand": sh.expand,
    "expand_as": sh.expand_as, "broadcast_to": sh.broadcast_to, "repeat": sh.repeat,
    "tile": sh.tile, "flip": sh.flip, "split": sh.split, "chunk": sh.chunk,
    "unbind": sh.unbind, "narrow": sh.narrow,
    "view_as": lambda self, other: sh.reshape(self, other.array.shape),
    "reshape_as": lambda self, other: sh.reshape(self, other.array.shape),
    "contiguous": lambda self, memory_format=None: self,
    # indexing
    "gather": ix.gather, "index_select": ix.index_select, "masked_fill": ix.masked_fill,
    "scatter": ix.scatter, "scatter_": ix.scatter_,
    # comparisons, logic and rounding
    "eq": cmp.eq, "ne": cmp.ne, "lt": cmp.lt, "le": cmp.le, "gt": cmp.gt, "ge": cmp.ge,
    "isclose": cmp.isclose, "allclose": cmp.allclose,
    "equal": cmp.equal, "logical_and": cmp.logical_and, "logical_or": cmp.logical_or,
    "logical_xor": cmp.logical_xor, "logical_not": cmp.logical_not,
    "sign": cmp.sign, "floor": cmp.floor, "ceil": cmp.ceil, "round": cmp.round,
    "trunc": cmp.trunc, "isnan": cmp.isnan, "isinf": cmp.isinf, "isfinite": cmp.isfinite,
    "fix": cmp.trunc, "sgn": cmp.sign, "signbit": cmp.signbit, "isposinf": cmp.isposinf,
    "isneginf": cmp.isneginf, "isreal": cmp.isreal, "greater": cmp.gt, "greater_equal": cmp.ge,
    "less": cmp.lt, "less_equal": cmp.le, "not_equal": cmp.ne, "bitwise_and": cmp.bitwise_and,
    "bitwise_or": cmp.bitwise_or, "bitwise_xor": cmp.bitwise_xor,
    "bitwise_not": cmp.bitwise_not, "bitwise_left_shift": cmp.bitwise_left_shift,
    "bitwise_right_shift": cmp.bitwise_right_shift, "gcd": cmp.gcd, "lcm": cmp.lcm,
    "nextafter": cmp.nextafter,
    "all": cmp.all, "any": cmp.any,
    # sorting, searching and counting
    "argmax": so.argmax, "argmin": so.argmin,
    "sort": so.sort, "argsort": so.argsort, "topk": so.topk, "unique": so.unique,
    "nonzero": so.nonzero, "bincount": so.bincount,
    # the backward engine
    "backward": backward,
    # conversion
    "clone": clone, "to": to, "cpu": cpu, "cuda": cuda, "type": type_,
    "type_as": lambda self, other: pr.cast(self, other.array.dtype),
    "float": _caster("float32"), "double": _caster("float64"), "half": _caster("float16"),
    "long": _caster("int64"), "int": _caster("int32"), "short": _caster("int16"),
    "bool": _caster("bool"), "byte": _caster("uint8"), "char": _caster("int8"),
    "new_zeros": _new(0), "new_ones": _new(1), "new_empty": _new(0),
    "new_tensor": new_tensor, "new_full": new_full,
}

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

Tensor.T = property(sh.T)
Tensor.mT = property(lambda self: sh.transpose(self, -2, -1))
