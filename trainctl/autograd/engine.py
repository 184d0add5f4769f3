"""The backward pass: reverse-mode differentiation over the recorded graph.

The graph is made of ``Function`` nodes (each tensor's ``grad_fn``) pointing at their input
tensors. :func:`run_backward` walks it from the outputs back, handing each node the sum of the
gradients that reached its output. Un-broadcasting, dtype casts and accumulation happen here,
once, for every op.

Fast path (the walk is most of an MLP step's framework overhead): every node carries its creation
number ``seq`` (``function._next_seq``), and a node's inputs are always created before it. So the
nodes run from a heap keyed by ``-seq``: the newest node found so far runs next, and by then
every node that consumes its output (all newer) has run and added its share. Nodes are found
while their consumers run, so one loop both discovers and runs the graph: no separate
topological sort, no recursion (a 10,000-op chain is fine), and only nodes that receive a
gradient are visited.
"""

from __future__ import annotations

import weakref
from heapq import heappop, heappush

import numpy

from ..core.backend import get_array_module
from .array_function import sum_to
from .grad_mode import STATE
from .tensor import Tensor

_SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or to use its saved values after they "
    "were freed). Pass retain_graph=True to the first backward() if you need to do this."
)


def _check_versions(node):
    for tensor, version in node.saved_versions:
        if type(tensor) is weakref.ref:  # the op's own output (see function._saved_versions)
            tensor = tensor()
            if tensor is None:
                continue
        if tensor._version != version:
            raise RuntimeError(
                f"one of the tensors needed for gradient computation has been modified by an "
                f"in-place operation: {node.name()} saved a tensor of shape {tuple(tensor.shape)} "
                f"at version {version}; it is now at version {tensor._version}. "
                "Use an out-of-place op, or .clone() the tensor before changing it."
            )


def _apply_hooks(hooks, grad, exposed):
    """Run gradient hooks; a returned tensor replaces the gradient.

    Arrays a hook has seen or returned are recorded in ``exposed``: user code may keep them, so
    they are copied before becoming (and later being accumulated into) a leaf's ``.grad``.
    """
    exposed.add(id(grad))
    for hook in hooks:
        result = hook(Tensor._wrap(grad))
        if result is not None:
            grad = result.array if isinstance(result, Tensor) else result
            exposed.add(id(grad))
    return grad


def run_backward(roots, root_grads, retain_graph: bool = False, capture=None):
    """Propagate ``root_grads`` from ``roots`` back through the graph.

    With ``capture`` (a list of tensors) the gradients w.r.t. those tensors are returned and no
    ``.grad`` is touched (``autograd.grad``); otherwise leaf gradients accumulate into ``.grad``.
    """
    node_grads = {}  # node found but not run yet -> gradient of its output so far
    ready = []  # heap of (-seq, node): see the module docstring
    leaf_grads = {}  # id(leaf) -> [leaf, gradient]
    exposed = set()  # ids of gradient arrays that user code (hooks) may hold
    for root, grad in zip(roots, root_grads):
        fn = root.grad_fn
        if fn is None:
            entry = leaf_grads.setdefault(id(root), [root, None])
            entry[1] = grad if entry[1] is None else entry[1] + grad
        elif fn in node_grads:
            node_grads[fn] = node_grads[fn] + grad
        else:
            node_grads[fn] = grad
            heappush(ready, (-fn.seq, id(fn), fn))

    captured = None
    if capture is not None:
        captured = {t.grad_fn: None for t in capture if t.grad_fn is not None}

    generic, ndarray = numpy.generic, numpy.ndarray
    while ready:
        node = heappop(ready)[2]
        grad = node_grads.pop(node)
        if node.inputs is None:
            raise RuntimeError(_SECOND_BACKWARD)
        if node.hooks or node.retain is not None or captured is not None:  # rare: one test
            grad = _observe(node, grad, captured, exposed)
        if node.saved_versions:
            _check_versions(node)
        in_grads = node.backward(node, grad)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        for x, need, g in zip(node.inputs, node.needs_input_grad, in_grads):
            if g is None or not need:
                continue
            if type(g) is not ndarray and isinstance(g, generic):
                g = numpy.asarray(g)
            data = x.array
            if g.shape != data.shape:
                g = sum_to(g, data.shape)
            if g.dtype is not data.dtype and g.dtype != data.dtype:
                g = g.astype(data.dtype)
            fn = x.grad_fn
            if fn is None:
                entry = leaf_grads.get(id(x))
                if entry is None:
                    leaf_grads[id(x)] = [x, g]
                else:
                    entry[1] = entry[1] + g
            elif fn in node_grads:
                node_grads[fn] = node_grads[fn] + g
            else:
                node_grads[fn] = g
                heappush(ready, (-fn.seq, id(fn), fn))
        if not retain_graph:
            node.free()

    if capture is not None:
        return _captured_grads(capture, captured, leaf_grads, exposed)

    for leaf, g in leaf_grads.values():
        if not leaf._requires_grad:
            continue
        if leaf._hooks:
            g = _apply_hooks(leaf._hooks, g, exposed)
        if leaf.grad is None:
            leaf.grad = Tensor._wrap(_own(g, exposed))
        else:
            leaf.grad.array += g
    return None


def _observe(node, grad, captured, exposed):
    """What may see a node's output gradient: hooks, ``autograd.grad`` or ``retain_grad``."""
    if node.hooks:
        grad = _apply_hooks(node.hooks, grad, exposed)
    if captured is not None:
        if node in captured:
            captured[node] = grad
    elif node.retain is not None:
        out = node.retain()
        if out is not None:
            out.grad = Tensor._wrap(grad.copy() if out.grad is None else out.grad.array + grad)
    return grad


def _own(g, claimed):
    """``g`` itself when nothing else may hold it, else a copy; then mark it as taken.

    One gradient array can reach two leaves (``a + b`` hands the same array to both), and a leaf's
    ``.grad`` is later updated in place, so no two leaves (nor a leaf and a hook) may share one.
    """
    flags = g.flags
    if not flags.owndata or not flags.writeable or id(g) in claimed:
        g = g.copy()
    claimed.add(id(g))
    return g


def _captured_grads(capture, captured, leaf_grads, exposed):
    """The gradients for ``autograd.grad``, one per captured tensor (None where unused)."""
    results = []
    for t in capture:
        if t.grad_fn is not None:
            g = captured.get(t.grad_fn)
        else:
            entry = leaf_grads.get(id(t))
            g = None if entry is None else entry[1]
            if g is not None and t._hooks:
                g = _apply_hooks(t._hooks, g, exposed)
        results.append(None if g is None else _own(g, exposed))
    return results


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulate the gradients of ``tensors`` (one or a sequence) into the leaves' ``.grad``.

    ``tensor.backward(g)`` calls this; ``tc.autograd.backward([loss1, loss2])`` back-propagates
    several outputs in one pass (their gradients add up).

    Example:
        >>> import trainctl as tc
        >>> x = tc.tensor([1.0, 2.0], requires_grad=True)
        >>> tc.autograd.backward([(x * x).sum(), x.sum()])
        >>> x.grad
        tensor([3., 5.])
    """
    _refuse_create_graph(create_graph)
    if isinstance(tensors, Tensor):
        tensors, grad_tensors = [tensors], [grad_tensors]
    else:
        tensors = list(tensors)
        if grad_tensors is None or isinstance(grad_tensors, Tensor):
            grad_tensors = [grad_tensors] * len(tensors) if grad_tensors is None else [grad_tensors]
    if STATE.tracer is not None:  # graph mode records the walk (trace.py)
        STATE.tracer.record_backward(tensors, grad_tensors, bool(retain_graph))
        return
    grads = _root_grads(tensors, grad_tensors, "backward(gradient=...) of that shape")
    run_backward(tensors, grads, retain_graph=bool(retain_graph))


def _refuse_create_graph(create_graph: bool) -> None:
    if create_graph:
        raise NotImplementedError(
            "create_graph=True (higher-order gradients) is not supported by trainctl's engine"
        )


def _root_grads(roots, gradients, hint: str) -> list:
    """The seed gradients of a backward pass from ``roots``, one array per root.

    ``backward()`` and ``autograd.grad()`` both start here. A root must require grad. A given
    gradient is copied, cast to the root's dtype and must have its shape; None stands for an
    implicit 1, which only a one-element root (a loss) can have: ``hint`` says what to pass
    instead.
    """
    grads = []
    for i, (root, gradient) in enumerate(zip(roots, gradients)):
        if not root._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        data = root.array
        if gradient is None:
            if data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; this tensor has "
                    f"shape {tuple(data.shape)}: pass {hint}"
                )
            grads.append(_ones_like(data))
        else:
            grad = gradient.array if isinstance(gradient, Tensor) else gradient
            grads.append(_as_grad_array(grad, data))
    return grads


def _ones_like(data):
    """Ones shaped like ``data``, which has one element (the implicit gradient of a loss)."""
    one = get_array_module(data).array(1, dtype=data.dtype)  # much cheaper than numpy.ones
    return one if data.ndim == 0 else one.reshape(data.shape)


def _as_grad_array(grad, like):
    xp = get_array_module(like)
    grad = xp.array(grad, dtype=like.dtype, copy=True)
    if grad.shape != like.shape:
        raise RuntimeError(
            f"backward: gradient has shape {tuple(grad.shape)} but the tensor has shape "
            f"{tuple(like.shape)}"
        )
    return grad


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph: bool = False,
    allow_unused: bool = False,
):
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned as a tuple; ``.grad`` is untouched.

    Example:
        >>> import trainctl as tc
        >>> x = tc.tensor([1.0, 2.0], requires_grad=True)
        >>> tc.autograd.grad((x * x).sum(), x)
        (tensor([2., 4.]),)
    """
    _refuse_create_graph(create_graph)
    if STATE.tracer is not None:
        STATE.tracer.refuse("tc.autograd.grad()", "call loss.backward() inside the step")
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    root_grads = _root_grads(outputs, grad_outputs, "a gradient of that shape in grad_outputs")
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = run_backward(outputs, root_grads, retain_graph=bool(retain_graph), capture=inputs)
    results = []
    for g in grads:
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
            results.append(None)
        else:
            results.append(Tensor._wrap(g))
    return tuple(results)
