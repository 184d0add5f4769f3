"""trainctl: config-driven training on a small, PyTorch-compatible NumPy autograd engine.

Example:
    >>> import trainctl as tc
    >>> x = tc.tensor([[1., 2.], [2., 3.]], requires_grad=True)
    >>> y = (x @ tc.ones(2, 1)).sum()
    >>> y.backward()
    >>> x.grad
    tensor([[1., 1.],
            [1., 1.]])
"""

# The API is loaded on first attribute access (PEP 562), not at import: `trainctl --help` and
# other commands that need no tensors then start without importing NumPy. `import trainctl as tc`
# followed by any `tc.<name>` behaves exactly as an eager import would.
from ._version import __version__
from .torch_compat.imports import install as _install_torch_imports

_install_torch_imports()  # `import trainctl.backends.cudnn`, `import trainctl.jit`: see there


def _load():
    import importlib

    _api = importlib.import_module("trainctl._api")  # not `from . import`: that calls __getattr__
    # setdefault, not update: a name the user assigned (`tc.load = partial(tc.load, ...)`) or a
    # submodule an import bound stays as it is; this runs again at every miss.
    namespace = globals()
    for name, value in vars(_api).items():
        if not name.startswith("__"):
            namespace.setdefault(name, value)
    return _api


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    import importlib
    import importlib.util

    # `from . import backend` inside the package asks here first: load the submodule itself,
    # not the whole API (which would import half-initialised modules in a cycle).
    try:
        spec = importlib.util.find_spec(f"{__name__}.{name}")
    except ImportError:  # a refused PyTorch module: the API raises its line, as AttributeError
        spec = None
    if spec is not None:
        return importlib.import_module(f"{__name__}.{name}")
    api = _load()
    try:
        return getattr(api, name)
    except AttributeError as e:
        if type(e) is not AttributeError:
            raise  # e.g. "torch.jit is not supported by trainctl: ..."
        raise AttributeError(f"module 'trainctl' has no attribute {name!r}") from None


def __dir__():
    return sorted(set(globals()) | set(dir(_load())))
