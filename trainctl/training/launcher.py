"""``trainctl train --nproc N``: start the N ranks of a data-parallel run on this machine.

It runs ``mpiexec -n N <python> -m trainctl.cli train ...`` (the ``mpiexec`` next to this
Python, the one the ``mpich`` wheel installs, else the first on ``PATH``), waits for it and
returns its exit code. Ctrl-C and SIGTERM are passed on to ``mpiexec`` once per signal (it is
started in a session of its own, so a terminal's Ctrl-C does not reach it twice), and
``mpiexec`` passes them to every rank: the first stops the ranks after the current step with a
checkpoint, a second stops them at once.

Example:
    >>> mpiexec_path().name  # doctest: +SKIP
    'mpiexec'
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

from ..core.errors import ConfigError
from ..distributed.process_group import launched_world_size


def mpiexec_path() -> Path:
    """The ``mpiexec`` to start ranks with: next to ``sys.executable``, else on ``PATH``."""
    here = Path(sys.executable).parent / "mpiexec"
    if here.exists():
        return here
    found = shutil.which("mpiexec")
    if found is None:
        raise ConfigError("--nproc needs an MPI launcher and none was found (no mpiexec next to "
                          f"{sys.executable} or on PATH): pip install 'trainctl[mpi]'")
    return Path(found)


def train_arguments(config, overrides=(), run_dir=None, resume=None, device=None, quiet=False,
                    runs_root="runs", trust_code=False) -> list[str]:
    """The ``trainctl train`` arguments each rank is started with (``--nproc`` left out)."""
    args = [str(config)] if config is not None else []
    for text in overrides:
        args += ["--set", text]
    for flag, value in (("--run-dir", run_dir), ("--resume", resume), ("--device", device)):
        if value is not None:
            args += [flag, str(value)]
    args += ["--runs-root", str(runs_root)]
    args += ["--quiet"] if quiet else []
    args += ["--trust-code"] if trust_code else []
    return args


def launch(nproc: int, arguments: list[str]) -> int:
    """Run ``trainctl train <arguments>`` on ``nproc`` ranks under ``mpiexec``; its exit code.

    A rank ended by a signal gives ``128 + signal``, as a shell reports it.
    """
    if launched_world_size() > 1:  # each rank would start a job of its own
        raise ConfigError("--nproc starts mpiexec itself: leave it out when the command is "
                          "already started by mpiexec or srun")
    command = [str(mpiexec_path()), "-n", str(nproc), sys.executable, "-m", "trainctl.cli",
               "train", *arguments]
    proc = subprocess.Popen(command, start_new_session=True)

    def forward(signum, frame):
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code
