"""``import trainctl.<x>`` for the ``torch.<x>`` imports ported programs write.

A ported program's ``import torch.backends.cudnn as cudnn`` becomes
``import trainctl.backends.cudnn``, and ``from torch.utils.tensorboard import SummaryWriter``
becomes ``from trainctl.utils.tensorboard import ...``. The files behind ``tc.cuda``,
``tc.backends`` and ``tc.accelerator`` live in ``trainctl/torch_compat/``, and refused features
have no file at all, so Python alone would answer ``ModuleNotFoundError``. :class:`TorchImports`,
put last on ``sys.meta_path`` by ``import trainctl``, answers instead: an alias imports the module
(or namespace) ``tc.<x>`` already is, and a refused name raises its one-line
:class:`~.unsupported.UnsupportedModuleError` (an ``ImportError``).

It is asked only about ``trainctl.*`` names that no file provides, so it costs nothing on the
normal import path.

Example:
    >>> import trainctl.backends.cudnn as cudnn
    >>> cudnn.deterministic = True
    >>> import trainctl.jit
    Traceback (most recent call last):
    ...
    trainctl.torch_compat.unsupported.UnsupportedModuleError: torch.jit (TorchScript) is not supported by trainctl: run the model eagerly, drop the call
"""  # noqa: E501

from __future__ import annotations

import importlib
import importlib.machinery
import sys

# ``trainctl.<alias>`` -> (the module that defines it, the attribute path inside it or "")
ALIASES = {
    "cuda": ("trainctl.torch_compat.cuda", ""),
    "accelerator": ("trainctl.torch_compat.accelerator", ""),
    "backends": ("trainctl.torch_compat.backends", ""),
    "special": ("trainctl.torch_compat.special", ""),
    "backends.cudnn": ("trainctl.torch_compat.backends", "cudnn"),
    "backends.mps": ("trainctl.torch_compat.backends", "mps"),
}


# What the import system writes on the object it loads; an alias puts back the object's own.
_IMPORT_ATTRIBUTES = ("__name__", "__loader__", "__package__", "__spec__", "__file__",
                      "__cached__")


class _Alias:  # an importlib Loader (importlib.abc is not imported: it costs start-up time)
    """Loads an alias by handing over the object that already exists, unchanged."""

    def __init__(self, module: str, attribute: str):
        self.module, self.attribute = module, attribute
        self.saved = {}

    def create_module(self, spec):
        target = importlib.import_module(self.module)
        if self.attribute:
            target = getattr(target, self.attribute)
        self.saved = {k: v for k, v in vars(target).items() if k in _IMPORT_ATTRIBUTES}
        return target

    def exec_module(self, module) -> None:
        attributes = vars(module)
        for key in _IMPORT_ATTRIBUTES:
            if key in self.saved:
                attributes[key] = self.saved[key]
            else:
                attributes.pop(key, None)
        if self.attribute:  # a namespace, not a package: it needs no search path
            attributes.pop("__path__", None)


class TorchImports:  # an importlib MetaPathFinder
    """The finder for ``trainctl.*`` names no file provides (see the module docstring)."""

    def find_spec(self, fullname: str, path=None, target=None):
        if not fullname.startswith("trainctl."):
            return None
        rest = fullname[len("trainctl."):]
        if rest in ALIASES:
            # a module alias is a package (an empty search path): `trainctl.cuda.amp` comes here
            module, attribute = ALIASES[rest]
            return importlib.machinery.ModuleSpec(fullname, _Alias(module, attribute),
                                                  is_package=not attribute)
        from .unsupported import SUBMODULES, UnsupportedFeatureError, message, refusal

        # `from trainctl.cuda import amp` asks for the real name, trainctl.torch_compat.cuda.amp
        for alias, (module, attribute) in ALIASES.items():
            if not attribute and rest.startswith(module[len("trainctl."):] + "."):
                rest = alias + rest[len(module) - len("trainctl."):]
        found = SUBMODULES.get(rest) or ("." not in rest and refusal(rest))
        if found:
            raise _refused(message(*found), fullname)
        parent, _, leaf = rest.rpartition(".")
        if parent in ALIASES and not ALIASES[parent][1]:  # tc.cuda.amp, tc.special.zeta
            try:
                getattr(importlib.import_module(ALIASES[parent][0]), leaf)
            except UnsupportedFeatureError as e:
                raise _refused(str(e), fullname) from None
            except AttributeError:
                pass
        return None


def _refused(text: str, fullname: str):
    from .unsupported import UnsupportedModuleError

    error = UnsupportedModuleError(text)
    error.name = fullname  # ImportError's: the module that was asked for
    return error


def install() -> None:
    """Put :class:`TorchImports` last on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, TorchImports) for finder in sys.meta_path):
        sys.meta_path.append(TorchImports())
