"""``Optimizer``: the base class of every optimizer, with PyTorch's contract.

An optimizer holds ``param_groups`` (a list of dicts: ``'params'`` plus every hyperparameter,
filled from ``defaults``) and ``state`` (a dict keyed by the parameter tensor, holding that
parameter's buffers as trainctl Tensors). ``state_dict()`` replaces the tensors by their integer
index in the order of the groups, exactly as ``torch.optim.Optimizer.state_dict`` does, so a saved
state can be loaded into a fresh optimizer built over other tensors of the same shapes.

Update rules work on the raw arrays (``p.array``, ``p.grad.array``) of the array module that owns
them (numpy or cupy), in place. Subclasses implement ``_update(p, grad, group)``; the base ``step``
calls the closure, skips parameters without a gradient, and bumps each updated parameter's
``_version`` so autograd can tell that a saved tensor has changed.

Example:
    >>> import trainctl as tc
    >>> w = tc.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = tc.optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

import numpy

from ..autograd.grad_mode import STATE
from ..autograd.tensor import Tensor
from ..autograd.trace import graph_step
from ..core import backend


class _RequiredParameter:
    """Marks a hyperparameter (like SGD's old ``lr``) that every group must set."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _step_wrapper(step):
    """Run ``step`` without recording a graph and note that the optimizer has stepped."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if STATE.tracer is not None:  # graph mode: the replay calls the step again
            if args or kwargs.get("closure") is not None:
                STATE.tracer.refuse("optimizer.step(closure)", "closures re-run the model")
            return STATE.tracer.record_call(wrapper, (self,) + args, kwargs)
        self._opt_called = True  # lets an LR scheduler warn when it steps first
        prev = STATE.enabled
        STATE.enabled = False
        try:
            return step(self, *args, **kwargs)
        finally:
            STATE.enabled = prev

    return wrapper


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (parameter
            groups) holding ``'params'`` and any hyperparameter that overrides ``defaults``.
        defaults: the default value of every hyperparameter.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _step_wrapper(cls.__dict__["step"])

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._opt_called = False
        if isinstance(params, Tensor):
            raise TypeError(
                "params must be an iterable of Tensors or of param-group dicts, not a single "
                f"{type(params).__name__}"
            )
        groups = list(params)
        if not groups:
            raise ValueError("the optimizer was given an empty parameter list: nothing to optimize")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # ----------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with optional per-group hyperparameters).

        Example:
            >>> import trainctl as tc
            >>> a, b = tc.zeros(2, requires_grad=True), tc.zeros(3, requires_grad=True)
            >>> opt = tc.optim.SGD([a], lr=0.1)
            >>> opt.add_param_group({"params": [b], "lr": 0.01})
            >>> [g["lr"] for g in opt.param_groups]
            [0.1, 0.01]
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a param group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "a param group's params must be an ordered collection (list or tuple), not a "
                "set: a set's order changes from run to run, and so would the saved state"
            )
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError(
                    "params must be all (name, tensor) pairs or all tensors, not a mix"
                )
            param_group["param_names"] = names
        param_group["params"] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizers update Tensors; one of the params is a {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    "cannot optimize a non-leaf tensor (the result of an op): pass the leaf "
                    "tensors themselves"
                )
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"param group {len(self.param_groups)} does not set {name!r}, which "
                    f"{type(self).__name__} requires"
                )
            param_group.setdefault(name, default)
        if len(set(params)) != len(params):
            warnings.warn(
                "a param group lists the same parameter more than once; it will be updated "
                "once per listing",
                UserWarning,
                stacklevel=3,
            )
        seen = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in group) != ("param_names" in param_group):
                raise ValueError(
                    "param groups must all be named or all unnamed; this group is "
                    + ("named" if "param_names" in param_group else "unnamed")
                    + " and an earlier one is not"
                )
        if not seen.isdisjoint(params):
            raise ValueError(
                "a parameter cannot be in two param groups: one of these is already in an "
                "earlier group"
            )
        self.param_groups.append(param_group)

    # ----------------------------------------------------------------- stepping
    @graph_step
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to ``None`` (default) or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.grad_fn = None
                    p.grad._requires_grad = False
                    p.grad.array[...] = 0
                    p.grad._version += 1

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; return the closure's loss (or None).

        ``closure`` re-evaluates the model and returns the loss; it runs with grad mode on.
        """
        loss = None if closure is None else self._eval_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                self._update(p, grad.array, group)
                p._version += 1
        return loss

    def _update(self, p: Tensor, grad, group: dict[str, Any]) -> None:
        """Apply the update rule to ``p.array`` given its gradient array (subclasses)."""
        raise NotImplementedError

    @staticmethod
    def _eval_closure(closure):
        """``closure()`` with grad mode on (callers handle a missing closure)."""
        prev = STATE.enabled
        STATE.enabled = True
        try:
            return closure()
        finally:
            STATE.enabled = prev

    def _state(self, p: Tensor) -> dict[str, Any]:
        """``self.state[p]``, filled by ``_init_state`` the first time ``p`` is updated."""
        state = self.state[p]
        if not state:
            self._init_state(p, state)
        return state

    def _init_state(self, p: Tensor, state: dict[str, Any]) -> None:
        raise NotImplementedError

    # ----------------------------------------------------------------- (de)serialisation
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state with parameters replaced by their index.

        Returns ``{'state': {index: {name: value}}, 'param_groups': [{..., 'params': [index]}]}``,
        PyTorch's layout. The tensors in ``state`` are the live buffers (not copies).
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(k)] if isinstance(k, Tensor) else k: v for k, v in self.state.items()
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state saved by :meth:`state_dict` (of an optimizer over the same shapes).

        Buffers are copied, cast to their parameter's dtype and moved to its device (``step``
        counters stay as saved). Hyperparameters, the learning rate included, come from the
        saved groups.

        Raises:
            ValueError: the number of groups or of parameters in a group differs.
        """
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: the state dict has no {key!r} entry "
                    f"(keys: {sorted(state_dict)})"
                )
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        groups = self.param_groups
        if len(saved_groups) != len(groups):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the saved state has "
                f"{len(saved_groups)} param group(s), this optimizer has {len(groups)}"
            )
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: param group {i} has "
                    f"{len(s['params'])} parameter(s) in the saved state, {len(g['params'])} in "
                    "this optimizer"
                )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )
        state: defaultdict = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if isinstance(key, str) and key.isdigit():  # indices that went through JSON
                key = int(key)
            if key in id_map:
                param = id_map[key]
                state[param] = {k: _cast(param, v, k) for k, v in value.items()}
            else:
                state[key] = copy.deepcopy(value)
        new_groups = []
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            for name, default in self.defaults.items():  # groups saved by an older version
                s.setdefault(name, default)
            new_groups.append(s)
        self.state = state
        self.param_groups = new_groups


Optimizer.step = _step_wrapper(Optimizer.step)


def _cast(param: Tensor, value, key=None):
    """A copy of ``value`` fit for ``param``: same device, and its dtype when floating."""
    if isinstance(value, Tensor):
        if key == "step":
            return Tensor._wrap(value.array.copy())
        data = value.array
        if param.array.dtype.kind == "f" and data.dtype.kind == "f":
            data = data.astype(param.array.dtype)
        data = backend.to_device(data, param.device)
        return Tensor._wrap(data.copy())
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v) for v in value)
    return value


# --------------------------------------------------------------------- helpers for update rules
def _zeros_state(p: Tensor) -> Tensor:
    """A zero buffer shaped, typed and placed like ``p``."""
    xp = backend.get_array_module(p.array)
    return Tensor._wrap(xp.zeros_like(p.array))


def _step_counter() -> Tensor:
    """A 0-d float32 step counter kept on the CPU, as PyTorch keeps its ``step`` tensors."""
    return Tensor._wrap(numpy.zeros((), dtype=numpy.float32))


def _bump(counter: Tensor) -> float:
    """Add one to a step counter in place and return its new value."""
    counter.array += 1
    return float(counter.array)


def _lerp_(start, end, weight: float, xp) -> None:
    """``start += weight * (end - start)`` in place, rounded as PyTorch's ``lerp_``."""
    diff = xp.subtract(end, start)
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:
        diff *= 1.0 - weight
        xp.subtract(end, diff, out=start)


def _grad_for_update(p, grad, group: dict[str, Any], xp, weight_decay: bool = True):
    """The gradient the update rule sees: negated when maximizing, plus L2 weight decay.

    Returns a new array only when it must differ from ``grad`` (never writes into ``p.grad``).
    """
    if group.get("maximize", False):
        grad = xp.negative(grad)
    wd = group.get("weight_decay", 0) if weight_decay else 0
    if wd != 0:
        grad = grad + wd * p.array
    return grad
