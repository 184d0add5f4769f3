"""``Tensor``: an n-dimensional array that can record the ops applied to it for backward.

A tensor wraps one array of the array module (``numpy.ndarray`` or ``cupy.ndarray``) in ``.array``
(trainctl's raw storage; ``.data`` is PyTorch's: a tensor sharing it, outside the graph).
This file holds the state, the small accessors, the links into the graph (``detach``, hooks,
``retain_grad``) and how Python data becomes an array (PyTorch's dtype inference, shared by
``Tensor(data)`` and ``tc.tensor``). Ops and ``backward`` are attached in ``methods.py``, in-place
updates in ``inplace.py``: this module imports neither, so every op module can import it.

Example:
    >>> import trainctl as tc
    >>> x = tc.tensor([[1., 2.], [2., 3.]], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([[2., 4.],
            [4., 6.]])
"""

from __future__ import annotations

import numbers
import weakref

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
    Ops, ``backward`` (``methods.py``) and in-place updates (``inplace.py``) are attached when
    :mod:`trainctl.autograd` is imported, which happens before any use of this module.
    """

    __slots__ = ("array", "grad", "grad_fn", "_requires_grad", "_version", "_hooks", "__weakref__")
    __array_ufunc__ = None  # numpy defers to our reflected operators: ndarray * Tensor -> Tensor

    def __init__(self, *args, requires_grad: bool = False):
        if len(args) == 1 and not isinstance(args[0], int):
            data = copy_data(args[0]).astype(dtypes.get_default_dtype().numpy, copy=False)
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], tuple) else args
            data = numpy.zeros(tuple(shape), dtype=dtypes.get_default_dtype().numpy)
        self.array = data
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
        t.array = data
        t.grad = None
        t.grad_fn = None
        t._requires_grad = requires_grad
        t._version = 0
        t._hooks = None
        if STATE.tracer is not None:  # graph mode notes tensors made outside ops (trace.py)
            STATE.tracer.wrapped(data)
        return t

    @classmethod
    def _constant(cls, data):
        """Wrap an array made from Python values, not from tensors: a graph may keep it as a
        constant (``_wrap`` during a trace marks its array as computed outside the ops)."""
        t = object.__new__(cls)
        t.array = data
        t.grad = t.grad_fn = t._hooks = None
        t._requires_grad = False
        t._version = 0
        return t

    # ----------------------------------------------------------------- attributes
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if value and self.array.dtype.kind != "f":
            raise RuntimeError(
                # PyTorch's words (trainctl has no complex dtypes), so printed errors match
                "Only Tensors of floating point and complex dtype can require gradients"
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
    def data(self) -> Tensor:
        """A tensor sharing this one's storage, detached from the graph, as in PyTorch.

        In-place changes through it are not seen by autograd (use it to initialise or update
        weights by hand); assigning ``t.data = other`` swaps the storage in (shape may change).

        Example:
            >>> import trainctl as tc
            >>> w = tc.zeros(3, requires_grad=True)
            >>> w.data.fill_(0.5)
            tensor([0.5000, 0.5000, 0.5000])
            >>> w
            tensor([0.5000, 0.5000, 0.5000], requires_grad=True)
        """
        return Tensor._wrap(self.array)

    @data.setter
    def data(self, value) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self.array = value.array

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def shape(self) -> Size:
        return Size(self.array.shape)

    def size(self, dim: int | None = None):
        """The shape, or the length of dimension ``dim``."""
        if dim is None:
            return Size(self.array.shape)
        return self.array.shape[dim]

    @property
    def ndim(self) -> int:
        return self.array.ndim

    def dim(self) -> int:
        return self.array.ndim

    def numel(self) -> int:
        return int(self.array.size)

    nelement = numel

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.from_numpy_dtype(self.array.dtype)

    def element_size(self) -> int:
        return self.array.itemsize

    @property
    def itemsize(self) -> int:
        return self.array.itemsize

    @property
    def device(self) -> backend.device:
        return backend.device_of(self.array)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_meta(self) -> bool:
        """Whether the tensor is on the ``meta`` device (a shape and dtype, no values)."""
        return type(self.array) is backend.MetaArray

    def is_floating_point(self) -> bool:
        return self.array.dtype.kind == "f"

    # ----------------------------------------------------------------- conversion
    def numpy(self, force: bool = False) -> numpy.ndarray:
        """The data as a NumPy array, sharing memory for CPU tensors (like PyTorch)."""
        if STATE.tracer is not None:
            STATE.tracer.refuse(".numpy() (reading a tensor into Python)",
                                "return the tensor from the step and convert it outside")
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        if backend.device_of(self.array).type != "cpu":
            if not force:
                raise TypeError(
                    f"can't convert {self.device} tensor to numpy: use .cpu() first"
                )
            return self.array.get()
        return self.array

    def __array__(self, dtype=None, copy=None):
        if STATE.tracer is not None:
            STATE.tracer.refuse("numpy.asarray(tensor) (reading a tensor into Python)",
                                "return the tensor from the step and convert it outside")
        data = self.array if isinstance(self.array, numpy.ndarray) else self.array.get()
        return data if dtype is None else data.astype(dtype, copy=False)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if STATE.tracer is not None:
            STATE.tracer.refuse(".item() / float() / int() (reading a tensor into Python)",
                                "return the tensor from the step and read it outside")
        if self.array.size != 1:
            raise RuntimeError(
                f"a Tensor with {self.array.size} elements cannot be converted to Scalar"
            )
        return self.array.item()

    def tolist(self):
        if STATE.tracer is not None:
            STATE.tracer.refuse(".tolist() (reading a tensor into Python)",
                                "return the tensor from the step and read it outside")
        data = self.array if isinstance(self.array, numpy.ndarray) else self.array.get()
        return data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.array.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if STATE.tracer is not None:
            STATE.tracer.refuse("bool(tensor) (a Python branch on a tensor's value)",
                                "a graph has one path; use tc.where")
        if self.array.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self.array.size} values is ambiguous"
            )
        return bool(self.item())

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    def __format__(self, spec: str) -> str:
        if self.array.ndim == 0 or (spec and self.array.size == 1):
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
        new = type(self)._wrap(self.array.copy(), self._requires_grad)
        if self.grad is not None:
            new.grad = Tensor._wrap(self.grad.array.copy())
        memo[id(self)] = new
        return new

    # ----------------------------------------------------------------- graph
    def detach(self) -> Tensor:
        """A tensor sharing this one's data, cut from the graph."""
        return Tensor._wrap(self.array)

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
        # A weak reference: the node fills its output's .grad without keeping the output alive.
        self.grad_fn.retain = weakref.ref(self)

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

    def _check_inplace(self, op: str) -> None:
        """Mark an in-place change of ``data``: refused where grad mode would need to record it,
        else counted in ``_version`` so backward can tell a saved array has changed."""
        if STATE.tracer is not None:
            STATE.tracer.refuse(f"the in-place {op}",
                                "use the out-of-place form (or an optimizer for updates)")
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


# ----------------------------------------------------------------- Python data -> array


def tensors_in(value, found: list | None = None) -> list:
    """Every tensor in a (nested) tuple, list or dict, in order (a call's arguments, a model's
    outputs).

    Example:
        >>> t = Tensor._wrap(numpy.zeros(2))
        >>> len(tensors_in(([t, 1], {"b": t})))
        2
    """
    found = [] if found is None else found
    if isinstance(value, Tensor):
        found.append(value)
    elif isinstance(value, (tuple, list)):
        for v in value:
            tensors_in(v, found)
    elif isinstance(value, dict):
        for v in value.values():
            tensors_in(v, found)
    return found


def copy_data(data, float_dtype=None):
    """A new array holding a copy of ``data`` (a number, nested list, NumPy or CuPy array or
    Tensor), typed by PyTorch's inference: Python floats become the default float dtype (or
    ``float_dtype``, the NumPy dtype a caller converts to: ``tensor(0.1, dtype=float64)`` must
    not pass through float32 on the way), ints int64, bools bool; an array keeps its dtype.

    Example:
        >>> copy_data([[1, 2], [3, 4]]).dtype
        dtype('int64')
    """
    if isinstance(data, Tensor):
        return data.array.copy()
    if type(data).__module__.startswith("cupy"):
        return data.copy()
    return infer_numpy(data, float_dtype)


def infer_numpy(data, float_dtype=None) -> numpy.ndarray:
    """Python data (a number, nested list or NumPy array) -> a new NumPy array, with PyTorch's
    dtype inference (see :func:`copy_data`).

    Example:
        >>> infer_numpy([1.0, 2]).dtype, infer_numpy(True).dtype
        (dtype('float32'), dtype('bool'))
    """
    if isinstance(data, numpy.ndarray):
        return data.copy()
    if isinstance(data, numpy.generic):
        return numpy.asarray(data)
    if isinstance(data, bool):
        return numpy.asarray(data, dtype=numpy.bool_)
    if isinstance(data, numbers.Integral):
        return numpy.asarray(data, dtype=numpy.int64)
    floats = float_dtype or dtypes.get_default_dtype().numpy
    if isinstance(data, numbers.Real):
        return numpy.asarray(data, dtype=floats)
    if isinstance(data, (list, tuple)):
        array = numpy.asarray([_element(x) for x in data] if _has_tensors(data) else data)
        kind = array.dtype.kind
        if kind == "f":
            return array.astype(floats)
        if kind in "iu":
            return array.astype(numpy.int64)
        if kind == "b" or array.size == 0:
            return array if kind == "b" else array.astype(dtypes.get_default_dtype().numpy)
        raise TypeError(f"tensor(): could not infer a dtype from {type(data).__name__} data")
    raise TypeError(
        f"tensor(): expected a number, a nested list, a NumPy array or a Tensor, "
        f"got {type(data).__name__}"
    )


def _has_tensors(data) -> bool:
    return any(isinstance(x, (Tensor, list, tuple)) for x in data) and _any_tensor(data)


def _any_tensor(data) -> bool:
    for x in data:
        if isinstance(x, Tensor):
            return True
        if isinstance(x, (list, tuple)) and _any_tensor(x):
            return True
    return False


def _element(x):
    if isinstance(x, Tensor):
        return numpy.asarray(x)
    if isinstance(x, (list, tuple)):
        return [_element(v) for v in x]
    return x
