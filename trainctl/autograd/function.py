"""``tc.autograd.Function``: custom differentiable functions on tensors, written as in PyTorch.

A subclass writes ``forward`` and ``backward`` as static methods that receive and return tensors;
``ctx`` carries what backward needs::

    class MyReLU(tc.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    y = MyReLU.apply(x)

As in PyTorch: ``forward`` runs with grad mode off; ``apply`` records one graph node (the
``ctx``, an instance of the generated class ``MyReLUBackward``) when grad mode is on and some
tensor input requires grad; ``backward`` runs with grad mode off and returns one gradient per
``forward`` argument (``None`` for arguments that are not tensors or need none; extra trailing
``None``\\ s are allowed). Also supported: ``ctx.needs_input_grad``, ``mark_non_differentiable``,
``set_materialize_grads``, ``mark_dirty``, several outputs, keyword and non-tensor arguments,
the ``setup_context`` style and :func:`once_differentiable`.

The node is built on :class:`~trainctl.autograd.array_function.ArrayFunction`, the array-level
base of trainctl's own ops, so the engine runs it like any op: this module only translates
between tensors and arrays at the two ends.
"""

from __future__ import annotations

import functools
import inspect
import warnings
import weakref

from ..core.backend import get_array_module
from .array_function import ArrayFunction, _next_seq
from .grad_mode import STATE, no_grad
from .tensor import RemovableHandle, Tensor

__all__ = ["Function", "FunctionCtx", "InplaceFunction", "once_differentiable"]

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)


class FunctionCtx:
    """The ``ctx`` methods ``forward`` (or ``setup_context``) and ``backward`` use."""

    materialize_grads = True

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (or None) for ``backward``, where ``ctx.saved_tensors`` returns them.

        Changing a saved tensor in place before backward is an error at backward.
        """
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save tensors (or None), but argument {i} is "
                    f"of type {type(t).__name__}; keep other values as attributes of ctx"
                )
        self.to_save = tensors

    def mark_dirty(self, *tensors) -> None:
        """Declare inputs that ``forward`` changed in place (and returns as outputs)."""
        self.dirty_tensors = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """Declare outputs that do not require grad (their gradient in backward is zeros)."""
        self.non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """``False``: backward receives ``None`` instead of zeros for outputs that got no
        gradient."""
        self.materialize_grads = bool(value)


class BackwardFunction(FunctionCtx, ArrayFunction):
    """The graph node (and ``ctx``) of one call of a custom Function.

    ``MyFn.apply`` instantiates ``MyFnBackward``, the subclass generated for ``MyFn``.
    """

    _forward_cls = None
    to_save = None  # what save_for_backward got, until apply stores it in _saved
    _saved = None
    _freed = False

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__qualname__} object at {hex(id(self))}>"

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``, in order."""
        if self._freed:
            raise RuntimeError(_FREED)
        if self._saved is None:  # during forward or setup_context
            return tuple(self.to_save or ())
        return tuple(x if x is None or isinstance(x, Tensor) else Tensor._wrap(x)
                     for x in self._saved)

    @property
    def saved_variables(self) -> tuple:
        warnings.warn("'saved_variables' is deprecated; use 'saved_tensors'",
                      DeprecationWarning, stacklevel=2)
        return self.saved_tensors

    def edge_inputs(self) -> list:
        # PyTorch's custom Functions have edges for tensor arguments only.
        return [x for x in super().edge_inputs() if isinstance(x, Tensor)]

    def install_hook_runner(self) -> None:
        pass  # the backward below runs the hooks itself

    def free(self) -> None:
        self.__dict__.clear()
        self._freed = True

    @staticmethod
    def backward(ctx, grad):
        """The engine's entry: arrays in, the user's backward on tensors, arrays out."""
        grad_outputs = _grad_outputs(ctx, grad)
        prehooks = ctx.__dict__.get("_prehooks")
        posthooks = ctx.__dict__.get("_posthooks")
        forward_cls = ctx._forward_cls
        with no_grad():
            for hook in list(prehooks or ()):
                result = hook(grad_outputs)
                if result is not None:
                    grad_outputs = tuple(result)
            result = forward_cls.vjp(ctx, *grad_outputs)
            grads = _check_grads(ctx, result)
            if posthooks:
                grads = _run_posthooks(ctx, grads, grad_outputs, posthooks)
        # Views: the engine copies a gradient before making it a leaf's .grad, and user code
        # may still hold these arrays (a saved tensor returned as a gradient, say).
        return tuple(None if g is None else g.array.view() for g in grads)


class _OutputSlot(ArrayFunction):
    """The ``grad_fn`` of output ``index`` of a custom Function with several differentiable
    outputs: it files the gradient under that index for the Function's node, which runs once
    with all of them. It answers ``name()``, ``next_functions``, hooks and ``metadata`` for
    that node, which is what a user of ``out.grad_fn`` means."""

    def name(self) -> str:
        return self.node.name()

    def __repr__(self) -> str:
        return repr(self.node)

    def edge(self) -> tuple:
        return (self.node, self.index)

    @property
    def next_functions(self) -> tuple:
        return self.node.next_functions

    @property
    def metadata(self) -> dict:
        return self.node.metadata

    def register_hook(self, hook) -> RemovableHandle:
        return self.node.register_hook(hook)

    def register_prehook(self, hook) -> RemovableHandle:
        return self.node.register_prehook(hook)

    def free(self) -> None:
        self.inputs = None  # node and index stay: the output may still be printed

    @staticmethod
    def backward(slot, grad):
        grads = [None] * slot.count
        grads[slot.index] = grad
        return _Grads(grads)


class _Grads:
    """Gradients of a multi-output node's outputs, by output index, as they accumulate.

    The engine adds up and hands over whatever a node's output gradient is; it only asks for
    ``shape`` and ``dtype`` (to un-broadcast and cast), which match the placeholder ``array``
    of the tensor that links the slots to the node, so nothing is reshaped or cast.
    """

    __slots__ = ("slots",)
    shape = ()
    dtype = None

    def __init__(self, slots):
        self.slots = slots

    def __add__(self, other: _Grads) -> _Grads:
        return _Grads([b if a is None else a if b is None else a + b
                       for a, b in zip(self.slots, other.slots)])


class Function:
    """Base class of custom differentiable functions; subclass it and call ``MyFn.apply(...)``.

    Example:
        >>> import trainctl as tc
        >>> class Exp(tc.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, i):
        ...         result = i.exp()
        ...         ctx.save_for_backward(result)
        ...         return result
        ...
        ...     @staticmethod
        ...     def backward(ctx, grad_output):
        ...         result, = ctx.saved_tensors
        ...         return grad_output * result
        >>> x = tc.zeros(2, requires_grad=True)
        >>> Exp.apply(x).sum().backward()
        >>> x.grad
        tensor([1., 1.])
    """

    _backward_cls = BackwardFunction

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("trainctl.") and cls.__module__ != __name__:
            raise TypeError(
                f"{cls.__qualname__}: trainctl's own ops subclass "
                "trainctl.autograd.array_function.ArrayFunction (forward/backward on arrays); "
                "trainctl.autograd.function.Function is the public base, on tensors"
            )
        name = cls.__name__ + "Backward"
        cls._backward_cls = type(name, (BackwardFunction,), {
            "_forward_cls": cls, "__module__": __name__, "__qualname__": name,
        })

    def __init__(self, *args, **kwargs):
        warnings.warn(
            f"{self.__class__} should not be instantiated. Methods on autograd functions are all "
            "static, so you should invoke them on the class itself.",
            DeprecationWarning, stacklevel=2,
        )

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is not supported: make "
            "forward and backward @staticmethods and call MyFunction.apply(...)"
        )

    @staticmethod
    def forward(*args, **kwargs):
        """``forward(ctx, *args)`` (or ``forward(*args)`` with ``setup_context``): tensors in,
        a tensor or a tuple out. Runs with grad mode off."""
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx, inputs: tuple, output) -> None:
        """Optional: fill ``ctx`` from ``inputs`` and ``output`` (then ``forward`` takes no
        ``ctx``)."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """One gradient per output in, one per ``forward`` argument out (tensors or None)."""
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    @staticmethod
    def vjp(ctx, *grad_outputs):
        """Another name for ``backward``: the one a subclass defines is used."""
        return ctx._forward_cls.backward(ctx, *grad_outputs)

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on ``args`` and record the call for backward when needed."""
        if STATE.tracer is not None:  # its backward runs tensor code a graph cannot record
            STATE.tracer.refuse(f"the custom autograd.Function {cls.__name__}",
                                "write it as an ArrayFunction (docs/autograd.md) to use it there")
        separate = cls.setup_context is not Function.setup_context
        if separate:
            # As PyTorch: setup_context sees every argument, defaults included, as inputs.
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, bound.kwargs
        ctx = cls._backward_cls()
        record = STATE.enabled
        needs = tuple(record and isinstance(x, Tensor) and x._requires_grad for x in args)
        ctx.needs_input_grad = needs
        with no_grad():
            if separate:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        return _attach(ctx, args, output, True in needs)


class InplaceFunction(Function):
    """Kept for old code, as in PyTorch: a Function with an ``inplace`` flag."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace


def once_differentiable(fn):
    """Decorate ``backward`` to say it cannot itself be differentiated: it runs with grad off.

    trainctl never differentiates a backward (``create_graph=True`` is refused), so this only
    documents the intent and keeps PyTorch code running.
    """

    @functools.wraps(fn)
    def wrapper(ctx, *args, **kwargs):
        with no_grad():
            return fn(ctx, *args, **kwargs)

    return wrapper


# ----------------------------------------------------------------- apply: outputs into the graph


def _is_in(x, items) -> bool:
    return any(x is item for item in items)


def _attach(ctx, args, output, differentiable: bool):
    """Give ``forward``'s outputs their history (``ctx``) and keep what backward needs."""
    single = not isinstance(output, tuple)
    outputs = [output] if single else list(output)
    state = ctx.__dict__
    dirty = state.pop("dirty_tensors", ())
    non_diff = state.pop("non_differentiable", ())
    inputs = list(args)
    for t in dirty:
        _mark_dirty(t, inputs, outputs, differentiable)

    wanted = []  # indices of the outputs that get ctx as their history
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            continue
        if not _is_in(out, dirty) and (_is_in(out, args) or out.grad_fn is not None
                                       or out._requires_grad):
            # An input (or a tensor with its own history) returned as is: the output is a new
            # tensor sharing its data, so the input's history stays as it was (PyTorch: a view).
            outputs[i] = Tensor._wrap(out.array)
        if differentiable and out.array.dtype.kind == "f" and not _is_in(out, non_diff):
            wanted.append(i)
    if wanted:
        _record(ctx, inputs, outputs, wanted)
    return outputs[0] if single else tuple(outputs)


def _mark_dirty(t, inputs, outputs, differentiable: bool) -> None:
    """An input changed in place by forward: it becomes the output, its old history an input."""
    if not _is_in(t, outputs):
        raise RuntimeError(
            "Some elements marked as dirty during the forward method were not returned as "
            "output. The inputs that are modified inplace must all be outputs of the Function."
        )
    if differentiable and t.grad_fn is None and t._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                           "operation.")
    t._version += 1
    if differentiable:
        old = Tensor._wrap(t.array, t._requires_grad)
        old.grad_fn = t.grad_fn
        for i, x in enumerate(inputs):
            if x is t:
                inputs[i] = old


def _record(ctx, inputs, outputs, wanted) -> None:
    ctx.inputs = tuple(inputs)
    ctx.seq = _next_seq()
    ctx.outputs_meta = [
        (out.array.shape, out.array.dtype, get_array_module(out.array))
        if isinstance(out, Tensor) else None
        for out in outputs
    ]
    if len(wanted) == 1:
        ctx.grad_index = wanted[0]
        out = outputs[wanted[0]]
        out.grad_fn = ctx
        out._requires_grad = True
    else:
        # Several outputs need gradients, and the engine sends one per node: each output gets
        # a slot node, and the slots feed the Function's node through one linking tensor.
        link = Tensor._wrap(_Grads(()), requires_grad=True)
        link.grad_fn = ctx
        for i in wanted:
            slot = _OutputSlot()
            slot.inputs, slot.needs_input_grad, slot.seq = (link,), (True,), _next_seq()
            slot.node, slot.index, slot.count = ctx, i, len(outputs)
            outputs[i].grad_fn = slot
            outputs[i]._requires_grad = True
    to_save = ctx.__dict__.pop("to_save", None)
    if to_save:
        ctx._saved, ctx.saved_versions = _saved(to_save, outputs)


def _saved(to_save, outputs):
    """What ``saved_tensors`` returns, and the versions backward checks them against.

    An output is kept as its array (and watched through a weak reference), so the node does not
    keep its own output alive; inputs and other tensors are kept as they are.
    """
    saved, versions = [], []
    for t in to_save:
        if t is None:
            saved.append(None)
        elif _is_in(t, outputs):
            saved.append(t.array)
            versions.append((weakref.ref(t), t._version))
        else:
            saved.append(t)
            versions.append((t, t._version))
    return saved, versions


# ----------------------------------------------------------------- backward: checks and hooks


def _grad_outputs(ctx, grad) -> tuple:
    """The gradients ``backward`` receives, one per output: zeros (or None, with
    ``set_materialize_grads(False)``) for outputs that got none, None for non-tensors."""
    meta = ctx.outputs_meta
    if type(grad) is _Grads:
        arrays = grad.slots
    else:
        arrays = [None] * len(meta)
        arrays[ctx.grad_index] = grad
    grads = []
    for m, g in zip(meta, arrays):
        if g is not None:
            grads.append(Tensor._wrap(g))
        elif m is None or not ctx.materialize_grads:
            grads.append(None)
        else:
            shape, dtype, xp = m
            grads.append(Tensor._wrap(xp.zeros(shape, dtype)))
    return tuple(grads)


def _check_grads(ctx, result) -> list:
    """``backward``'s result as one Tensor or None per input, or PyTorch's error for misuse."""
    name = ctx.name()
    inputs = ctx.inputs
    grads = list(result) if isinstance(result, tuple) else [result]
    if len(grads) > len(inputs) and all(g is None for g in grads[len(inputs):]):
        grads = grads[:len(inputs)]
    if len(grads) != len(inputs):
        raise RuntimeError(
            f"function {name} returned an incorrect number of gradients (expected "
            f"{len(inputs)}, got {len(grads)}): backward returns one per forward argument, "
            "None for those that need none"
        )
    for i, (x, g) in enumerate(zip(inputs, grads)):
        if g is None:
            continue
        if not isinstance(x, Tensor):
            raise RuntimeError(
                f"function {name} returned a gradient different than None at position {i + 1}, "
                f"but the corresponding forward input was not a Tensor"
            )
        if not isinstance(g, Tensor):
            raise RuntimeError(
                f"function {name} returned a {type(g).__name__} as gradient at position "
                f"{i + 1}; expected a Tensor or None"
            )
        if g.array.shape != x.array.shape and not _reducible(g.array.shape, x.array.shape):
            raise RuntimeError(
                f"Function {name} returned an invalid gradient at index {i} - got "
                f"{list(g.array.shape)} but expected shape compatible with {list(x.array.shape)}"
            )
    return grads


def _reducible(grad_shape: tuple, shape: tuple) -> bool:
    """Whether ``shape`` broadcasts to ``grad_shape`` (so the engine can sum the grad down)."""
    if len(shape) > len(grad_shape):
        return False
    tail = grad_shape[len(grad_shape) - len(shape):]
    return all(s == g or s == 1 for s, g in zip(shape, tail))


def _run_posthooks(ctx, grads, grad_outputs, hooks) -> list:
    """``hook(grad_inputs, grad_outputs)``: grad_inputs has one entry per tensor argument."""
    edges = [i for i, x in enumerate(ctx.inputs) if isinstance(x, Tensor)]
    grad_inputs = tuple(grads[i] for i in edges)
    for hook in list(hooks):
        result = hook(grad_inputs, grad_outputs)
        if result is not None:
            grad_inputs = tuple(result)
    grads = [None] * len(ctx.inputs)
    for i, g in zip(edges, grad_inputs):
        grads[i] = g
    return grads
