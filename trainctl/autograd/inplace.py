"""In-place updates: ``add_, sub_, mul_, div_, zero_, fill_, copy_, clamp_, uniform_, normal_,
masked_fill_``, the in-place twins of the element-wise maths (``exp_, sinh_, atan2_``...), item
assignment (``x[i] = v``) and ``x += y``, attached to ``Tensor``.

Each one bumps the tensor's version (``Tensor._check_inplace``), so backward can tell that an
array it saved has changed since. Under grad mode an update that would need recording (of a tensor
that requires grad, or with an operand that does) raises instead of leaving wrong gradients;
only the operators (``x += y``) fall back to the out-of-place result.

Example:
    >>> import trainctl as tc
    >>> x = tc.zeros(2)
    >>> x.add_(1).mul_(3)
    tensor([3., 3.])
"""

from __future__ import annotations

import numpy

from ..core import backend, dtypes
from ..core.random import generator_for
from .grad_mode import STATE, no_grad
from .ops import arithmetic
from .tensor import Tensor


def _operand(other):
    """``other`` as an array or Python number to update with."""
    if isinstance(other, Tensor):
        if other._requires_grad and STATE.enabled:
            # PyTorch would record the update; dropping the gradient silently is worse.
            raise RuntimeError(
                "in-place update with a tensor that requires grad is not recorded for "
                "backward: write it out of place (a = a + b) or wrap it in tc.no_grad()"
            )
        return other.array
    if isinstance(other, numpy.generic):
        return other.item()
    return other


def _cast_error(op: str, self: Tensor, other) -> RuntimeError:
    """PyTorch's error for an update whose result does not fit ``self``'s dtype (NumPy's own
    is a ``UFuncTypeError`` naming a ufunc)."""
    # PyTorch's promotion: a float tensor operand gives its dtype, a number the default one
    floating = getattr(other, "dtype", None) is not None and other.dtype.kind == "f"
    result = other.dtype if floating and other.ndim else dtypes.get_default_dtype().numpy
    return RuntimeError(f"{op}: result type {result} can't be cast to the desired output type "
                        f"{self.array.dtype}")


def add_(self: Tensor, other, alpha=1) -> Tensor:
    """In place: ``self += alpha * other``."""
    self._check_inplace("add_")
    other = _operand(other)
    try:
        self.array += other if alpha == 1 else other * alpha
    except TypeError:  # int += float: checked only on failure, off the hot path
        raise _cast_error("add_", self, other) from None
    return self


def sub_(self: Tensor, other, alpha=1) -> Tensor:
    self._check_inplace("sub_")
    other = _operand(other)
    try:
        self.array -= other if alpha == 1 else other * alpha
    except TypeError:
        raise _cast_error("sub_", self, other) from None
    return self


def mul_(self: Tensor, other) -> Tensor:
    self._check_inplace("mul_")
    other = _operand(other)
    try:
        self.array *= other
    except TypeError:
        raise _cast_error("mul_", self, other) from None
    return self


def div_(self: Tensor, other) -> Tensor:
    self._check_inplace("div_")
    other = _operand(other)
    try:
        self.array /= other
    except TypeError:  # true division of an int tensor: PyTorch refuses it too
        raise _cast_error("div_", self, other) from None
    return self


def zero_(self: Tensor) -> Tensor:
    self._check_inplace("zero_")
    self.array[...] = 0
    return self


def fill_(self: Tensor, value) -> Tensor:
    self._check_inplace("fill_")
    self.array[...] = _operand(value)
    return self


def copy_(self: Tensor, src) -> Tensor:
    """Copy ``src`` (broadcast to this shape, cast to this dtype and device) into self."""
    self._check_inplace("copy_")
    src = src.array if isinstance(src, Tensor) else src
    src = backend.to_device(backend.get_array_module(src).asarray(src), self.device)
    self.array[...] = src
    return self


def clamp_(self: Tensor, min=None, max=None) -> Tensor:
    self._check_inplace("clamp_")
    xp = backend.get_array_module(self.array)
    xp.clip(self.array, _operand(min), _operand(max), out=self.array)
    return self


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from U(a, b) drawn from trainctl's seeded generator."""
    self._check_inplace("uniform_")
    if self.is_meta:  # nothing to fill: drawing a sample of its size would allocate it
        return self
    sample = generator_for(generator).uniform(a, b, self.array.shape)
    self.array[...] = backend.to_device(sample.astype(self.array.dtype), self.device)
    return self


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from N(mean, std**2) drawn from trainctl's seeded generator."""
    self._check_inplace("normal_")
    if self.is_meta:  # nothing to fill: drawing a sample of its size would allocate it
        return self
    sample = generator_for(generator).normal(mean, std, self.array.shape)
    self.array[...] = backend.to_device(sample.astype(self.array.dtype), self.device)
    return self


def setitem(self: Tensor, key, value) -> None:
    """``self[key] = value`` with NumPy/PyTorch indexing."""
    if STATE.enabled and isinstance(value, Tensor) and value._requires_grad:
        # PyTorch would record the copy; here it would silently drop the gradient.
        raise RuntimeError(
            "__setitem__: the assigned value requires grad, but item assignment is not "
            "recorded for backward; build the result with tc.cat, tc.stack or tc.where "
            "(or assign under tc.no_grad() to copy the values only)"
        )
    self._check_inplace("__setitem__")
    if isinstance(key, Tensor):
        key = key.array
    elif isinstance(key, tuple):
        key = tuple(k.array if isinstance(k, Tensor) else k for k in key)
    self.array[key] = _operand(value)


def masked_fill_(self: Tensor, mask, value) -> Tensor:
    """In place: set ``value`` where ``mask`` is true."""
    self._check_inplace("masked_fill_")
    m = mask.array if isinstance(mask, Tensor) else mask
    xp = backend.get_array_module(self.array)
    xp.copyto(self.array, xp.asarray(value.item() if isinstance(value, Tensor) else value,
                                    dtype=self.array.dtype), where=m)
    return self


def _operator(method_name, out_of_place):
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


_METHODS = {
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "zero_": zero_, "fill_": fill_,
    "copy_": copy_, "clamp_": clamp_, "clip_": clamp_, "uniform_": uniform_, "normal_": normal_,
    "masked_fill_": masked_fill_, "__setitem__": setitem,
    "__iadd__": _operator("add_", arithmetic.add), "__isub__": _operator("sub_", arithmetic.sub),
    "__imul__": _operator("mul_", arithmetic.mul),
    "__itruediv__": _operator("div_", arithmetic.div),
}

# The in-place twin ``x.name_(...)`` of each of these methods (PyTorch has them all).
_MATH = """
    abs absolute acos arccos acosh arccosh asin arcsin asinh arcsinh atan arctan atanh arctanh
    ceil cos cosh deg2rad digamma erf erfc erfinv exp exp2 expm1 fix floor frac lgamma log log10
    log1p log2 logit nan_to_num neg negative rad2deg reciprocal relu round rsqrt sgn sigmoid sign
    sin sinc sinh sqrt square tan tanh trunc mvlgamma polygamma
    atan2 arctan2 hypot xlogy copysign fmod remainder float_power ldexp lerp heaviside clamp_min
    clamp_max pow subtract multiply divide true_divide floor_divide
    bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_left_shift bitwise_right_shift gcd lcm
    nextafter logical_and logical_or logical_xor logical_not
    eq ne lt le gt ge greater greater_equal less less_equal not_equal
""".split()


def _inplace_of(name: str):
    """``self.name_(*args)``: ``self.name(*args)`` written into ``self``, PyTorch's rules: the
    result keeps ``self``'s shape and dtype (a float result cannot go into an int tensor)."""

    def inplace(self: Tensor, *args, **kwargs) -> Tensor:
        for arg in (*args, *kwargs.values()):
            _operand(arg)  # refuses an operand that requires grad
        self._check_inplace(f"{name}_")
        with no_grad():
            result = getattr(Tensor, name)(self, *args, **kwargs)  # methods.py attaches it later
        out, target = result.array, self.array
        if out.shape != target.shape:
            raise RuntimeError(f"{name}_: output with shape {list(target.shape)} doesn't match "
                               f"the broadcast shape {list(out.shape)}")
        if not numpy.can_cast(out.dtype, target.dtype, casting="same_kind"):
            raise RuntimeError(f"{name}_: result type {out.dtype} can't be cast to the desired "
                               f"output type {target.dtype}")
        target[...] = out
        return self

    inplace.__name__ = inplace.__qualname__ = f"{name}_"
    inplace.__doc__ = f"In place: ``self.{name}(...)`` written into ``self``."
    return inplace


for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
for _name in _MATH:
    if not hasattr(Tensor, f"{_name}_"):
        setattr(Tensor, f"{_name}_", _inplace_of(_name))
