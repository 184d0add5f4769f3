"""Creating tensors: ``tensor``, ``zeros``, ``arange``, ``randn``... with PyTorch's signatures.

dtype inference follows PyTorch: Python floats become float32 (the default dtype), ints int64,
bools bool; a NumPy array keeps its dtype. Random draws come from trainctl's seeded generator, on
the CPU, and are then moved, so a seed gives the same numbers on every device. Without
``device=`` a tensor is made on the default device (``tc.set_default_device``, ``with
tc.device(...)``); on the ``meta`` device nothing is drawn or filled, only the shape is kept.
"""

from __future__ import annotations

import numbers

import numpy

from ..core import backend, dtypes
from ..core.random import generator_for
from .grad_mode import STATE
from .tensor import Tensor, copy_data, infer_numpy


def size_tuple(size: tuple) -> tuple:
    """The ``*size`` arguments of ``f(2, 3)``, ``f((2, 3))`` or ``f([2, 3])`` as a tuple of ints.

    Example:
        >>> size_tuple((2, 3)), size_tuple(([2, 3],))
        ((2, 3), (2, 3))
    """
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def _finish(data, dtype, device, requires_grad: bool) -> Tensor:
    if dtype is not None:
        data = data.astype(dtypes.as_dtype(dtype).numpy, copy=False)
    device = backend.creation_device(device)
    if device is not None:
        data = backend.to_device(data, device)
    return _wrapped(data, requires_grad)


def _wrapped(data, requires_grad: bool) -> Tensor:
    t = Tensor._constant(data)  # made from Python values: a graph may keep it as a constant
    if requires_grad:
        t.requires_grad = True  # refuses integer dtypes, as in PyTorch
    return t


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (number, nested list, NumPy array or Tensor).

    Example:
        >>> tensor([[1, 2], [3, 4]]).dtype
        trainctl.int64
        >>> tensor([1.0, 2.0], requires_grad=True)
        tensor([1., 2.], requires_grad=True)
        >>> tensor(0.1, dtype=dtypes.float64).item()  # Python floats go straight to that dtype
        0.1
    """
    out = _finish(copy_data(data, _float_target(dtype)), dtype, device, requires_grad)
    if STATE.tracer is not None and isinstance(data, Tensor):
        STATE.tracer.wrapped(out.array)  # a copy of a tensor's values: a graph must not freeze it
    return out


def _float_target(dtype):
    """The NumPy dtype Python floats should become for ``dtype`` (None: the default)."""
    if dtype is None:
        return None
    target = dtypes.as_dtype(dtype).numpy
    return target if numpy.dtype(target).kind == "f" else None


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like :func:`tensor`, but shares memory with a NumPy array or Tensor when it can."""
    if isinstance(data, Tensor):
        if dtype is None and device is None:
            return data
        return data.to(device=device, dtype=dtype)
    if isinstance(data, numpy.ndarray):
        return _finish(data, dtype, device, False)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: numpy.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (changes to one show in the other).

    Example:
        >>> a = numpy.zeros(2); t = from_numpy(a); a[0] = 5; t
        tensor([5., 0.], dtype=trainctl.float64)
    """
    if not isinstance(array, numpy.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    dtypes.from_numpy_dtype(array.dtype)  # refuse unsupported dtypes (objects, strings)
    return Tensor._wrap(array)


def _on_meta(device) -> bool:
    """Whether a creation function with ``device=device`` makes a meta tensor (then it only
    needs the shape: no values are drawn or computed, whatever the size)."""
    dev = backend.creation_device(device)
    return dev is not None and dev.type == "meta"


def _meta(shape, dtype, requires_grad) -> Tensor:
    data = backend.array_module_for(backend.META).empty(shape, dtype=dtypes.as_dtype(dtype).numpy)
    return _wrapped(data, requires_grad)


def _filled(fill, size, dtype, device, requires_grad):
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    dev = backend.creation_device(device) or backend.CPU
    xp = backend.array_module_for(dev)
    if dev.type == "cuda":
        with xp.cuda.Device(dev.index):
            data = xp.full(size_tuple(size), fill, dtype=dt.numpy)
    else:
        data = xp.full(size_tuple(size), fill, dtype=dt.numpy)
    return _wrapped(data, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _filled(0, size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)``."""
    return _filled(1, size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (trainctl fills it with zeros, so it is never garbage)."""
    return _filled(0, size, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype follows the value (float -> float32)."""
    if dtype is None:
        dtype = infer_numpy(fill_value).dtype
    return _filled(fill_value, (size,) if isinstance(size, int) else tuple(size), dtype, device,
                   requires_grad)


def _like(t: Tensor, dtype, device):
    return (t.dtype if dtype is None else dtype), (t.device if device is None else device)


def zeros_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return _filled(0, t.shape, dtype, device, requires_grad)


def ones_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return _filled(1, t.shape, dtype, device, requires_grad)


def empty_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return zeros_like(t, dtype, device, requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return _filled(fill_value, t.shape, dtype, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless a float is given.

    Example:
        >>> arange(3)
        tensor([0, 1, 2])
    """
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_float = any(not isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = dtypes.get_default_dtype() if is_float else dtypes.int64
    dt = dtypes.as_dtype(dtype)
    # Compute in float64 then cast, so float32 ranges have PyTorch's length and values.
    count = int(numpy.ceil((end - start) / step))
    if _on_meta(device):
        return _meta((max(count, 0),), dt, requires_grad)
    data = (start + step * numpy.arange(max(count, 0), dtype=numpy.float64)).astype(dt.numpy)
    if dt.category < 2:
        data = numpy.arange(start, end, step, dtype=dt.numpy)
    return _finish(data, None, device, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    Example:
        >>> linspace(0, 1, 3, requires_grad=True)
        tensor([0.0000, 0.5000, 1.0000], requires_grad=True)
    """
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if _on_meta(device):
        return _meta((int(steps),), dt, requires_grad)
    data = numpy.linspace(start, end, int(steps), dtype=numpy.float64).astype(dt.numpy)
    return _finish(data, None, device, requires_grad)


def logspace(start, end, steps: int, base=10.0, dtype=None, device=None, requires_grad=False):
    """``steps`` values from ``base**start`` to ``base**end``, evenly spaced in the exponent."""
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if _on_meta(device):
        return _meta((int(steps),), dt, requires_grad)
    data = numpy.logspace(start, end, int(steps), base=base).astype(dt.numpy)
    return _finish(data, None, device, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The identity matrix (n x m)."""
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if _on_meta(device):
        return _meta((n, n if m is None else m), dt, requires_grad)
    return _finish(numpy.eye(n, m, dtype=dt.numpy), None, device, requires_grad)


def _float_sample(draw, size, dtype, device, requires_grad) -> Tensor:
    """Draw floats with ``draw(size, numpy_dtype)``: float32 natively, else in float64."""
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if not dt.is_floating_point:
        raise TypeError(f"random floats cannot have dtype {dt}")
    if _on_meta(device):
        return _meta(size_tuple(size), dt, requires_grad)
    native = numpy.float32 if dt is dtypes.float32 else numpy.float64
    sample = draw(size_tuple(size), native).astype(dt.numpy, copy=False)
    return _finish(sample, None, device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    rng = generator_for(generator)
    return _float_sample(lambda s, d: rng.random(s, dtype=d), size, dtype, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples."""
    rng = generator_for(generator)
    return _float_sample(
        lambda s, d: rng.standard_normal(s, dtype=d), size, dtype, device, requires_grad
    )


def randint(low, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Integers from ``low`` (inclusive) to ``high`` (exclusive): ``randint(10, (3,))``.

    ``requires_grad=True`` is refused unless ``dtype`` is floating point, as in PyTorch.
    """
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() needs a size, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if _on_meta(device):
        return _meta(tuple(size), dtype or dtypes.int64, requires_grad)
    data = generator_for(generator).integers(low, high, size=tuple(size), dtype=numpy.int64)
    return _finish(data, dtype, device, requires_grad)


def randperm(n: int, generator=None, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of ``0 .. n-1``."""
    if _on_meta(device):
        return _meta((int(n),), dtype or dtypes.int64, requires_grad)
    data = generator_for(generator).permutation(int(n)).astype(numpy.int64)
    return _finish(data, dtype, device, requires_grad)


def rand_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return rand(*t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def randn_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return randn(*t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def randint_like(t: Tensor, low, high=None, dtype=None, device=None,
                 requires_grad: bool = False) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return randint(low, high, tuple(t.shape), dtype=dtype, device=device,
                   requires_grad=requires_grad)


def normal(mean, std=1.0, size=None, generator=None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples: ``normal(0.0, 1.0, (2, 3))`` with float mean and std and a size, or
    ``normal(means, stds)`` with tensors (one sample per element of their broadcast shape).

    Example:
        >>> normal(0.0, 0.01, (2, 3), requires_grad=True).shape
        trainctl.Size([2, 3])
    """
    rng = generator_for(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if size is not None or requires_grad:
            raise TypeError("normal() with tensor mean or std takes no size or requires_grad; "
                            "the shape is that of mean and std broadcast together")
        like = mean if isinstance(mean, Tensor) else std
        m = mean.array if isinstance(mean, Tensor) else mean
        s = std.array if isinstance(std, Tensor) else std
        if like.device.type == "meta":
            return _meta(numpy.broadcast_shapes(numpy.shape(m), numpy.shape(s)), like.dtype,
                         False)
        m, s = (backend.to_device(v, backend.CPU) if hasattr(v, "shape") else v for v in (m, s))
        sample = rng.normal(m, s).astype(like.array.dtype)
        return _finish(sample, None, like.device, False)
    if size is None:
        raise TypeError("normal() with float mean and std needs a size, e.g. normal(0., 1., (3,))")
    return _float_sample(
        lambda s, d: rng.normal(mean, std, s).astype(d), size, dtype, device, requires_grad
    )


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(t: Tensor) -> int:
    return t.numel()


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def clone(input: Tensor, memory_format=None) -> Tensor:
    """A copy of ``input`` that stays in the graph."""
    return input.clone()
