"""The ported tutorial programs run under trainctl and print what they printed under PyTorch.

Each file in ``programs/`` is written against ``import torch``; ``runner.rewrite_imports`` turns
its imports into trainctl's and runs it in a fresh interpreter. Its stdout is compared with the
golden output PyTorch printed (``tests/golden/ported/*.txt``, from ``gen_ported.py``): text must
match exactly, and numbers exactly where the program says so (LR lists, printing, tensors) or
within a tolerance where float32 sums may round the last printed digit differently.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.golden.fixtures import HERE as GOLDEN
from tests.ported.runner import PROGRAMS, compare_outputs, run_program

PROGRAM_FILES = sorted(PROGRAMS.glob("*.py"))
EXACT = (0.0, 0.0)
TRAINING = (1e-4, 1e-5)  # losses printed with 6 decimals after a few hundred float32 steps
FOUR_DECIMALS = (0.0, 1.5e-4)  # tensors printed with 4 decimals: one last-digit flip allowed
TOLERANCE = {
    "autograd_basics": FOUR_DECIMALS,
    "build_model": FOUR_DECIMALS,
    "checkpoint_resume": (1e-4, 1.5e-4),  # losses with 4 and 6 decimals after float32 steps
    "cnn_classifier": (0.0, 1.5e-3),  # running losses printed with 3 decimals
    "custom_function": (1e-4, 1.5e-3),  # 2000 float32 steps; losses rounded to 3 decimals
    "default_device": (1e-4, 1.5e-5),  # float32 losses with 5 decimals
    "graph_nodes": FOUR_DECIMALS,
    "legacy_data": (1e-4, 1.5e-4),  # hand-written SGD; 4 decimals
    "linreg_module": TRAINING,
    "linreg_numpy": TRAINING,
    "math_functions": FOUR_DECIMALS,  # float32 special functions printed with 4 decimals
    "optimization_loop": TRAINING,
    "quickstart": TRAINING,
    "save_load": TRAINING,
    "warm_start": (1e-4, 1.5e-4),  # float32 losses and accuracies with 4-5 decimals
    # exact: datasets_dataloaders, lr_schedulers (LR lists number for number), printing, tensors,
    # meta_device_shapes
}


def golden(name: str) -> str:
    return (GOLDEN / "ported" / f"{name}.txt").read_text()


def test_every_program_has_a_golden_output():
    listed = json.loads((GOLDEN / "ported" / "programs.json").read_text())["programs"]
    assert sorted(listed) == [p.stem for p in PROGRAM_FILES]
    assert len(PROGRAM_FILES) >= 8
    assert set(TOLERANCE) <= set(listed)


def _check_lr_plot(got: str, folder):
    """The StepLR list has 200 entries, equal to torch's number for number; the plot exists."""
    step = [line for line in got.splitlines() if line.startswith("StepLR ")]
    want = [line for line in golden("lr_schedulers").splitlines() if line.startswith("StepLR ")]
    assert step == want and len(eval(step[0].removeprefix("StepLR "))) == 200
    assert (folder / "step_lr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _check_model_file(got: str, folder):
    """``torch.save`` became tc.save: a safetensors file, not a pickle."""
    data = (folder / "model.pth").read_bytes()
    assert data[8:9] == b"{" and b"linear_relu_stack.0.weight" in data[:4096]


EXTRA_CHECKS = {"lr_schedulers": _check_lr_plot, "quickstart": _check_model_file}


@pytest.mark.parametrize("program", PROGRAM_FILES, ids=lambda p: p.stem)
def test_program_prints_what_torch_printed(program, tmp_path):
    got = run_program(program, tmp_path)
    problems = compare_outputs(got, golden(program.stem), *TOLERANCE.get(program.stem, EXACT))
    assert not problems, f"{program.name} differs from PyTorch:\n" + "\n".join(problems[:20])
    if program.stem in EXTRA_CHECKS:
        EXTRA_CHECKS[program.stem](got, tmp_path)


def _torch_python():
    python = os.environ.get("TORCH_PYTHON") or sys.executable
    probe = subprocess.run([python, "-c", "import torch"], capture_output=True)
    return python if probe.returncode == 0 else None


@pytest.mark.slow
@pytest.mark.parametrize("program", PROGRAM_FILES, ids=lambda p: p.stem)
def test_live_against_torch_when_installed(program, tmp_path):
    """Where torch is installed (or ``TORCH_PYTHON`` names an interpreter that has it), run the
    same program under torch now, so a torch upgrade shows up before the goldens are redone."""
    python = _torch_python()
    if python is None:
        pytest.skip("torch is not installed (set TORCH_PYTHON to compare live)")
    from tests.golden.gen_ported import matplotlib_path

    (tmp_path / "torch").mkdir()
    (tmp_path / "trainctl").mkdir()
    want = run_program(program, tmp_path / "torch", framework="torch", python=python,
                       extra_path=matplotlib_path())
    got = run_program(program, tmp_path / "trainctl")
    problems = compare_outputs(got, want, *TOLERANCE.get(program.stem, EXACT))
    assert not problems, "\n".join(problems[:20])
