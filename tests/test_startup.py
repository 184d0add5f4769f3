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
                        "tc.optim.lr_scheduler.StepLR, tc.utils.data.DataLoader\n"
                        "tc.optim.simulate_lr")
    assert {"trainctl.optim.lr_scheduler", "trainctl.data"} <= mods


def test_random_numbers_still_work_and_repeat_after_the_lazy_import():
    code = ("import trainctl as tc\n"
            "tc.manual_seed(3); a = tc.randn(4).tolist()\n"
            "tc.manual_seed(3); b = tc.randn(4).tolist()\n"
            "assert a == b, (a, b)")
    assert "numpy.random" in loaded_after(code)
