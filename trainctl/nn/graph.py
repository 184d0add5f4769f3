"""Static graphs: ``nn.Graph`` (OneFlow's) and ``tc.compile`` (PyTorch's), one machinery.

Eager (dynamic) mode runs Python for every op: it builds Tensors and graph nodes, and the backward
walk finds its way through them. A static graph traces one call of a step once and replays the
recorded array operations afterwards (``autograd/trace.py``), with the same numbers as eager.

Each call is keyed by its signature: the shapes, dtypes, devices and ``requires_grad`` of the
tensor arguments, the other arguments' values, grad mode, the train/eval mode of the modules
involved and the version of the modules' structure (a replaced parameter retraces). A new key
traces again; the cache keeps the last few (:data:`CACHE_SIZE`), so the short last batch of an
epoch is a second entry, not a retrace every epoch.

Example:
    >>> import trainctl as tc
    >>> model = tc.nn.Linear(2, 1)
    >>> opt = tc.optim.SGD(model.parameters(), lr=0.01)
    >>> class TrainGraph(tc.nn.Graph):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.model = model
    ...         self.add_optimizer(opt)
    ...     def build(self, x, y):
    ...         loss = tc.nn.functional.mse_loss(self.model(x), y)
    ...         loss.backward()
    ...         return loss
    >>> graph = TrainGraph()
    >>> x, y = tc.ones(4, 2), tc.zeros(4, 1)
    >>> losses = [graph(x, y) for _ in range(3)]  # traced once, replayed twice
    >>> graph.traces, graph.replays
    (1, 2)
"""

from __future__ import annotations

import warnings
from collections import OrderedDict

import numpy

from ..autograd.grad_mode import STATE
from ..autograd.tensor import Tensor, tensors_in
from ..autograd.trace import GraphTraceError, trace
from .module import Module, _structure

# GraphTraceError is re-exported: `except tc.nn.GraphTraceError` without reaching into autograd.
__all__ = ["Graph", "GraphTraceError", "compile"]

CACHE_SIZE = 8  # traces kept per graph (signatures: batch sizes, train/eval, grad mode)


def _signature(obj):
    """What a trace specializes on in one argument."""
    if isinstance(obj, Tensor):
        a = obj.array
        return (type(a), a.shape, a.dtype.str, getattr(a, "device", None), obj._requires_grad)
    if isinstance(obj, (tuple, list)):
        return (type(obj), tuple(_signature(v) for v in obj))
    if isinstance(obj, dict):
        return (dict, tuple((k, _signature(v)) for k, v in obj.items()))
    try:
        hash(obj)
    except TypeError:
        return (type(obj), id(obj))
    return (type(obj), obj)


class _Entry:
    def __init__(self, plan, reason):
        self.plan, self.reason = plan, reason


class _Runner:
    """Trace-once, replay-after for one callable; what ``Graph`` and ``compile`` share."""

    def __init__(self, fn, modules: list, strict: bool, label: str):
        self.fn = fn
        self.modules = list(modules)  # known up front; those seen in traces are added
        self.strict = strict
        self.label = label
        self.cache: OrderedDict = OrderedDict()
        self.traces = 0
        self.replays = 0
        self.debug = 0
        self.warned = False

    def key(self, args, kwargs):
        """The signature of a call, and whether the arguments are just tensors. Written out
        for that common case: it runs on every call, and replaying a small step takes only a
        few microseconds."""
        sig = [STATE.enabled, _structure[0]]
        for m in self.modules:
            sig.append(m.training)
        plain = not kwargs
        for a in args:
            if type(a) is Tensor:
                array = a.array
                sig.append((type(array), array.shape, array.dtype, a._requires_grad,
                            None if type(array) is numpy.ndarray else array.device))
            else:
                sig.append(_signature(a))
                plain = False
        if kwargs:
            sig.append(_signature(kwargs))
        return tuple(sig), plain

    def __call__(self, args, kwargs):
        key, plain = self.key(args, kwargs)
        entry = self.cache.get(key)
        if entry is not None:
            plan = entry.plan
            if plan is None:  # untraceable (lenient mode): eager, as the first call was
                return self.fn(*args, **kwargs)
            if plan.fits():
                self.replays += 1
                return plan.replay(*args) if plain else plan.replay(*tensors_in((args, kwargs)))
            del self.cache[key]
        return self.trace(args, kwargs)

    def trace(self, args, kwargs):
        inputs = tensors_in((args, kwargs))
        out, plan, reason = trace(self.fn, args, kwargs, inputs, self.strict)
        self.traces += 1
        if plan is not None:
            known = {id(m) for m in self.modules}
            self.modules += [m for m in plan.modules if id(m) not in known]
        if reason is not None and not self.warned:
            warnings.warn(f"{self.label} runs eagerly for this signature: {reason}",
                          stacklevel=4)
            self.warned = True
        if self.debug:
            shapes = [tuple(t.shape) for t in inputs]
            print(f"[{self.label}] trace {self.traces} for inputs {shapes}: "
                  + (f"{len(plan.ops)} ops" if plan is not None else f"eager ({reason})"))
        self.cache[self.key(args, kwargs)[0]] = _Entry(plan, reason)
        while len(self.cache) > CACHE_SIZE:
            self.cache.popitem(last=False)
        return out

    def describe(self) -> list[str]:
        lines = []
        for entry in self.cache.values():
            if entry.plan is None:
                lines.append(f"  (eager) {entry.reason}")
            else:
                lines.append(f"  ({len(entry.plan.ops)} ops) " + ", ".join(entry.plan.ops))
        return lines


class _Counted:
    """``traces`` and ``replays`` of the ``_runner`` behind a graph or a compiled callable."""

    _runner: _Runner

    @property
    def traces(self) -> int:
        """How many calls were traced (first calls of each signature, and retraces)."""
        return self._runner.traces

    @property
    def replays(self) -> int:
        """How many calls replayed a trace."""
        return self._runner.replays


class Graph(_Counted):
    """A static graph of a step, as OneFlow's ``nn.Graph``: trace ``build`` once, replay it.

    Subclass it: assign the modules in ``__init__``, register optimizers (and their LR
    schedulers) with :meth:`add_optimizer`, and write the step in ``build`` (forward, loss and
    ``loss.backward()`` for training). ``graph(x, y)`` runs the whole step: ``build``, then each
    optimizer's ``step()`` and ``zero_grad()`` and its scheduler's ``step()``. A graph without an
    optimizer is an evaluation graph (call it under ``tc.no_grad()`` or return no grad-needing
    result).

    The first call with a new signature runs eagerly while being traced; later calls replay
    the trace with the same numbers as eager mode. Parameters, buffers and optimizer state are
    read where they live at each replay, so ``param_groups`` edits, ``p.data = ...`` and
    ``load_state_dict`` take effect. Inside ``build``, reading a tensor into Python (``.item()``,
    ``bool(t)``, ``.numpy()``), data-dependent shapes, in-place changes and random draws outside
    ops raise :class:`~trainctl.autograd.trace.GraphTraceError` naming the line.

    Example:
        >>> import trainctl as tc
        >>> class EvalGraph(tc.nn.Graph):
        ...     def __init__(self, model):
        ...         super().__init__()
        ...         self.model = model
        ...     def build(self, x):
        ...         return self.model(x)
        >>> graph = EvalGraph(tc.nn.Linear(3, 2).eval())
        >>> with tc.no_grad():
        ...     graph(tc.ones(5, 3)).shape
        trainctl.Size([5, 2])
    """

    def __init__(self):
        self._optimizers = []
        self._runner = _Runner(self._step, [], strict=True, label=type(self).__name__)

    def build(self, *args, **kwargs):
        """The step, written as eager code; ``graph(*args)`` traces and replays it."""
        raise NotImplementedError(f"{type(self).__name__} must define build()")

    def add_optimizer(self, optimizer, *, lr_sch=None) -> None:
        """Step ``optimizer`` (then ``lr_sch``, if given) after every ``build``.

        Example:
            >>> import trainctl as tc
            >>> g = tc.nn.Graph()
            >>> opt = tc.optim.SGD([tc.zeros(1, requires_grad=True)], lr=0.1)
            >>> g.add_optimizer(opt, lr_sch=tc.optim.lr_scheduler.StepLR(opt, 1))
        """
        self._optimizers.append((optimizer, lr_sch))

    def _step(self, *args, **kwargs):
        out = self.build(*args, **kwargs)
        for optimizer, scheduler in self._optimizers:
            optimizer.step()
            optimizer.zero_grad()
            if scheduler is not None:
                scheduler.step()
        return out

    def __call__(self, *args, **kwargs):
        runner = self._runner
        if not runner.modules:
            runner.modules = [m for v in vars(self).values() if isinstance(v, Module)
                              for m in v.modules()]
        return runner(args, kwargs)

    def debug(self, v_level: int = 0) -> None:
        """Print a line for every trace (``v_level >= 0``; -1 turns it off), as OneFlow's."""
        self._runner.debug = v_level >= 0

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}("]
        for name, value in vars(self).items():
            if isinstance(value, Module):
                lines.append(f"  ({name}): {type(value).__name__}")
        for optimizer, scheduler in self._optimizers:
            sched = f" + {type(scheduler).__name__}" if scheduler is not None else ""
            lines.append(f"  (optimizer): {type(optimizer).__name__}{sched}")
        traced = self._runner.describe()
        lines += [f"  traced: {len(traced)}"] + traced if traced else ["  traced: none yet"]
        lines.append(")")
        return "\n".join(lines)


class Compiled(_Counted):
    """What :func:`compile` returns: call it like the original (a module's other attributes,
    ``parameters()``, ``train()``..., are the module's)."""

    def __init__(self, target, runner: _Runner):
        self._orig_mod = target  # PyTorch's attribute name for the wrapped module
        self._runner = runner

    def __call__(self, *args, **kwargs):
        return self._runner(args, kwargs)

    def __getattr__(self, name):
        return getattr(self.__dict__["_orig_mod"], name)

    @property
    def label(self) -> str:
        """What warnings and ``repr`` call the compiled callable (its qualified name)."""
        return self._runner.label

    @label.setter
    def label(self, value: str) -> None:
        self._runner.label = value

    def __repr__(self) -> str:
        return "\n".join([f"Compiled({self._runner.label})"] + self._runner.describe())


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend=None, mode=None,  # noqa: A001
            options=None, disable: bool = False):
    """Trace ``model`` (a module or a function) on its first call and replay it afterwards.

    As ``torch.compile``: a module is compiled as its forward, a function as a whole (a training
    step may hold forward, loss, ``loss.backward()`` and ``optimizer.step()``). Each signature
    (shapes, dtypes, grad mode, train/eval mode) is traced once. ``fullgraph=True`` raises
    :class:`~trainctl.autograd.trace.GraphTraceError` where something cannot be traced (a
    ``.item()``, a data-dependent shape...); by default such a call runs eagerly with a warning,
    as PyTorch falls back on a graph break. ``dynamic``: trainctl specializes on every shape
    (``dynamic=False``, and None, which means the same here); ``dynamic=True`` is refused.
    ``backend``, ``mode`` and ``options`` are accepted and ignored; ``disable=True`` returns
    ``model`` unchanged. Used as ``@tc.compile`` or ``@tc.compile(fullgraph=True)``.

    A compiled forward whose result still needs a gradient (``loss.backward()`` called outside)
    runs eagerly: compile the whole step instead.

    Example:
        >>> import trainctl as tc
        >>> model = tc.nn.Linear(2, 1)
        >>> opt = tc.optim.SGD(model.parameters(), lr=0.1)
        >>> @tc.compile(fullgraph=True)
        ... def step(x, y):
        ...     loss = tc.nn.functional.mse_loss(model(x), y)
        ...     loss.backward()
        ...     opt.step()
        ...     opt.zero_grad()
        ...     return loss
        >>> for _ in range(3):
        ...     loss = step(tc.ones(4, 2), tc.zeros(4, 1))
        >>> step.traces, step.replays
        (1, 2)
    """
    if dynamic:
        raise ValueError("compile(dynamic=True): trainctl's graphs specialize on shapes (each "
                         "new shape is traced once and cached); use dynamic=False or None")
    if model is None:
        return lambda fn: compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                  mode=mode, options=options, disable=disable)
    if disable:
        return model
    if isinstance(model, Module):
        runner = _Runner(model, list(model.modules()), fullgraph, type(model).__name__)
    elif callable(model):
        runner = _Runner(model, [], fullgraph, getattr(model, "__qualname__", "function"))
    else:
        raise TypeError(f"compile() expects a Module or a function, got {type(model).__name__}")
    return Compiled(model, runner)
