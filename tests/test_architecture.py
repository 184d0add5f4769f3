"""The house rules for imports, checked without running anything (docs/architecture.md).

Every module of ``trainctl`` is parsed with ``ast`` and all its imports are collected, at module
level and inside functions alike. The checks: no import cycles, no import from a higher layer, no
``_private`` name taken from another package, no import below the first ``def``/``class``.
"""

import ast
from pathlib import Path
from typing import NamedTuple

import pytest

# The layers, bottom up: written once, here. A module may import its own top-level folder and
# anything in a lower layer; between peers of one layer only PEER_IMPORTS are allowed.
LAYERS = [
    ("trainctl._version", "trainctl.core"),
    ("trainctl.autograd",),
    ("trainctl.distributed",),  # collectives on tensors: nn (DDP, SyncBatchNorm) and data use them
    ("trainctl.nn", "trainctl.optim", "trainctl.data", "trainctl.utils"),
    ("trainctl.torch_compat",),
    ("trainctl", "trainctl._api"),  # the public namespace `import trainctl as tc`
    ("trainctl.config",),
    ("trainctl.training",),
    ("trainctl.commands",),
    ("trainctl.cli",),
]
PEER_IMPORTS = {("trainctl.utils", "trainctl.data"), ("trainctl", "trainctl._api")}
PUBLIC_UNDERSCORE_NAMES = {"_version", "_api"}  # module names, not private ones

LAYER = {unit: i for i, units in enumerate(LAYERS) for unit in units}
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
PACKAGE_DIR = Path(__file__).resolve().parent.parent / "trainctl"


class Module(NamedTuple):
    name: str  # "trainctl.core.random"; a package is named by its __init__
    path: str  # "trainctl/core/random.py"
    is_package: bool
    tree: ast.Module


class Import(NamedTuple):
    line: int
    target: str  # a module of trainctl; a package stands for its __init__
    name: str | None  # what `from target import name` takes, when it is not a submodule


def parse_modules(sources: dict[str, str]) -> dict[str, Module]:
    """Parse ``{path inside trainctl/: source}`` into modules keyed by dotted name."""
    modules = {}
    for rel, source in sources.items():
        parts = ("trainctl", *Path(rel).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        modules[name] = Module(name, f"trainctl/{rel}", is_package, ast.parse(source, rel))
    return modules


def load_package() -> dict[str, Module]:
    paths = sorted(PACKAGE_DIR.rglob("*.py"))
    return parse_modules({p.relative_to(PACKAGE_DIR).as_posix(): p.read_text() for p in paths})


def _absolute(module: Module, name: str | None, level: int) -> str:
    """Resolve ``from <level dots><name> import ...`` against the module's package."""
    if level == 0:
        return name or ""
    parts = module.name.split(".")[: None if module.is_package else -1]
    parts = parts[: len(parts) - level + 1]
    return ".".join([*parts, name] if name else parts)


def imports_of(module: Module, modules: dict[str, Module]) -> list[Import]:
    """Every import of a trainctl module in ``module``, wherever it stands in the file."""
    found = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            found += [Import(node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node.module, node.level)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append(Import(node.lineno, sub, None) if sub in modules
                             else Import(node.lineno, base, alias.name))
    return sorted(imp for imp in found if imp.target in modules)


def import_graph(modules: dict[str, Module]) -> dict[str, dict[str, int]]:
    """``{module: {imported module: first line}}``, without a module's imports of itself.

    Python runs every package ``__init__`` on the way to a module, so importing ``a.b.c`` also
    imports the package ``a.b`` (unless ``a.b`` contains the importer: it is running already).
    """
    graph = {name: {} for name in modules}
    for name, module in modules.items():
        for imp in imports_of(module, modules):
            parts = imp.target.split(".")
            parents = [".".join(parts[:i]) for i in range(2, len(parts))]
            for target in [p for p in parents if not name.startswith(p + ".")] + [imp.target]:
                if target in modules and target != name:
                    graph[name].setdefault(target, imp.line)
    return graph


def _package(name: str) -> str:
    """The top-level folder a module belongs to: "trainctl.nn.modules.conv" -> "trainctl.nn"."""
    return ".".join(name.split(".")[:2])


def _owner(name: str) -> str | None:
    """The LAYERS entry a module belongs to (the root package matches only itself)."""
    for unit in sorted(LAYER, key=len, reverse=True):
        if name == unit or (unit != "trainctl" and name.startswith(unit + ".")):
            return unit
    return None


def _is_private(name: str) -> bool:
    dunder = name.startswith("__") and name.endswith("__")
    return name.startswith("_") and not dunder and name not in PUBLIC_UNDERSCORE_NAMES


def find_cycles(modules: dict[str, Module]) -> list[str]:
    """Every cycle that closes a back edge of a depth-first walk over the import graph."""
    graph, done, path, offences = import_graph(modules), set(), [], []

    def visit(node):
        path.append(node)
        for nxt in sorted(graph[node]):
            if nxt in path:
                cycle = path[path.index(nxt):] + [nxt]
                edges = zip(cycle, cycle[1:])
                lines = ", ".join(f"{modules[a].path}:{graph[a][b]}" for a, b in edges)
                offences.append(" -> ".join(cycle) + f"  [{lines}]")
            elif nxt not in done:
                visit(nxt)
        path.pop()
        done.add(node)

    for node in sorted(graph):
        if node not in done:
            visit(node)
    return offences


def find_upward_imports(modules: dict[str, Module]) -> list[str]:
    """Imports of a higher layer or of a peer, once per (importer, imported) pair."""
    offences, graph = [], import_graph(modules)
    for name, module in modules.items():
        src = _owner(name)
        if src is None:
            offences.append(f"{module.path}: {name} is in no layer: add it to LAYERS")
            continue
        for target, line in graph[name].items():
            dst = _owner(target)
            if dst is None or dst == src or (src, dst) in PEER_IMPORTS or LAYER[dst] < LAYER[src]:
                continue
            how = "its peer" if LAYER[dst] == LAYER[src] else "the higher"
            offences.append(f"{module.path}:{line}: {name} (layer {LAYER[src]}) imports "
                            f"{target} from {how} layer {LAYER[dst]}")
    return offences


def _module_names(module: Module, modules: dict[str, Module]) -> dict[str, str]:
    """Local names bound to trainctl modules, e.g. ``{"backend": "trainctl.core.backend"}``."""
    bound = {}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local, target = ((alias.asname, alias.name) if alias.asname
                                 else (alias.name.split(".")[0], alias.name.split(".")[0]))
                bound[local] = target
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node.module, node.level)
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{base}.{alias.name}"
    return {local: target for local, target in bound.items() if target in modules}


def _module_of(node: ast.expr, bound: dict[str, str], modules: dict[str, Module]) -> str | None:
    """The trainctl module an expression such as ``core.random`` stands for, if any."""
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    if isinstance(node, ast.Attribute):
        name = f"{_module_of(node.value, bound, modules)}.{node.attr}"
        return name if name in modules else None
    return None


def find_private_imports(modules: dict[str, Module]) -> list[str]:
    """``_private`` names (modules, functions, variables) used from another package."""
    offences = []
    for name, module in modules.items():
        for imp in imports_of(module, modules):
            if _package(imp.target) == _package(name):
                continue
            parts = imp.target.split(".")[1:] + ([imp.name] if imp.name else [])
            for part in filter(_is_private, parts):
                offences.append(f"{module.path}:{imp.line}: {name} imports private {part!r} "
                                f"from {imp.target}")
        bound = _module_names(module, modules)
        for node in sorted(ast.walk(module.tree), key=lambda n: getattr(n, "lineno", 0)):
            if isinstance(node, ast.Attribute) and _is_private(node.attr):
                owner = _module_of(node.value, bound, modules)
                if owner and _package(owner) != _package(name):
                    offences.append(f"{module.path}:{node.lineno}: {name} uses private "
                                    f"{owner}.{node.attr}")
    return offences


def find_late_imports(modules: dict[str, Module]) -> list[str]:
    """Module-level imports below the first def, class or bare statement (not in functions)."""
    offences = []
    for module in modules.values():
        barrier = None
        for i, stmt in enumerate(module.tree.body):
            if barrier is None:
                docstring = i == 0 and isinstance(stmt, ast.Expr)
                if isinstance(stmt, (*DEFS, ast.For, ast.While, ast.Expr)) and not docstring:
                    barrier = stmt
                continue
            todo = [stmt]
            while todo:  # the statement and its if/try/with blocks, not the bodies of defs
                node = todo.pop()
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    offences.append(f"{module.path}:{node.lineno}: import below the "
                                    f"module's code (which starts at line {barrier.lineno})")
                elif not isinstance(node, DEFS):
                    todo += [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt)]
    return offences


@pytest.fixture(scope="module")
def package():
    return load_package()


def _report(title: str, offences: list[str]) -> str:
    return f"{title} ({len(offences)}):\n  " + "\n  ".join(offences)


def test_no_import_cycles(package):
    offences = find_cycles(package)
    assert not offences, _report("import cycles", offences)


def test_imports_point_down_the_layers(package):
    assert {"trainctl", "trainctl.cli", "trainctl.core.backend"} <= set(package)
    offences = find_upward_imports(package)
    assert not offences, _report("imports from a higher layer or a peer", offences)


def test_no_private_names_across_packages(package):
    offences = find_private_imports(package)
    assert not offences, _report("private names used from another package", offences)


def test_no_bottom_of_file_imports(package):
    offences = find_late_imports(package)
    assert not offences, _report("module-level imports below the module's code", offences)


SYNTHETIC = {
    "__init__.py": "",
    "core/__init__.py": "",
    "core/a.py": "from .b import x\nfrom .random import _generator\n",
    "core/b.py": "def f():\n    from . import a\n",
    "core/random.py": "_generator = None\n",
    "autograd/__init__.py": "",
    "autograd/ops.py": "from ..core.random import _generator\nfrom ..core import random\n"
                       "from ..training import Trainer\nseed = random._generator\n",
    "nn/__init__.py": "from trainctl import tensor\n",
    "data/__init__.py": "def f():\n    from ..nn import Linear\n",
    "utils/__init__.py": "from ..data import Dataset\nfrom .. import _version\n",
    "_version.py": "__version__ = '0'\n",
    "training/__init__.py": '"""Doc."""\nimport os\n\n\ndef train():\n    pass\n\n\nimport sys\n',
}


def test_the_checker_catches_each_kind_of_offence():
    modules = parse_modules(SYNTHETIC)
    cycles = find_cycles(modules)
    assert cycles == ["trainctl.core.a -> trainctl.core.b -> trainctl.core.a  "
                      "[trainctl/core/a.py:1, trainctl/core/b.py:2]"]
    upward = find_upward_imports(modules)
    assert sorted(upward) == [
        "trainctl/autograd/ops.py:3: trainctl.autograd.ops (layer 1) imports trainctl.training "
        "from the higher layer 7",
        "trainctl/data/__init__.py:2: trainctl.data (layer 3) imports trainctl.nn from its peer "
        "layer 3",
        "trainctl/nn/__init__.py:1: trainctl.nn (layer 3) imports trainctl from the higher layer 5",
    ]
    private = find_private_imports(modules)
    assert private == [
        "trainctl/autograd/ops.py:1: trainctl.autograd.ops imports private '_generator' "
        "from trainctl.core.random",
        "trainctl/autograd/ops.py:4: trainctl.autograd.ops uses private "
        "trainctl.core.random._generator",
    ]
    late = find_late_imports(modules)
    assert late == ["trainctl/training/__init__.py:9: import below the module's code "
                    "(which starts at line 5)"]
