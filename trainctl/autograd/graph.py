"""Graph nodes as PyTorch shows them: ``grad_fn.next_functions``, ``name()``, node hooks.

Every ``grad_fn`` is a :class:`Node`: an op's call (``array_function.ArrayFunction``), a custom
``tc.autograd.Function``'s call, or the :class:`AccumulateGrad` that stands for a leaf. What a
tutorial prints from a node is computed here, on access only, so recording a node during the
forward pass costs nothing more than before.

Example:
    >>> import trainctl as tc
    >>> a = tc.tensor([1.0, 2.0], requires_grad=True)
    >>> d = a.sin() * 2
    >>> d.grad_fn.next_functions
    ((<SinBackward>, 0), (None, 0))
    >>> d.grad_fn.next_functions[0][0].next_functions[0][0].variable is a
    True
"""

from __future__ import annotations

import numbers
import weakref

from .tensor import RemovableHandle, Tensor

_FREED = (
    "the graph behind this node was freed by backward(); pass retain_graph=True to backward() "
    "to look at it afterwards"
)


class Node:
    """What every ``grad_fn`` answers, as ``torch.autograd.graph.Node``.

    Subclasses hold ``inputs`` (the op's tensors and constants) and ``backward(node, grad)``;
    the hook lists and ``metadata`` live in the instance only once asked for.
    """

    inputs = None

    def name(self) -> str:
        return type(self).__name__

    def edge_inputs(self) -> list:
        """The inputs that count as graph edges: tensors, and Python numbers (which PyTorch
        turns into tensors, so ``(x * 2).grad_fn.next_functions`` ends with ``(None, 0)``)."""
        if self.inputs is None:
            raise RuntimeError(f"{self.name()}: {_FREED}")
        return [x for x in self.inputs if isinstance(x, (Tensor, numbers.Number))]

    @property
    def next_functions(self) -> tuple:
        """``((node, output_index), ...)``, one pair per input: the input's ``grad_fn``, an
        :class:`AccumulateGrad` for a leaf that requires grad, ``None`` for anything else."""
        return tuple(_edge(x) for x in self.edge_inputs())

    @property
    def metadata(self) -> dict:
        """A dict for the user's own notes on this node (kept until backward frees it)."""
        return self.__dict__.setdefault("_metadata", {})

    def register_prehook(self, hook) -> RemovableHandle:
        """Call ``hook(grad_outputs)`` before this node's backward; a returned tuple replaces
        the gradients. ``grad_outputs`` is a tuple of tensors, one per output."""
        return _add_hook(self, "_prehooks", hook)

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad_inputs, grad_outputs)`` after this node's backward; a returned tuple
        replaces ``grad_inputs`` (one tensor or None per entry of ``next_functions``)."""
        return _add_hook(self, "_posthooks", hook)

    def install_hook_runner(self) -> None:
        """Called once, when the node gets its first hook: make its backward run the hooks."""

    def edge(self) -> tuple:
        """This node as an entry of a consumer's ``next_functions``."""
        return (self, 0)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


def _add_hook(node, kind: str, hook) -> RemovableHandle:
    hooks = node.__dict__.get(kind)
    if hooks is None:
        if node.inputs is None:
            raise RuntimeError(f"{node.name()}: {_FREED}")
        hooks = node.__dict__[kind] = []
        node.install_hook_runner()
    hooks.append(hook)
    return RemovableHandle(hooks, hook)


class AccumulateGrad(Node):
    """The node that stands for a leaf tensor that requires grad; ``variable`` is the leaf.

    One per leaf while anything holds it, so ``a.grad_fn.next_functions[0][0] is
    b.grad_fn.next_functions[0][0]`` when ``a`` and ``b`` both use the same leaf, as in PyTorch.
    """

    inputs = ()

    def __init__(self, variable: Tensor):
        self.variable = variable

    def name(self) -> str:
        # PyTorch's C++ name: graph-walking code written for torch compares against it.
        return "torch::autograd::AccumulateGrad"

    def edge_inputs(self) -> list:
        return []

    def register_prehook(self, hook) -> RemovableHandle:
        return self.variable.register_hook(lambda grad: _call_prehook(hook, grad))

    def register_hook(self, hook) -> RemovableHandle:
        """``hook((), (grad,))`` when the leaf's gradient arrives (its return is ignored)."""
        return self.variable.register_hook(lambda grad: hook((), (grad,)) and None)

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


def _call_prehook(hook, grad):
    result = hook((grad,))
    return None if result is None else result[0]


# id(leaf) -> its AccumulateGrad. The node holds the leaf, so an id here always names a live
# tensor; the entry goes when the last user of the node lets it go.
_accumulators: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _edge(x) -> tuple:
    if not isinstance(x, Tensor):
        return (None, 0)
    fn = x.grad_fn
    if fn is not None:
        return fn.edge()
    if not x._requires_grad:
        return (None, 0)
    node = _accumulators.get(id(x))
    if node is None:
        node = _accumulators[id(x)] = AccumulateGrad(x)
    return (node, 0)
