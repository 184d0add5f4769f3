"""Golden outputs of the ported tutorial programs (tests/ported/programs/*.py) under PyTorch.

Each program runs unchanged under torch in a fresh interpreter and a scratch folder; its stdout
is written to ``ported/<program>.txt``. The tests run the same programs under trainctl (imports
rewritten) and compare. Also writes ``ported/torch_mlp.safetensors`` (a small MLP's state_dict,
saved by torch through safetensors) and ``ported/torch_mlp.json`` (its inputs and torch's
outputs), which check that weights converted from PyTorch predict the same in trainctl.

The torch interpreter is this one when it has torch, else ``$TORCH_PYTHON``, else
``/tmp/torchenv/bin/python``. Programs that plot need matplotlib: when the torch interpreter
lacks it, the folder this interpreter (or the repo's .venv) has it in is appended to its path.
"""

import json
import os
import pathlib
import re
import subprocess
import sys
import sysconfig
import tempfile

HERE = pathlib.Path(__file__).parent
REPO = HERE.parents[1]
OUT = HERE / "ported"
sys.path.insert(0, str(REPO))

from tests.ported.runner import PROGRAMS, run_program  # noqa: E402


def torch_python() -> str:
    candidates = [sys.executable, os.environ.get("TORCH_PYTHON"), "/tmp/torchenv/bin/python"]
    for python in filter(None, candidates):
        ok = subprocess.run([python, "-c", "import torch"], capture_output=True).returncode == 0
        if ok:
            return python
    raise SystemExit("gen_ported: no Python with torch found (set TORCH_PYTHON)")


def matplotlib_path() -> list[str]:
    here = sysconfig.get_paths()["purelib"]
    venv = REPO / ".venv" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return [p for p in (here, str(venv / "site-packages")) if pathlib.Path(p).is_dir()]


MLP = r"""
import json, sys
import numpy as np
import torch
from safetensors.torch import save_file

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
x = torch.from_numpy(np.random.RandomState(5).randn(4, 8).astype(np.float32))
save_file(model.state_dict(), sys.argv[1])
with torch.no_grad():
    logits = model(x)
json.dump({"x": x.tolist(), "logits": logits.tolist(), "argmax": logits.argmax(1).tolist(),
           "torch": torch.__version__}, open(sys.argv[2], "w"), indent=1)
"""


def main(only=()):
    """Regenerate every program's output, or only the programs named in ``only``."""
    python = torch_python()
    version = subprocess.run([python, "-c", "import torch; print(torch.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    OUT.mkdir(exist_ok=True)
    programs = sorted(PROGRAMS.glob("*.py"))
    for program in programs:
        if only and program.stem not in only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            text = run_program(program, pathlib.Path(tmp), framework="torch", python=python,
                               extra_path=matplotlib_path())
        # Object addresses change from run to run; keep the fixtures stable.
        text = re.sub(r" object at 0x[0-9a-fA-F]+>", " object at 0x0>", text)
        (OUT / f"{program.stem}.txt").write_text(text)
        print(f"  {program.name}: {len(text.splitlines())} lines")
    if not only:
        subprocess.run([python, "-c", MLP, str(OUT / "torch_mlp.safetensors"),
                        str(OUT / "torch_mlp.json")], check=True)
        (OUT / "torch_mlp.safetensors").chmod(0o644)
    names = [p.stem for p in programs]
    (OUT / "programs.json").write_text(json.dumps({"torch": version, "programs": names},
                                                  indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
