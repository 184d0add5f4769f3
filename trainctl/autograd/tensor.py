"""``Tensor``: an n-dimensional array that can record the ops applied to it for backward.

A tensor wraps one array of the array module (``numpy.ndarray`` or ``cupy.ndarray``) in ``.data``.
Ops (see ``autograd/ops``) are attached as methods and operators in ``methods.py``; this file holds
the state, the small accessors, in-place updates and the link to the backward engine.

Example:
    >>> import trainctl as tc
    >>> x = tc.tensor([[1., 2.], [2., 3.]], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([[2., 4.],
            [4., 6.]])
"""

from __future__ import annotations

import numpy

from ..core import backend, dtypes
from .grad_mode import STATE


class Size(tuple):
    """A tensor's shape: a tuple of ints, as ``torch.Size``.

    Example:
        >>> Size((2, 3)).numel()
        6
    """

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self) -> str:
        return f"trainctl.Size([{', '.join(map(str, self))}])"


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Tensor:
    """A multi-dimensional array with autograd. Create tensors with ``tc.tensor``, ``tc.zeros``...

    ``Tensor(data)`` and ``Tensor(*sizes)`` follow PyTorch's legacy constructor (float32).
    """

    __slots__ = ("data", "grad", "grad_fn", "_requires_grad", "_version", "_hooks", "__weakref__")
    __array_ufunc__ = None  # numpy defers to our reflected operators: ndarray * Tensor -> Tensor

    def __init__(self, *args, requires_grad: bool = False):
        from .creation import tensor as make

        if len(args) == 1 and not isinstance(args[0], int):
            data = make(args[0], dtype=dtypes.get_default_dtype()).data
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], tuple) else args
            data = numpy.zeros(tuple(shape), dtype=dtypes.get_default_dtype().numpy)
        self.data = data
        self.grad = None
        self.grad_fn = None
        self._version = 0
        self._hooks = None
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _wrap(cls, data, requires_grad: bool = False):
        """Wrap an array without copying or checks (the fast internal constructor)."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.grad_fn = None
        t._requires_grad = requires_grad
        t._version = 0
        t._hooks = None
        return t

    # ----------------------------------------------------------------- attributes
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if value and self.data.dtype.kind != "f":
            raise RuntimeError(
                f"only tensors of floating point dtype can require gradients, got {self.dtype}"
            )
        if not value and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables; use .detach() "
                "to get a tensor outside the graph"
            )
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def shape(self) -> Size:
        return Size(self.data.shape)

    def size(self, dim: int | None = None):
        """The shape, or the length of dimension ``dim``."""
        if dim is None:
            return Size(self.data.shape)
        return self.data.shape[dim]

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    nelement = numel

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.from_numpy_dtype(self.data.dtype)

    def element_size(self) -> int:
        return self.data.itemsize

    @property
    def itemsize(self) -> int:
        return self.data.itemsize

    @property
    def device(self) -> backend.device:
        return backend.device_of(self.data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    @property
    def _version_counter(self) -> int:
        return self._version

    # ----------------------------------------------------------------- conversion
    def numpy(self, force: bool = False) -> numpy.ndarray:
        """The data as a NumPy array, sharing memory for CPU tensors (like PyTorch)."""
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        if backend.device_of(self.data).type != "cpu":
            if not force:
                raise TypeError(
                    f"can't convert {self.device} tensor to numpy: use .cpu() first"
                )
            return self.data.get()
        return self.data

    def __array__(self, dtype=None, copy=None):
        data = self.data if isinstance(self.data, numpy.ndarray) else self.data.get()
        return data if dtype is None else data.astype(dtype, copy=False)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self.data.size} elements cannot be converted to Scalar"
            )
        return self.data.item()

    def tolist(self):
        data = self.data if isinstance(self.data, numpy.ndarray) else self.data.get()
        return data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self.data.size} values is ambiguous"
            )
        return bool(self.item())

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __format__(self, spec: str) -> str:
        if self.data.ndim == 0 or (spec and self.data.size == 1):
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __repr__(self) -> str:
        from .printing import tensor_repr

        return tensor_repr(self)

    __hash__ = object.__hash__

    def __reduce__(self):
        raise TypeError(
            "trainctl tensors are not pickled; use tc.save(obj, path), which writes safetensors"
        )

    def __deepcopy__(self, memo) -> Tensor:
        """``copy.deepcopy`` (e.g. of a model): a new leaf of the same class with copied data
        and grad. As in PyTorch, only leaves can be deep-copied."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol; use .detach().clone()"
            )
        new = type(self)._wrap(self.data.copy(), self._requires_grad)
        if self.grad is not None:
            new.grad = Tensor._wrap(self.grad.data.copy())
        memo[id(self)] = new
        return new

    # ----------------------------------------------------------------- graph
    def detach(self) -> Tensor:
        """A tensor sharing this one's data, cut from the graph."""
        return Tensor._wrap(self.data)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        from .engine import retain_grad_ref

        self.grad_fn.retain = retain_grad_ref(self)

    @property
    def retains_grad(self) -> bool:
        return self.grad_fn is not None and self.grad_fn.retain is not None

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is known; a returned tensor replaces it.

        Example:
            >>> x = Tensor._wrap(numpy.ones(2, numpy.float32), requires_grad=True)
            >>> h = x.register_hook(lambda g: g * 2)
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            if self.grad_fn.hooks is None:
                self.grad_fn.hooks = []
            hooks = self.grad_fn.hooks
        else:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``gradient`` is required unless the tensor has one element. The graph is freed
        afterwards unless ``retain_graph=True``.
        """
        _engine.backward(self, gradient, retain_graph, create_graph)

    # ----------------------------------------------------------------- in-place updates
    def _check_inplace(self, op: str) -> None:
        if STATE.enabled and self._requires_grad:
            if self.grad_fn is None:
                raise RuntimeError(
                    f"{op}: a leaf tensor that requires grad is being used in an in-place "
                    "operation; wrap it in `with tc.no_grad():`"
                )
            raise RuntimeError(
                f"{op}: in-place operations on tensors that are part of the autograd graph are "
                "not supported; use the out-of-place form"
            )
        self._version += 1

    def _operand(self, other):
        if isinstance(other, Tensor):
            if other._requires_grad and STATE.enabled:
                # PyTorch would record the update; dropping the gradient silently is worse.
                raise RuntimeError(
                    "in-place update with a tensor that requires grad is not recorded for "
                    "backward: write it out of place (a = a + b) or wrap it in tc.no_grad()"
                )
            return other.data
        if isinstance(other, numpy.generic):
            return other.item()
        return other

    def add_(self, other, alpha=1) -> Tensor:
        """In place: ``self += alpha * other``."""
        self._check_inplace("add_")
        other = self._operand(other)
        self.data += other if alpha == 1 else other * alpha
        return self

    def sub_(self, other, alpha=1) -> Tensor:
        self._check_inplace("sub_")
        other = self._operand(other)
        self.data -= other if alpha == 1 else other * alpha
        return self

    def mul_(self, other) -> Tensor:
        self._check_inplace("mul_")
        self.data *= self._operand(other)
        return self

    def div_(self, other) -> Tensor:
        self._check_inplace("div_")
        self.data /= self._operand(other)
        return self

    def zero_(self) -> Tensor:
        self._check_inplace("zero_")
        self.data[...] = 0
        return self

    def fill_(self, value) -> Tensor:
        self._check_inplace("fill_")
        self.data[...] = self._operand(value)
        return self

    def copy_(self, src) -> Tensor:
        """Copy ``src`` (broadcast to this shape, cast to this dtype and device) into self."""
        self._check_inplace("copy_")
        src = src.data if isinstance(src, Tensor) else src
        src = backend.to_device(backend.get_array_module(src).asarray(src), self.device)
        self.data[...] = src
        return self

    def clamp_(self, min=None, max=None) -> Tensor:
        self._check_inplace("clamp_")
        xp = backend.get_array_module(self.data)
        xp.clip(self.data, self._operand(min), self._operand(max), out=self.data)
        return self

    clip_ = clamp_

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
        """Fill with samples from U(a, b) drawn from trainctl's seeded generator."""
        from ..core.random import _generator

        self._check_inplace("uniform_")
        sample = _generator(generator).uniform(a, b, self.data.shape)
        self.data[...] = backend.to_device(sample.astype(self.data.dtype), self.device)
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
        """Fill with samples from N(mean, std**2) drawn from trainctl's seeded generator."""
        from ..core.random import _generator

        self._check_inplace("normal_")
        sample = _generator(generator).normal(mean, std, self.data.shape)
        self.data[...] = backend.to_device(sample.astype(self.data.dtype), self.device)
        return self

    def __setitem__(self, key, value) -> None:
        if STATE.enabled and isinstance(value, Tensor) and value._requires_grad:
            # PyTorch would record the copy; here it would silently drop the gradient.
            raise RuntimeError(
                "__setitem__: the assigned value requires grad, but item assignment is not "
                "recorded for backward; build the result with tc.cat, tc.stack or tc.where "
                "(or assign under tc.no_grad() to copy the values only)"
            )
        self._check_inplace("__setitem__")
        if isinstance(key, Tensor):
            key = key.data
        elif isinstance(key, tuple):
            key = tuple(k.data if isinstance(k, Tensor) else k for k in key)
        self.data[key] = self._operand(value)


from . import engine as _engine  # noqa: E402  (engine imports this module)
