"""What start-up imports: ``trainctl --help`` and ``import trainctl`` stay light.

Each check runs a fresh interpreter and reads ``sys.modules`` at the end (behaviour, not timing:
the times are measured by ``bench/startup.py``).
"""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def loaded_after(code: str, env=None) -> set:
    """The modules a fresh interpreter has loaded after running ``code``."""
    probe = code + "\nimport sys\nprint('MODULES', *sorted(sys.modules), file=sys.stderr)"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    line = [x for x in proc.stderr.splitlines() if x.startswith("MODULES ")][-1]
    return set(line.split()[1:])


HELP = """
from trainctl.cli import main
try:
    main(["--help"])
except SystemExit as e:
    assert e.code in (0, None), e.code
"""


def test_help_imports_neither_numpy_nor_matplotlib():
    mods = loaded_after(HELP)
    assert "trainctl.cli" in mods
    for heavy in ("numpy", "matplotlib", "yaml", "rich", "trainctl.autograd"):
        assert heavy not in mods, heavy


def test_import_trainctl_alone_loads_no_numpy():
    mods = loaded_after("import trainctl")
    assert "numpy" not in mods and "trainctl._api" not in mods


@pytest.mark.parametrize("use", ["trainctl.tensor", "trainctl.nn.Linear",
                                 "trainctl.utils.data.DataLoader"])
def test_loading_the_api_skips_heavy_and_lazy_modules(use):
    mods = loaded_after(f"import trainctl\n{use}")
    assert "numpy" in mods and "trainctl.autograd" in mods
    for heavy in ("matplotlib", "yaml", "click", "rich", "safetensors", "urllib.request",
                  "http.client", "tarfile", "gzip",
                  "numpy.random"):  # drawn lazily: trainctl.random makes its generator late
        assert heavy not in mods, heavy


def test_schedulers_data_and_json_load_on_first_use():
    mods = loaded_after("import trainctl\ntrainctl.tensor")
    for lazy in ("trainctl.optim.lr_scheduler", "trainctl.data", "json"):
        assert lazy not in mods, lazy
    mods = loaded_after("import trainctl as tc\n"
                        "tc.optim.lr_scheduler.StepLR, tc.utils.data.DataLoader")
    assert {"trainctl.optim.lr_scheduler", "trainctl.data"} <= mods


def test_random_numbers_still_work_and_repeat_after_the_lazy_import():
    code = ("import trainctl as tc\n"
            "tc.manual_seed(3); a = tc.randn(4).tolist()\n"
            "tc.manual_seed(3); b = tc.randn(4).tolist()\n"
            "assert a == b, (a, b)")
    assert "numpy.random" in loaded_after(code)


LAZY_PACKAGES = ["trainctl.nn", "trainctl.optim", "trainctl.data", "trainctl.utils.data"]


def test_import_loads_no_layer_optimizer_or_dataset_code():
    # The issue-12 import budget (bench/startup.py times it): these packages are tables of names
    # until a name is used.
    mods = loaded_after("import numpy, trainctl, trainctl.nn, trainctl.optim, trainctl.utils.data\n"
                        "trainctl.tensor")
    inside = sorted(m for m in mods if m.startswith(("trainctl.nn.", "trainctl.optim.",
                                                     "trainctl.data.")))
    assert inside == [], inside
    assert {"trainctl.nn", "trainctl.optim", "trainctl.utils.data"} <= mods
    assert "trainctl.data" not in mods  # tc.utils.data asks it for a name on first use


NAMES_RESOLVE = """
import importlib
pkg = importlib.import_module({name!r})
names = set(pkg.__all__)
assert names <= set(dir(pkg)), sorted(names - set(dir(pkg)))
for n in sorted(set(dir(pkg)) - {{"__getattr__", "__dir__"}}):
    getattr(pkg, n)  # every listed name resolves, not only those in __all__
star = {{}}
exec("from {name} import *", star)
assert set(star) - {{"__builtins__"}} == names, sorted(set(star) ^ names)
"""


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_name_of_a_lazy_package_resolves(name):
    loaded_after(NAMES_RESOLVE.format(name=name))  # a fresh interpreter: nothing loaded early


def test_missing_names_still_raise_attribute_error():
    import trainctl.nn
    import trainctl.utils.data

    for pkg in (trainctl.nn, trainctl.optim, trainctl.data, trainctl.utils.data):
        with pytest.raises(AttributeError, match=f"module '{pkg.__name__}' has no attribute"):
            pkg.NoSuchLayer  # noqa: B018
        assert not hasattr(pkg, "_private")


def test_lazy_tables_list_every_layer_optimizer_and_dataset():
    # The tables in the packages' __init__ are written by hand; what a config can name is found
    # by walking them (trainctl/config/builtins.py), so a class missing here is not nameable.
    import importlib
    import inspect
    import pkgutil

    import trainctl.data
    import trainctl.nn
    import trainctl.optim

    kinds = {trainctl.nn: trainctl.nn.Module, trainctl.optim: trainctl.optim.Optimizer,
             trainctl.data: (trainctl.data.Dataset, trainctl.data.Sampler)}
    for pkg, base in kinds.items():
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if ".lr_scheduler" in info.name:  # its own package, imported whole
                continue
            module = importlib.import_module(info.name)
            for cls_name, cls in vars(module).items():
                # nn.parallel's DistributedDataParallel wraps a model: tc.nn.parallel's, no layer
                if (inspect.isclass(cls) and issubclass(cls, base) and not cls_name.startswith("_")
                        and cls.__module__ == info.name and info.name != f"{pkg.__name__}.models"
                        and not info.name.startswith("trainctl.nn.parallel")):
                    assert getattr(pkg, cls_name) is cls, f"{info.name}.{cls_name}"
                    assert cls_name in dir(pkg), f"{info.name}.{cls_name}"
