"""``trainctl train CONFIG``: :func:`trainctl.training.train`, with its status as the exit code."""

from __future__ import annotations

import click

from . import EXIT_INTERRUPTED, EXIT_OK


def run_train(config, overrides=(), run_dir=None, resume=None, device=None, quiet=False,
              runs_root="runs", trust_code=False) -> int:
    from ..training import train

    summary = train(config, overrides, run_dir=run_dir, resume=resume, device=device,
                    trust_code=trust_code, quiet=quiet, runs_root=runs_root, echo=click.echo)
    return EXIT_INTERRUPTED if summary["status"] == "interrupted" else EXIT_OK
