"""``ArrayFunction``: one differentiable op as a forward/backward pair over raw arrays.

This is the base of trainctl's own ops: the fast contract, on arrays. (The public
``tc.autograd.Function``, on tensors as in PyTorch, is built on it in ``function.py``.)
An op subclasses :class:`ArrayFunction` and writes two static methods on arrays of the array
module (numpy or cupy)::

    class Mul(ArrayFunction):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved
            return grad * b, grad * a

``Mul.apply(x, y)`` unwraps the tensors, runs ``forward`` and, when grad mode is on and some input
requires grad, records the call (``ctx``) as the new tensor's ``grad_fn``. ``backward`` returns one
gradient per input, in input order (``None`` where not needed, see ``ctx.needs_input_grad``) and
may return it in the broadcast shape: the engine un-broadcasts (:func:`sum_to`), casts and
accumulates, in one place, so each op stays tiny. Inputs that are not tensors (Python scalars) are
passed through to ``forward`` as constants. Keyword arguments are op parameters.
"""

from __future__ import annotations

import itertools
import numbers
import weakref

import numpy

from ..core import backend
from .grad_mode import STATE, no_grad
from .graph import Node
from .tensor import Tensor

_generic = numpy.generic
_new_tensor = object.__new__
# Creation order of graph nodes: a node's inputs always exist before it, so running nodes from
# the highest number down is a valid backward order (the engine needs no separate graph sort).
_next_seq = itertools.count(1).__next__


def sum_to(grad, shape: tuple):
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting.

    Example:
        >>> sum_to(numpy.ones((4, 3)), (1, 3))
        array([[4., 4., 4.]])
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if lead:
        grad = grad.reshape(shape)
    return grad


class ArrayFunction(Node):
    """Base class of differentiable ops; an instance is the ``ctx`` of one call (a graph node)."""

    # Class-level defaults keep node creation cheap: only what a call sets lands in its __dict__.
    inputs = None  # the input tensors (and constants), None once the graph is freed
    seq = 0  # creation number (see _next_seq), set when the node is recorded
    needs_input_grad = ()
    saved = ()
    saved_versions = ()  # (tensor, version) for inputs whose data was saved
    hooks = None  # gradient hooks registered on the output tensor
    retain = None  # weakref to the output tensor when it retains its grad

    def save_for_backward(self, *arrays) -> None:
        """Keep arrays for backward; an in-place change to a saved input is caught at backward."""
        self.saved = arrays

    @staticmethod
    def forward(ctx, *arrays, **params):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def name(cls) -> str:
        return cls.__name__ + "Backward"

    def install_hook_runner(self) -> None:
        self.backward = _backward_with_hooks  # on the instance: the op's class stays hook-free

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on tensors (or constants) and record it for backward when needed."""
        ctx = cls()
        datas = []
        needs = []
        state = STATE
        record = state.enabled
        for x in inputs:
            if isinstance(x, Tensor):
                datas.append(x.array)
                needs.append(record and x._requires_grad)
            else:
                datas.append(x)
                needs.append(False)
        if backend.cupy is not None:
            backend.check_same_device(datas, cls.__name__)
        ctx.needs_input_grad = needs
        out = cls.forward(ctx, *datas, **params)
        if type(out) is not numpy.ndarray and isinstance(out, _generic):
            out = numpy.asarray(out)  # NumPy returns scalars from 0-d ops; keep arrays
        result = _new_tensor(Tensor)  # Tensor._wrap(out), inlined: this runs for every op
        result.array = out
        result.grad = result.grad_fn = result._hooks = None
        result._requires_grad = False
        result._version = 0
        if True in needs and out.dtype.kind == "f":  # integer and bool results never need grad
            ctx.inputs = inputs
            ctx.seq = _next_seq()
            if ctx.saved:
                ctx.saved_versions = _saved_versions(ctx.saved, inputs, result)
            result.grad_fn = ctx
            result._requires_grad = True
        if state.tracer is not None:  # graph mode is tracing this call (see trace.py)
            state.tracer.record_op(cls, ctx, inputs, params, result)
        return result

    def free(self) -> None:
        """Drop what the node holds (saved arrays, inputs) after backward."""
        self.__dict__.clear()  # the class defaults (inputs = None...) show through


class Compute(ArrayFunction):
    """A function of arrays without a gradient (comparisons, argmax...), run as an op.

    Running it through ``apply`` costs a little more than wrapping the result by hand, but a
    graph (``trace.py``) then records it and computes it again at every replay, where a result
    wrapped by hand would be frozen at its trace-time value. Pass arrays, not tensors, so no
    gradient is recorded: :func:`compute` does.
    """

    @staticmethod
    def forward(ctx, *arrays, fn):
        return fn(*arrays)


def compute(fn, *args) -> Tensor:
    """``fn`` applied to the arrays of ``args`` (tensors or constants), as a tensor without
    gradient.

    Example:
        >>> import trainctl as tc
        >>> compute(numpy.greater, tc.tensor([1.0, -1.0]), 0.0)
        tensor([ True, False])
    """
    return Compute.apply(*[x.array if isinstance(x, Tensor) else x for x in args], fn=fn)


def _saved_versions(saved, inputs, result):
    """(tensor, version) for each input (or the output) whose array the op saved.

    backward compares them with the versions then, to catch in-place changes in between. The
    output is held by a weak reference, so the node does not keep its own output alive.
    """
    ids = set(map(id, saved))
    versions = []
    for x in inputs:
        if isinstance(x, Tensor) and id(x.array) in ids:
            versions.append((x, x._version))
    if id(result.array) in ids:
        versions.append((weakref.ref(result), 0))
    return versions


def _backward_with_hooks(node, grad):
    """An op's backward with its node hooks (``register_prehook``/``register_hook``) around it.

    The engine calls ``node.backward(node, grad)``; a node with hooks has this function as its
    own ``backward`` attribute, so neither the engine's loop nor the op classes check for hooks.
    Hooks see what PyTorch hands them: tensors, one gradient per edge in the input's shape.
    """
    prehooks = node.__dict__.get("_prehooks")
    if prehooks:
        grad_outputs = (Tensor._wrap(grad),)
        with no_grad():
            for hook in list(prehooks):
                result = hook(grad_outputs)
                if result is not None:
                    grad_outputs = tuple(result)
        grad = grad_outputs[0].array
    grads = type(node).backward(node, grad)
    posthooks = node.__dict__.get("_posthooks")
    if not posthooks:
        return grads
    if type(grads) is not tuple:
        grads = (grads,)
    inputs = node.inputs
    edges = [i for i, x in enumerate(inputs) if isinstance(x, (Tensor, numbers.Number))]
    grad_inputs = tuple(
        None if i >= len(grads) or grads[i] is None or not node.needs_input_grad[i]
        else Tensor._wrap(sum_to(grads[i], inputs[i].array.shape))
        for i in edges
    )
    with no_grad():
        for hook in list(posthooks):
            result = hook(grad_inputs, (Tensor._wrap(grad),))
            if result is not None:
                grad_inputs = tuple(result)
    out = [None] * len(inputs)
    for i, g in zip(edges, grad_inputs):
        # A view: the engine copies it before making it a leaf's .grad, as the hook may keep it.
        out[i] = None if g is None else g.array.view()
    return tuple(out)
