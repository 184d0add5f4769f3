"""Containers: ``Sequential``, ``ModuleList`` and ``ModuleDict``.

Children are registered under their index (``"0"``, ``"1"``...) or key, so ``state_dict`` keys
match PyTorch's (``"0.weight"``, ``"blocks.2.bias"``, ``"heads.cls.weight"``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from ..module import Module, addindent


def _index(container: Module, idx: int) -> str:
    """The key of the child at position ``idx`` (negative counts from the end)."""
    n = len(container._modules)
    idx = int(idx)
    if not -n <= idx < n:
        raise IndexError(f"index {idx} is out of range for {container._get_name()} of length {n}")
    idx %= n
    if isinstance(container, ModuleList):
        return str(idx)  # its keys are always "0".."n-1"
    return next(k for i, k in enumerate(container._modules) if i == idx)


def _renumber(container: Module) -> None:
    modules = list(container._modules.values())
    container._modules.clear()
    for i, module in enumerate(modules):
        container._modules[str(i)] = module


class _ModuleSequence(Module):
    """What ``Sequential`` and ``ModuleList`` share: children addressed by position."""

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, _index(self, idx), module)

    def __delitem__(self, idx) -> None:
        if isinstance(idx, slice):
            for key in list(self._modules)[idx]:
                del self._modules[key]
        else:
            del self._modules[_index(self, idx)]
        _renumber(self)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def _insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def pop(self, key: int) -> Module:
        module = self[key]
        del self[key]
        return module


class Sequential(_ModuleSequence):
    """Chain modules: the output of each is the input of the next.

    Built from modules (named ``"0"``, ``"1"``...) or from one ``OrderedDict`` of named modules.
    Indexing gives a module; slicing gives a ``Sequential`` that keeps the original names.

    Example:
        >>> import trainctl as tc
        >>> net = tc.nn.Sequential(tc.nn.Linear(4, 8), tc.nn.ReLU(), tc.nn.Linear(8, 2))
        >>> len(net), type(net[1]).__name__, len(net[:2])
        (3, 'ReLU', 2)
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[_index(self, idx)]


    def __add__(self, other: Sequential) -> Sequential:
        return Sequential(*self, *other)

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end (named by its position)."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        self._insert(index, module)
        return self



class ModuleList(_ModuleSequence):
    """A list of modules, registered so their parameters are found (it has no ``forward``).

    Example:
        >>> import trainctl as tc
        >>> blocks = tc.nn.ModuleList([tc.nn.Linear(4, 4) for _ in range(3)])
        >>> [k for k in blocks.state_dict()][:3]
        ['0.weight', '0.bias', '1.weight']
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[_index(self, idx)]


    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError("ModuleList.extend should be called with an iterable of modules")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        self._insert(index, module)


    def __repr__(self) -> str:
        # Runs of identical children print once, as PyTorch does: "(0-2): 3 x Linear(...)".
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        lines, start = [], 0
        for end in range(1, len(reprs) + 1):
            if end == len(reprs) or reprs[end] != reprs[start]:
                body = addindent(reprs[start], 2)
                if end - start == 1:
                    lines.append(f"({start}): {body}")
                else:
                    lines.append(f"({start}-{end - 1}): {end - start} x {body}")
                start = end
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules with string keys, kept in insertion order.

    Example:
        >>> import trainctl as tc
        >>> heads = tc.nn.ModuleDict({"cls": tc.nn.Linear(8, 3), "box": tc.nn.Linear(8, 4)})
        >>> list(heads.keys())
        ['cls', 'box']
    """

    def __init__(self, modules: Mapping[str, Module] | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules) -> None:
        """Add modules from a mapping or an iterable of ``(key, module)`` pairs."""
        items = modules.items() if hasattr(modules, "items") else modules
        for entry in items:
            if len(entry) != 2:
                raise ValueError(
                    f"ModuleDict.update expects (key, module) pairs, got an entry of length "
                    f"{len(entry)}"
                )
            self[entry[0]] = entry[1]
