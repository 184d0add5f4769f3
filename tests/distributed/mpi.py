"""Running a small script under ``mpiexec -n N`` from a test.

``mpiexec`` is the one installed next to the test's Python (the ``mpich`` wheel of the ``mpi``
extra puts it in the virtual environment's ``bin``): a missing one fails the test, it is never
skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent / "scripts"
ROOT = Path(__file__).resolve().parents[2]


def mpiexec() -> str:
    path = Path(sys.executable).parent / "mpiexec"
    assert path.exists(), (f"{path} is missing: install the mpi extra into this environment "
                           "(pip install -e '.[dev]' or '.[mpi]')")
    return str(path)


def run_script(script: str, *args: str, nproc: int | None = 2, timeout: float = 60,
               check: bool = True) -> subprocess.CompletedProcess:
    """Run ``scripts/<script>`` under ``mpiexec -n nproc`` (plain Python when nproc is None)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    command = [sys.executable, str(SCRIPTS / script), *args]
    if nproc is not None:
        command = [mpiexec(), "-n", str(nproc), *command]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=ROOT)
    if check:
        assert proc.returncode == 0, f"{' '.join(command)}\n{proc.stdout}\n{proc.stderr}"
    return proc
