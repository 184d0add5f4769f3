"""``trainctl predict CHECKPOINT INPUT``: :func:`trainctl.training.predict`, written to a file,
with a short summary."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from ..core.errors import ConfigError
from . import EXIT_OK


def run_predict(checkpoint, input, out=None, batch_size=256, proba=False,
                trust_code=False) -> int:
    from ..training import predict
    from ..training.predict import write_predictions

    source = Path(input)
    if out is None:  # beside nothing the user owns: a new file in the current folder
        out = Path(f"{source.stem if source.is_file() else source.name}-predictions.csv")
        if out.exists():
            raise ConfigError(f"{out} exists; trainctl never writes over a file it did not "
                              "create: choose another with --out")
    result = predict(checkpoint, input, batch_size=batch_size, proba=proba,
                     trust_code=trust_code)
    path = write_predictions(result, Path(out))
    click.echo(f"{result['rows']} predictions ({result['task']}) from {input} -> {path}")
    if result["task"] in ("classification", "binary"):
        counts = Counter(result["prediction"])
        click.echo("predicted: " + ", ".join(f"{name} {counts[name]}"
                                             for name in result["classes"] if counts[name]))
    elif result["task"] == "regression":
        values = [v if isinstance(v, float) else v[0] for v in result["prediction"]]
        click.echo(f"predicted values: min {min(values):.4g}, mean "
                   f"{sum(values) / len(values):.4g}, max {max(values):.4g}")
    return EXIT_OK
