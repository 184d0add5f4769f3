"""Start-up time: ``trainctl --help``, ``import trainctl`` and the API's first use.

Each command is a fresh interpreter (``subprocess``), timed from start to exit; the commands are
interleaved and each runs ``--repeats`` times; medians. Compiled bytecode is cached as in a normal
install: the children run without ``PYTHONDONTWRITEBYTECODE`` and with ``PYTHONPYCACHEPREFIX`` in
the bench cache, after one untimed run each. (This environment sets PYTHONDONTWRITEBYTECODE and
the checkout has no ``__pycache__``, so otherwise every start would recompile trainctl's
sources.)

Rows: ``python -c pass`` (the interpreter alone), ``import numpy``, ``import trainctl`` (lazy:
loads no NumPy), ``import trainctl; trainctl.tensor`` (loads the whole API), ``trainctl --help``
(the console script next to the interpreter when there is one, else ``python -m trainctl.cli``),
and ``import torch`` when installed. A last child checks which heavy modules ``--help`` loaded.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import median  # noqa: E402
from end_to_end import default_cache  # noqa: E402

MAX_IMPORT_OVER_NUMPY = 0.060  # issue 8: import trainctl (API loaded) <= numpy + 60 ms
MAX_HELP = 0.150
NONE_LOADED = "none of numpy, matplotlib, yaml, rich, trainctl.autograd"


def commands() -> dict:
    py = sys.executable
    script = shutil.which("trainctl", path=os.path.dirname(py))
    help_cmd = [script, "--help"] if script else [py, "-m", "trainctl.cli", "--help"]
    cmds = {
        "python -c pass": [py, "-c", "pass"],
        "import numpy": [py, "-c", "import numpy"],
        "import trainctl": [py, "-c", "import trainctl"],
        "import trainctl; trainctl.tensor (API)": [py, "-c", "import trainctl; trainctl.tensor"],
        "trainctl --help": help_cmd,
    }
    try:
        import importlib.util

        if importlib.util.find_spec("torch") is not None:
            cmds["import torch"] = [py, "-c", "import torch"]
    except (ImportError, ValueError):
        pass
    return cmds


def _env(cache: pathlib.Path) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache / "pycache")
    return env


def _time(cmd, env) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


HELP_PROBE = """
import sys
from trainctl.cli import main
try:
    main(["--help"])
except SystemExit:
    pass
names = ("numpy", "matplotlib", "yaml", "rich", "trainctl.autograd")
heavy = [m for m in names if m in sys.modules]
print(",".join(heavy), file=sys.stderr)
"""


def run(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--cache", type=pathlib.Path, default=default_cache())
    args = parser.parse_args(argv)
    env = _env(args.cache)
    cmds = commands()
    for cmd in cmds.values():  # untimed: writes the bytecode cache, warms the file cache
        _time(cmd, env)
    times = {name: [] for name in cmds}
    for _ in range(args.repeats):
        for name, cmd in cmds.items():
            times[name].append(_time(cmd, env))
    med = {k: median(v) for k, v in times.items()}
    probe = subprocess.run([sys.executable, "-c", HELP_PROBE], env=env, capture_output=True,
                           text=True, check=True).stderr.strip()
    rows = [{"case": f"start-up: {name}", "kind": "time", "trainctl": t, "numpy": None,
             "pytorch": None} for name, t in med.items()]
    over = med["import trainctl; trainctl.tensor (API)"] - med["import numpy"]
    targets = [
        {"target": f"`import trainctl` (API loaded) ≤ {MAX_IMPORT_OVER_NUMPY * 1e3:.0f} ms "
                   "beyond `import numpy`",
         "value": f"+{over * 1e3:.0f} ms ({med['import numpy'] * 1e3:.0f} ms for numpy)",
         "met": over <= MAX_IMPORT_OVER_NUMPY},
        {"target": f"`trainctl --help` ≤ {MAX_HELP:.2f} s, without numpy/matplotlib",
         "value": f"{med['trainctl --help']:.3f} s; loads: {probe or NONE_LOADED}",
         "met": med["trainctl --help"] <= MAX_HELP and not ({"numpy", "matplotlib"}
                                                            & set(probe.split(",")))},
    ]
    notes = [f"Start-up: medians of {args.repeats} interleaved runs of each command, with the "
             f"bytecode cached (PYTHONPYCACHEPREFIX); `trainctl --help` is "
             f"`{' '.join(os.path.basename(c) for c in cmds['trainctl --help'])}`."]
    return {"rows": rows, "targets": targets, "notes": notes}


def main(argv=None) -> None:
    result = run(argv)
    for r in result["rows"]:
        print(f"{r['case']:50s} {r['trainctl'] * 1e3:8.1f} ms")
    for t in result["targets"]:
        print(f"  {t['target']}: {t['value']}")


if __name__ == "__main__":
    main()
