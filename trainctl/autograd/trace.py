"""Graph mode's recorder: trace one call of a step, then replay it as straight-line array code.

While :func:`trace` runs a function, every op call (``ArrayFunction.apply``), the backward walk
and every Python-level step marked with :func:`graph_step` (an optimizer's ``step`` and
``zero_grad``, a scheduler's ``step``, gradient clipping) is written down as one line of a Python
function over raw arrays::

    s2 = Linear_f3(c4, s0, e1.array, None)
    s3 = Pointwise_f5(c6, s2, s1, weight=None, reduction='sum', kind='mse')
    g7 = k8.copy()
    b9 = Pointwise_b10(c6, g7)
    ...
    r20 = step21(k19)

Calling that function (:class:`Plan`) runs the same array operations in the same order as eager
mode, so its numbers are bit-identical, without creating Tensors, graph nodes or a heap walk per
op. An op's ``forward`` re-saves what its ``backward`` needs on the same ``ctx`` object each
replay.

Where a value comes from decides how the replay gets it:

- an input of the traced call or the output of a recorded op: a local variable (``s3``);
- any other tensor (parameters, buffers, optimizer state, constants made before the call): read
  through the tensor at replay (``e1.array``), so in-place updates, ``p.data = ...`` and edited
  ``param_groups`` are seen (hyperparameters are read by the optimizer when its step runs);
- Python values: constants of the trace.

A value that would be silently frozen at its trace-time number is refused while tracing, with the
user's ``file:line``: reading a tensor into Python (``.item()``, ``bool(t)``, ``.numpy()``),
data-dependent shapes (``nonzero``, boolean masks), in-place changes inside the step, random
numbers drawn outside an op, and tensors computed outside recorded ops from graph values.
"""

from __future__ import annotations

import functools
import math
import os
import re
import sys
from collections.abc import Iterator
from heapq import heappop, heappush

import numpy

from ..core import random as core_random
from ..core.errors import TrainctlError
from . import engine
from .array_function import sum_to
from .grad_mode import STATE
from .tensor import Tensor

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_LITERALS = (int, bool, str, type(None))


class GraphTraceError(TrainctlError, RuntimeError):
    """Something in a traced step cannot be replayed from a graph (the message names the line)."""


def user_location() -> str:
    """``file:line`` of the innermost caller outside trainctl, for messages about the user's
    code; the innermost library line outside the graph machinery (a layer's ``forward``) when
    there is none, or when trainctl's own Trainer made the step (``train.graph``: the user
    wrote a config, not the step, and the line past it would be the command line's)."""
    frame = sys._getframe(1)
    fallback = None
    while frame is not None:
        path = frame.f_code.co_filename
        if not path.startswith(_PACKAGE):
            return f"{_short(path)}:{frame.f_lineno}"
        if fallback is None and not path.startswith(_PACKAGE + "autograd"):
            fallback = f"{_short(path)}:{frame.f_lineno} ({frame.f_code.co_name})"
        if fallback is not None and path.startswith(_PACKAGE + "training" + os.sep):
            return fallback
        frame = frame.f_back
    return fallback or "<unknown>"


def _short(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if rel.startswith("..") else rel


def graph_step(fn):
    """Mark a Python-level step (optimizer, scheduler, clipping) to be called again at replay.

    Such a step works on arrays in place and reads its hyperparameters when it runs, so a graph
    replays it by calling it, not by recording what it did. Outside a trace the check costs one
    attribute read.

    Example:
        >>> @graph_step
        ... def bump(counter):
        ...     counter.array += 1
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        tracer = STATE.tracer
        if tracer is None:
            return fn(*args, **kwargs)
        return tracer.record_call(fn, args, kwargs)

    return wrapper


def refuse_in_graph(what: str) -> None:
    """Refuse ``what`` when a graph is being traced in this thread (else do nothing).

    Example:
        >>> refuse_in_graph("nonzero()")  # outside a trace: nothing happens
    """
    tracer = STATE.tracer
    if tracer is not None:
        tracer.refuse(what, "a graph has fixed shapes; keep it outside the traced step")


def _scalar(a):
    """NumPy hands back scalars from 0-d operations; ops keep arrays (as ``apply`` does)."""
    if type(a) is not numpy.ndarray and isinstance(a, numpy.generic):
        return numpy.asarray(a)
    return a


def _accumulate(leaf: Tensor, g, claimed: set) -> None:
    """A leaf's gradient, as the engine's last loop stores it (see ``engine.run_backward``)."""
    if leaf.grad is None:
        leaf.grad = Tensor._wrap(engine._own(g, claimed))
    else:
        leaf.grad.array += g


def _is_array(x) -> bool:
    """A NumPy, CuPy or meta array (not a NumPy scalar, which is a plain constant)."""
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, numpy.generic)


def _draw_guard() -> None:
    """Refuse a random draw made outside an op while tracing: its numbers would be frozen."""
    tracer = STATE.tracer
    if tracer is None:
        return
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "forward" and code.co_varnames[:1] == ("ctx",):
            return  # inside an op: the replay draws again, from the same stream
        frame = frame.f_back
    tracer.refuse("a random draw outside an op (tc.rand, tc.randn, ...)",
                  "make the random tensor outside the step and pass it in")


class Tracer:
    """Records one call; :meth:`finish` turns the record into a :class:`Plan`.

    ``strict``: a refusal raises :class:`GraphTraceError`; otherwise the call goes on eagerly,
    untraced, and ``failed`` holds the reason.
    """

    def __init__(self, strict: bool = True):
        self.strict = strict
        self.failed = None
        self.lines = []
        self.ns = {"T": Tensor._wrap, "scalar": _scalar, "asarray": numpy.asarray,
                   "sum_to": sum_to, "ndarray": numpy.ndarray,
                   "own": engine._own, "as_grad": engine._as_grad_array,
                   "hooks": engine._apply_hooks}
        self.slots = {}  # id(array) -> local variable of the replay
        self.keep = []  # every traced array stays alive, so no id is reused during the trace
        self.names = {}  # id(object) -> its name in the replay's namespace
        self.loose = {}  # id(array) -> where a tensor was made outside recorded ops
        self.externals = {}  # id(tensor) -> tensor read by reference at replay
        self.read_at = {}  # id(external tensor) -> the user's line that first read it
        self.inputs = {}  # id(input tensor) -> parameter name
        self.params = []
        self.ops = []  # what each line does, for repr and debug
        self.ctxs = []  # (ctx, needs_input_grad) of every recorded op
        self.modules = {}  # id -> nn.Module called during the trace (their train/eval mode)
        self.backward_calls = 0
        self.count = 0

    # ------------------------------------------------------------------ names
    def var(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def name(self, obj, prefix: str) -> str:
        """A name for ``obj`` in the replay's namespace (which keeps it alive)."""
        key = id(obj)
        name = self.names.get(key)
        if name is None:
            name = self.names[key] = self.var(re.sub(r"\W", "_", prefix))
            self.ns[name] = obj
        return name

    def slot(self, array) -> str:
        var = self.slots[id(array)] = self.var("s")
        self.keep.append(array)
        return var

    def add_input(self, tensor: Tensor) -> None:
        name = f"i{len(self.params)}"
        self.params.append(name)
        self.inputs[id(tensor)] = name
        if id(tensor.array) not in self.slots:
            self.lines.append(f"{self.slot(tensor.array)} = {name}.array")

    def literal(self, x):
        """Source text of a plain Python value, or None when it must be a named constant."""
        if type(x) in _LITERALS:
            return repr(x)
        if type(x) is float and math.isfinite(x):
            return repr(x)
        return None

    # ------------------------------------------------------------------ values
    def expr(self, x, unwrap: bool = True) -> str:
        """How the replay reads ``x``: an op's input (a tensor as its array) or, with
        ``unwrap=False``, an op's parameter (a tensor passed as the tensor, as ``apply`` does)."""
        text = self.literal(x)
        if text is not None:
            return text
        if isinstance(x, Tensor):
            var = self.slots.get(id(x.array))
            if var is not None:
                return var if unwrap else f"T({var})"
            self.check_loose(x.array)
            if id(x) not in self.externals:
                self.externals[id(x)] = x
                self.read_at[id(x)] = user_location()
            name = self.name(x, "e")
            return f"{name}.array" if unwrap else name
        var = self.slots.get(id(x))  # a raw array of the graph (slot arrays stay alive)
        if var is not None:
            return var
        if _is_array(x):
            self.check_loose(x)
            return self.name(x, "k")
        if isinstance(x, (tuple, list)) and any(self.dynamic(v) for v in x):
            items = ", ".join(self.expr(v, unwrap) for v in x)
            return f"({items},)" if isinstance(x, tuple) else f"[{items}]"
        return self.name(x, "k")

    def dynamic(self, x) -> bool:
        """Whether ``x`` must be read at replay rather than kept as a constant."""
        if isinstance(x, Tensor) or id(x) in self.slots or id(x) in self.loose:
            return True
        if isinstance(x, (tuple, list)):
            return any(self.dynamic(v) for v in x)
        return False

    def check_loose(self, array) -> None:
        """Refuse an array computed from graph values by Python code instead of a recorded op:
        the replay would use its trace-time numbers."""
        where = self.loose.get(id(array))
        base = getattr(array, "base", None)
        while where is None and base is not None:
            if id(base) in self.slots:
                where = "a view of a graph value taken outside an op"
            else:
                where = self.loose.get(id(base))
            base = getattr(base, "base", None)
        if where is not None:
            self.refuse(f"a tensor computed outside trainctl's recorded ops ({where})",
                        "its value would be frozen at trace time; compute it with tensor ops")

    def wrapped(self, array) -> None:
        """``Tensor._wrap`` made a tensor during the trace: note it unless it is a graph value."""
        key = id(array)
        if key in self.slots or key in self.loose:
            return
        maker = sys._getframe(2).f_code.co_name
        self.loose[key] = f"made by {maker}() at {user_location()}"
        self.keep.append(array)

    # ------------------------------------------------------------------ refusals
    def refuse(self, what: str, hint: str = "") -> None:
        message = f"{user_location()}: {what} cannot be traced into a graph"
        if hint:
            message += f": {hint}"
        if self.strict:
            raise GraphTraceError(message)
        if self.failed is None:
            self.failed = message
        STATE.tracer = None  # the rest of this call runs eagerly, untraced

    # ------------------------------------------------------------------ recording
    def record_op(self, cls, ctx, inputs, params, result: Tensor) -> None:
        """One ``ArrayFunction.apply`` call (already run) as one line of the replay."""
        args = [self.expr(x) for x in inputs]
        args += [f"{k}={self.expr(v, unwrap=False)}" for k, v in params.items()]
        if self.failed:
            return
        fwd = self.name(cls.forward, f"{cls.__name__}_f")
        var = self.slot(result.array)
        self.lines.append(f"{var} = {fwd}({self.name(ctx, 'c')}, {', '.join(args)})")
        if result.array.ndim == 0:  # a 0-d result may come back as a NumPy scalar
            if type(result.array) is numpy.ndarray:  # asarray keeps an array as it is
                self.lines.append(f"{var} = asarray({var})")
            else:
                self.lines.append(f"if type({var}) is not ndarray: {var} = scalar({var})")
        self.ctxs.append((ctx, ctx.needs_input_grad))
        self.ops.append(cls.__name__)

    def record_call(self, fn, args, kwargs):
        """Run a :func:`graph_step` now, untraced, and write a call to it into the replay."""
        args = tuple(list(a) if isinstance(a, Iterator) else a for a in args)  # generators
        texts = [self.expr(a, unwrap=False) for a in args]
        texts += [f"{k}={self.expr(v, unwrap=False)}" for k, v in kwargs.items()]
        STATE.tracer = None
        try:
            out = fn(*args, **kwargs)
        finally:
            STATE.tracer = self
        if self.failed:
            return out
        result = self.var("r")
        self.lines.append(f"{result} = {self.name(fn, fn.__name__)}({', '.join(texts)})")
        if isinstance(out, Tensor):
            self.lines.append(f"{self.slot(out.array)} = {result}.array")
        self.ops.append(f"{fn.__qualname__}()")
        return out

    def record_backward(self, roots, gradients, retain_graph: bool) -> None:
        """``backward()`` while tracing: run the engine's walk and write each step down.

        The walk is ``engine.run_backward``'s, step for step (same order of nodes, of sums, of
        casts), so the replay adds the same arrays in the same order as eager mode.
        """
        self.ops.append("backward")
        self.backward_calls += 1
        node_grads = {}  # node -> [gradient so far, its variable]
        ready = []
        leaf_grads = {}  # id(leaf) -> [leaf, gradient, its variable]
        for root, gradient in zip(roots, gradients):
            grad = engine._root_grads([root], [gradient], "backward(gradient=...) of that shape")[0]
            var = self.var("g")
            source = gradient.array if isinstance(gradient, Tensor) else gradient
            if _is_array(source) and id(source) in self.slots:
                self.lines.append(f"{var} = as_grad({self.slots[id(source)]}, {self.expr(root)})")
            else:
                self.lines.append(f"{var} = {self.name(grad.copy(), 'k')}.copy()")
            self._add(root, grad, var, node_grads, ready, leaf_grads)

        while ready:
            node = heappop(ready)[2]
            grad, gvar = node_grads.pop(node)
            if node.inputs is None:
                raise RuntimeError(engine._SECOND_BACKWARD)
            if node.hooks or node.retain is not None or "backward" in node.__dict__:
                self.strict = True  # half of a backward cannot be re-run eagerly
                self.refuse("a gradient hook or retain_grad() on a tensor inside the step")
            if node.saved_versions:
                engine._check_versions(node)
            cls = type(node)
            in_grads = cls.backward(node, grad)
            out = self.var("b")
            bwd = self.name(cls.backward, f"{cls.__name__}_b")
            self.lines.append(f"{out} = {bwd}({self.name(node, 'c')}, {gvar})")
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
                self.lines.append(f"{out} = ({out},)")
            for i, (x, need, g) in enumerate(zip(node.inputs, node.needs_input_grad, in_grads)):
                if g is None or not need:
                    continue
                var = self.var("g")
                self.lines.append(f"{var} = {out}[{i}]")
                if type(g) is not numpy.ndarray and isinstance(g, numpy.generic):
                    g = numpy.asarray(g)
                    self.lines.append(f"{var} = scalar({var})")
                data = x.array
                if g.shape != data.shape:
                    g = sum_to(g, data.shape)
                    self.lines.append(f"{var} = sum_to({var}, {tuple(data.shape)!r})")
                if g.dtype is not data.dtype and g.dtype != data.dtype:
                    g = g.astype(data.dtype)
                    self.lines.append(f"{var} = {var}.astype({self.name(data.dtype, 'dtype')})")
                self._add(x, g, var, node_grads, ready, leaf_grads)
            if not retain_graph:
                node.free()

        leaves = [entry for entry in leaf_grads.values() if entry[0]._requires_grad]
        # engine._own copies a gradient that is a view, read-only, or already some other leaf's
        # (or a hook's). When no two leaves get the same array and no leaf has hooks, only the
        # array's flags decide, and they are the same at every replay: decide now.
        shared = (any(leaf._hooks for leaf, _, _ in leaves)
                  or len({id(g) for _, g, _ in leaves}) < len(leaves))
        if shared:
            self.lines.append("claimed = set()")
        claimed = set()
        for leaf, g, var in leaves:
            name = self.inputs.get(id(leaf))
            if name is None:
                self.externals[id(leaf)] = leaf
                name = self.name(leaf, "e")
            if leaf._hooks:
                g = engine._apply_hooks(leaf._hooks, g, claimed)
                self.lines.append(f"{var} = hooks({name}._hooks, {var}, claimed)")
            if shared:
                owned = f"own({var}, claimed)"
            else:
                owned = var if g.flags.owndata and g.flags.writeable else f"{var}.copy()"
            _accumulate(leaf, g, claimed)
            self.lines += [f"if {name}.grad is None: {name}.grad = T({owned})",
                           f"else: {name}.grad.array += {var}"]  # _accumulate, inlined

    def _add(self, x, g, var, node_grads, ready, leaf_grads) -> None:
        """Add gradient ``g`` (variable ``var``) to what reached ``x``, as the engine does."""
        fn = x.grad_fn
        if fn is None:
            entry = leaf_grads.get(id(x))
            if entry is None:
                leaf_grads[id(x)] = [x, g, var]
                return
        elif fn in node_grads:
            entry = node_grads[fn]
        else:
            node_grads[fn] = [g, var]
            heappush(ready, (-fn.seq, id(fn), fn))
            return
        entry[-2] = entry[-2] + g
        self.lines.append(f"{entry[-1]} = {entry[-1]} + {var}")

    # ------------------------------------------------------------------ the plan
    def output_expr(self, out) -> str:
        text = self.literal(out)
        if text is not None:
            return text
        if isinstance(out, Tensor):
            var = self.slots.get(id(out.array))
            if var is not None:
                return f"T({var})"
            self.check_loose(out.array)
            return self.name(out, "e")
        if isinstance(out, (tuple, list)):
            items = ", ".join(self.output_expr(v) for v in out)
            return f"({items},)" if isinstance(out, tuple) else f"[{items}]"
        if isinstance(out, dict):
            items = ", ".join(f"{self.name(k, 'key')}: {self.output_expr(v)}"
                              for k, v in out.items())
            return "{" + items + "}"
        return self.name(out, "k")

    def finish(self, out) -> Plan | None:
        """The replay function of what was recorded, or None when the trace gave up."""
        if not self.backward_calls and _needs_grad(out):
            self.refuse("a result that needs a gradient outside the traced call",
                        "trace the whole step (forward, loss and loss.backward()) instead")
        returned = self.output_expr(out) if not self.failed else None
        if self.failed:
            return None
        for ctx, needs in self.ctxs:
            ctx.needs_input_grad = needs  # backward's free() cleared the ctx; forward refills it
        body = "\n".join(f"    {line}" for line in self.lines) or "    pass"
        source = f"def replay({', '.join(self.params)}):\n{body}\n    return {returned}\n"
        exec(compile(source, "<trainctl graph>", "exec"), self.ns)  # noqa: S102
        return Plan(self.ns["replay"], source, self.ops, list(self.externals.values()),
                    list(self.modules.values()), self.read_at)


def _needs_grad(out) -> bool:
    if isinstance(out, Tensor):
        return out.grad_fn is not None
    if isinstance(out, (tuple, list)):
        return any(_needs_grad(v) for v in out)
    if isinstance(out, dict):
        return any(_needs_grad(v) for v in out.values())
    return False


class Plan:
    """A traced call, replayable: ``plan(*input_tensors)`` runs its arrays again.

    ``guards`` are the tensors read by reference, with the shape, dtype and ``requires_grad``
    the trace saw: when one of them changes, the plan no longer fits and :meth:`fits` says so.

    Those of them that are neither trained (``requires_grad``) nor a buffer of a module the step
    called are the step's constants (a tensor from an enclosing scope, a mask made once). Their
    ``_version`` at the trace is kept, and a replay after an in-place change to one
    (``mask.fill_(0)`` between two calls) is refused with the line that read it: a graph's
    outside tensors are fixed, as in a static graph; what changes between calls is an argument.
    Parameters, buffers and optimizer state change in place by design and are read afresh.
    """

    def __init__(self, replay, source: str, ops: list, externals: list, modules: list,
                 read_at: dict):
        self.replay = replay
        self.source = source
        self.ops = ops
        self.modules = modules
        buffers = {id(b) for m in modules for b in m.buffers()}
        # [tensor, its array, requires_grad, version (None: may change in place), where read]
        self.guards = [[t, t.array, t._requires_grad,
                        None if t._requires_grad or id(t) in buffers else t._version,
                        read_at.get(id(t), "<unknown>")] for t in externals]

    def fits(self) -> bool:
        """Whether every tensor read by reference still has its traced shape, dtype and
        ``requires_grad`` (a ``p.data = ...`` of another shape, or a frozen layer, retraces).

        Most calls find the very arrays of the trace (in-place updates keep them), which one
        identity test per tensor confirms. A fixed tensor changed in place raises
        :class:`GraphTraceError`."""
        for guard in self.guards:
            t, seen, requires_grad, version, where = guard
            a = t.array
            if a is not seen:
                if a.shape != seen.shape or a.dtype != seen.dtype:
                    return False
                guard[1] = a  # same layout: remember it (and let the old array go)
            if t._requires_grad is not requires_grad:
                return False
            if version is not None and t._version != version:
                raise GraphTraceError(
                    f"{where}: a tensor of shape {tuple(t.shape)} that the graph reads from "
                    "outside its arguments was changed in place since the graph was traced: "
                    "tensors outside a graph are fixed; pass it to the step as an argument")
        return True

    def __call__(self, *inputs):
        return self.replay(*inputs)

    def __repr__(self) -> str:
        return f"Plan({len(self.ops)} ops: {', '.join(self.ops)})"


def trace(fn, args: tuple, kwargs: dict, inputs: list, strict: bool = True):
    """Run ``fn(*args, **kwargs)`` once, eagerly, recording it; return ``(result, plan,
    reason)``.

    ``inputs`` are the tensors among the arguments, in the order the plan takes them. When a
    lenient trace (``strict=False``) meets something it refuses, the call finishes eagerly,
    ``plan`` is None and ``reason`` says why (it is None otherwise).

    Example:
        >>> import trainctl as tc
        >>> x = tc.ones(2)
        >>> out, plan, _ = trace(lambda t: t * 2 + 1, (x,), {}, [x])
        >>> plan(tc.tensor([1.0, 2.0]))
        tensor([3., 5.])
    """
    if STATE.tracer is not None:
        raise GraphTraceError(f"{user_location()}: a graph cannot be called while another one "
                              "is being traced")
    tracer = Tracer(strict)
    for t in inputs:
        tracer.add_input(t)
    core_random.draw_hook = _draw_guard
    STATE.tracer = tracer
    try:
        out = fn(*args, **kwargs)
    finally:
        STATE.tracer = None
    return out, tracer.finish(out), tracer.failed
