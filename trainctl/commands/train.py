"""``trainctl train CONFIG``: :func:`trainctl.training.train`, with its status as the exit code.

``--nproc N`` starts N ranks under ``mpiexec`` instead (:mod:`trainctl.training.launcher`).
Under ``mpiexec`` a rank that fails ends every rank of the job with the exit code it would
have had alone (``MPI_Abort``), after saying which rank failed and why.
"""

from __future__ import annotations

import click

from . import EXIT_INTERNAL_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR


def run_train(config, overrides=(), run_dir=None, resume=None, device=None, quiet=False,
              runs_root="runs", trust_code=False, nproc=None) -> int:
    if nproc is not None and nproc > 1:
        from ..training.launcher import launch, train_arguments

        return launch(nproc, train_arguments(config, overrides, run_dir, resume, device, quiet,
                                             runs_root, trust_code))
    from ..core.errors import TrainctlError
    from ..training import train
    from ..training.distributed_run import abort_job

    try:
        summary = train(config, overrides, run_dir=run_dir, resume=resume, device=device,
                        trust_code=trust_code, quiet=quiet, runs_root=runs_root,
                        echo=click.echo)
    except BaseException as e:  # one of several ranks: end them all (no-op in one process)
        code = (EXIT_INTERRUPTED if isinstance(e, KeyboardInterrupt) else
                EXIT_USER_ERROR if isinstance(e, TrainctlError) else EXIT_INTERNAL_ERROR)
        abort_job(e, code)
        raise
    return EXIT_INTERRUPTED if summary["status"] == "interrupted" else EXIT_OK
