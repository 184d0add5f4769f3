"""Attach the ops to ``Tensor`` as methods and Python operators (``x.sum()``, ``a @ b``...).

Kept apart from ``tensor.py`` so the Tensor class stays small and the op modules can import it.
"""

from __future__ import annotations

from ..core import backend, dtypes
from .function import Function
from .grad_mode import STATE
from .ops import comparison as cmp
from .ops import elementwise as ew
from .ops import indexing as ix
from .ops import linalg as la
from .ops import reduction as red
from .ops import shape as sh
from .tensor import Tensor


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class ToDevice(Function):
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


def _parse_to(args, kwargs):
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
            isinstance(arg, str) and arg.removeprefix("torch.").removeprefix("trainctl.")
            in dtypes._BY_NAME
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
    device, dtype = _parse_to(args, kwargs)
    out = self
    if dtype is not None:
        out = ew.cast(out, dtypes.as_dtype(dtype).numpy)
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
    return ew.cast(self, dtypes.as_dtype(dtype).numpy)


def _caster(np_name):
    def convert(self: Tensor, memory_format=None) -> Tensor:
        return ew.cast(self, dtypes.as_dtype(np_name).numpy)

    convert.__doc__ = f"Cast to {np_name}."
    return convert


def _new(fill):
    def new(self: Tensor, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        from . import creation

        return creation.full(
            creation._size(size), fill, dtype=dtype or self.dtype, device=device or self.device,
            requires_grad=requires_grad,
        )

    return new


def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> Tensor:
    from . import creation

    return creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                           requires_grad=requires_grad)


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    from . import creation

    return creation.full(size, fill_value, dtype=dtype or self.dtype,
                         device=device or self.device, requires_grad=requires_grad)


def masked_fill_(self: Tensor, mask, value) -> Tensor:
    """In place: set ``value`` where ``mask`` is true."""
    self._check_inplace("masked_fill_")
    m = mask.data if isinstance(mask, Tensor) else mask
    xp = backend.get_array_module(self.data)
    xp.copyto(self.data, xp.asarray(value.item() if isinstance(value, Tensor) else value,
                                    dtype=self.data.dtype), where=m)
    return self


def _reflected(fn):
    def reflected(self, other):
        return fn(other, self)

    return reflected


def _inplace(method_name, out_of_place):
    """``x += y``: in place, except when grad mode would need to record it (``x`` is inside a
    graph, or ``y`` requires grad), where it rebinds ``x`` to the out-of-place result so the
    gradients stay right. A leaf that requires grad still refuses, as in PyTorch."""

    def inplace(self, other):
        if STATE.enabled and (self.grad_fn is not None or (
            not self._requires_grad and isinstance(other, Tensor) and other._requires_grad
        )):
            return out_of_place(self, other)
        return getattr(self, method_name)(other)

    return inplace


def _view(self: Tensor, *shape) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], (dtypes.dtype, str)):
        raise NotImplementedError("view(dtype) reinterpretation is not supported; use .to(dtype)")
    return sh.reshape(self, *shape)


_METHODS = {
    # arithmetic and operators
    "add": ew.add, "sub": ew.sub, "mul": ew.mul, "div": ew.div, "pow": ew.pow,
    "subtract": ew.sub, "multiply": ew.mul, "divide": ew.div, "true_divide": ew.div,
    "neg": ew.neg, "negative": ew.neg, "remainder": ew.remainder, "floor_divide": ew.floor_divide,
    "__add__": ew.add, "__radd__": _reflected(ew.add),
    "__sub__": ew.sub, "__rsub__": _reflected(ew.sub),
    "__mul__": ew.mul, "__rmul__": _reflected(ew.mul),
    "__truediv__": ew.div, "__rtruediv__": _reflected(ew.div),
    "__floordiv__": ew.floor_divide, "__rfloordiv__": _reflected(ew.floor_divide),
    "__mod__": ew.remainder, "__rmod__": _reflected(ew.remainder),
    "__pow__": ew.pow, "__rpow__": _reflected(ew.pow),
    "__matmul__": la.matmul, "__rmatmul__": _reflected(la.matmul),
    "__neg__": ew.neg, "__pos__": lambda self: self, "__abs__": ew.abs,
    "__iadd__": _inplace("add_", ew.add), "__isub__": _inplace("sub_", ew.sub),
    "__imul__": _inplace("mul_", ew.mul), "__itruediv__": _inplace("div_", ew.div),
    "__eq__": cmp.eq, "__ne__": cmp.ne, "__lt__": cmp.lt, "__le__": cmp.le,
    "__gt__": cmp.gt, "__ge__": cmp.ge,
    "__and__": cmp.logical_and, "__or__": cmp.logical_or, "__xor__": cmp.logical_xor,
    "__invert__": cmp.logical_not, "__getitem__": ix.getitem,
    # unary maths
    "abs": ew.abs, "exp": ew.exp, "log": ew.log, "log1p": ew.log1p, "sqrt": ew.sqrt,
    "rsqrt": ew.rsqrt, "sin": ew.sin, "cos": ew.cos, "tanh": ew.tanh, "sigmoid": ew.sigmoid,
    "relu": ew.relu, "square": ew.square, "reciprocal": ew.reciprocal,
    "clamp": ew.clamp, "clip": ew.clamp, "maximum": ew.maximum, "minimum": ew.minimum,
    "where": lambda self, condition, other: ew.where(condition, self, other),
    # reductions
    "sum": red.sum, "mean": red.mean, "prod": red.prod, "max": red.max, "min": red.min,
    "amax": red.amax, "amin": red.amin, "var": red.var, "std": red.std,
    "logsumexp": red.logsumexp, "norm": red.norm, "softmax": red.softmax,
    "log_softmax": red.log_softmax,
    # products
    "matmul": la.matmul, "mm": la.mm, "bmm": la.bmm, "outer": la.outer, "dot": la.dot,
    # shapes
    "reshape": sh.reshape, "view": _view, "flatten": sh.flatten, "unflatten": sh.unflatten,
    "squeeze": sh.squeeze, "unsqueeze": sh.unsqueeze, "permute": sh.permute,
    "transpose": sh.transpose, "swapaxes": sh.transpose, "t": sh.t, "expand": sh.expand,
    "expand_as": sh.expand_as, "broadcast_to": sh.broadcast_to, "repeat": sh.repeat,
    "tile": sh.tile, "flip": sh.flip, "split": sh.split, "chunk": sh.chunk,
    "unbind": sh.unbind, "narrow": sh.narrow,
    "view_as": lambda self, other: sh.reshape(self, other.data.shape),
    "reshape_as": lambda self, other: sh.reshape(self, other.data.shape),
    "contiguous": lambda self, memory_format=None: self,
    # indexing
    "gather": ix.gather, "index_select": ix.index_select, "masked_fill": ix.masked_fill,
    "masked_fill_": masked_fill_, "scatter": ix.scatter, "scatter_": ix.scatter_,
    # comparisons and other non-differentiable ops
    "eq": cmp.eq, "ne": cmp.ne, "lt": cmp.lt, "le": cmp.le, "gt": cmp.gt, "ge": cmp.ge,
    "isclose": cmp.isclose, "allclose": cmp.allclose,
    "equal": cmp.equal, "logical_and": cmp.logical_and, "logical_or": cmp.logical_or,
    "logical_xor": cmp.logical_xor, "logical_not": cmp.logical_not,
    "sign": cmp.sign, "floor": cmp.floor, "ceil": cmp.ceil, "round": cmp.round,
    "trunc": cmp.trunc, "isnan": cmp.isnan, "isinf": cmp.isinf, "isfinite": cmp.isfinite,
    "argmax": cmp.argmax, "argmin": cmp.argmin, "all": cmp.all, "any": cmp.any,
    "sort": cmp.sort, "argsort": cmp.argsort, "topk": cmp.topk, "unique": cmp.unique,
    "nonzero": cmp.nonzero, "bincount": cmp.bincount,
    # conversion
    "clone": clone, "to": to, "cpu": cpu, "cuda": cuda, "type": type_,
    "type_as": lambda self, other: ew.cast(self, other.data.dtype),
    "float": _caster("float32"), "double": _caster("float64"), "half": _caster("float16"),
    "long": _caster("int64"), "int": _caster("int32"), "short": _caster("int16"),
    "bool": _caster("bool"), "byte": _caster("uint8"),
    "new_zeros": _new(0), "new_ones": _new(1), "new_empty": _new(0),
    "new_tensor": new_tensor, "new_full": new_full,
}

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

Tensor.T = property(sh.T)
Tensor.mT = property(lambda self: sh.transpose(self, -2, -1))
