"""``trainctl generate CHECKPOINT``: :func:`trainctl.training.generate`, printed."""

from __future__ import annotations

import click

from . import EXIT_OK


def run_generate(checkpoint, prompt="", tokens=200, temperature=1.0, top_k=None, seed=None,
                 trust_code=False) -> int:
    from ..training import generate

    result = generate(checkpoint, prompt=prompt, tokens=tokens, temperature=temperature,
                      top_k=top_k, seed=seed, trust_code=trust_code)
    click.echo(result["text"])
    return EXIT_OK
