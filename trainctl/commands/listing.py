"""``trainctl list [KIND]``: the components a config can name, from the one registry."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ..config.registry import KINDS, describe, registry
from ..core.errors import ConfigError


def run_list(kind: str | None) -> None:
    from .. import training  # noqa: F401  (registers the metrics and callbacks)

    if kind is not None and kind not in KINDS:
        raise ConfigError(f"unknown kind {kind!r}; expected one of: {', '.join(KINDS)}")
    console = Console()
    for k in [kind] if kind else KINDS:
        table = Table(title=f"{k} ({len(registry(k).names())})", title_justify="left",
                      show_lines=False, expand=False)
        table.add_column("name", style="bold cyan", no_wrap=True)
        table.add_column("arguments")
        table.add_column("description")
        for name, obj in registry(k).items():
            signature, doc = describe(obj)
            table.add_row(name, signature, doc)
        console.print(table)
