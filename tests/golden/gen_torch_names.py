"""Write ``torch_names.json``: the public names of the ``torch`` namespace that a ported program
may touch, from the installed torch (2.13). ``tests/test_torch_names.py`` checks that trainctl
implements each one or refuses it with its one-line error.

Needs torch only: ``python tests/golden/gen_torch_names.py`` or
``python tests/golden/make_golden.py torch_names``.

The rule, over ``dir(torch)`` without the names that start with ``_``:

- ``functions``: the callables that are not classes (Python functions, builtins, ``lru_cache``
  wrappers, operator packets), every one: a name that is only an internal kernel
  (``cudnn_convolution``) must fail as clearly as ``sinh`` once did.
- ``classes``: the classes, except the ``pybind11`` types of TorchScript's IR (``Graph``,
  ``Node``, ``ScriptModule``, ``FileCheck``...: made by the JIT, never by user code).
- ``modules``: the submodules of torch (``torch.nn``, ``torch.jit``...; not ``torch.os``).
- ``dtypes``: the ``torch.dtype`` objects (``torch.float32``, ``torch.bfloat16``...).
- ``special``: the functions of ``torch.special`` (``expit``, ``gammaln``, ``i0``...).
"""

import json
import pathlib
import types

HERE = pathlib.Path(__file__).parent


def classify(torch) -> dict:
    found = {"functions": [], "classes": [], "modules": [], "dtypes": []}
    for name in sorted(dir(torch)):
        if name.startswith("_"):
            continue
        value = getattr(torch, name)
        if isinstance(value, types.ModuleType):
            if value.__name__.startswith("torch."):
                found["modules"].append(name)
        elif isinstance(value, torch.dtype):
            found["dtypes"].append(name)
        elif isinstance(value, type):
            if type(value).__name__ != "pybind11_type":
                found["classes"].append(name)
        elif callable(value):
            found["functions"].append(name)
    found["special"] = [name for name in sorted(dir(torch.special))
                        if not name.startswith("_") and callable(getattr(torch.special, name))
                        and not isinstance(getattr(torch.special, name), (type, types.ModuleType))]
    return found


def main():
    import torch

    found = classify(torch)
    path = HERE / "torch_names.json"
    path.write_text(json.dumps({"torch": torch.__version__, **found}, indent=1) + "\n")
    print(f"wrote {path} with torch {torch.__version__}: "
          + ", ".join(f"{len(v)} {k}" for k, v in found.items()))


if __name__ == "__main__":
    main()
