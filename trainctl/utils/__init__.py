"""``trainctl.utils``: ``utils.data`` mirrors ``torch.utils.data``."""

import importlib

from ..core.errors import UnsupportedAttributeError, UnsupportedFeatureError


def __getattr__(name: str):
    # Submodules are loaded on first use (`tc.utils.data.DataLoader`): ~5 ms of every
    # `import trainctl` else. A PyTorch one that trainctl refuses (`tc.utils.tensorboard`) is
    # refused by the import machinery of trainctl.torch_compat with what to use instead.
    if not name.startswith("__"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except UnsupportedFeatureError as e:
            raise UnsupportedAttributeError(str(e)) from None
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise  # the submodule exists but needs a module that does not
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
