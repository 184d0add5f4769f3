"""``trainctl.utils``: ``utils.data`` mirrors ``torch.utils.data``."""


def __getattr__(name: str):
    # Loaded on first use (`tc.utils.data.DataLoader`): ~5 ms of every `import trainctl` else.
    if name == "data":  # importlib: `from . import data` would ask this function again
        import importlib

        return importlib.import_module(f"{__name__}.data")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
