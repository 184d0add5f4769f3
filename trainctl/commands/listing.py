"""``trainctl list [KIND [NAME]]``: the components a config can name, from the one registry.

``list`` and ``list KIND`` give one table per kind: each component's first sentence and the
arguments a config can set, with defaults. ``list KIND NAME`` shows one component in full: its
arguments with types and defaults, its docstring and an example config snippet.
"""

from __future__ import annotations

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..config.describe import (
    ComponentInfo,
    describe,
    describe_component,
    example_yaml,
    format_value,
    signature_text,
)
from ..config.registry import KINDS, registry
from ..core.errors import ConfigError

# What each kind's section is, for the table titles.
WHERE = {
    "model": "model:, or an item of Sequential's layers:",
    "loss": "loss:", "optimizer": "optimizer:", "scheduler": "scheduler:",
    "dataset": "data: {train:, val:, test:}", "transform": "a dataset's transform:",
    "sampler": "data: {sampler:}", "metric": "train: {metrics: [...]}",
    "callback": "train: {callbacks: [...]}, loggers in logging: [...]",
}


def run_list(kind: str | None, name: str | None = None, console: Console | None = None) -> None:
    """Print every kind's table, one kind's, or one component in full (``kind`` and ``name``)."""
    from .. import training  # noqa: F401  (registers the metrics and callbacks)

    if kind is not None and kind not in KINDS:
        raise ConfigError(f"unknown kind {kind!r}; expected one of: {', '.join(KINDS)}")
    console = console or Console(highlight=False)
    if name is not None:
        print_component(describe(kind, name), console)
        return
    for k in [kind] if kind else KINDS:
        console.print(kind_table(k))


def kind_table(kind: str) -> Table:
    """One row per component: name, then its first sentence and settable arguments."""
    items = registry(kind).items()
    table = Table(title=f"{kind} ({len(items)}) — in a config: {WHERE[kind]}",
                  caption=f"one in full, with an example: trainctl list {kind} NAME",
                  title_justify="left", caption_justify="left", title_style="bold",
                  show_lines=True, expand=False)
    table.add_column("name", style="bold cyan", no_wrap=True)
    table.add_column("description; arguments a config can set")
    for name, obj in items:
        info = describe_component(kind, name, obj)
        cell = Text(info.summary)
        if info.python_only:
            cell.append(f"\nPython only: {info.python_only}", style="dim")
        elif info.arguments:
            cell.append("\n" + signature_text(info), style="green")
        table.add_row(name, cell)
    return table


def print_component(info: ComponentInfo, console: Console) -> None:
    """One component in full: arguments, docstring, example."""
    console.print(Text.assemble((info.name, "bold cyan"), f"  ({info.kind})"))
    console.print(Text(info.summary))
    console.print()
    if info.arguments:
        table = Table(title="Arguments", title_justify="left", title_style="bold",
                      expand=False)
        table.add_column("name", style="green", no_wrap=True)
        table.add_column("type")
        table.add_column("default")
        table.add_column("note")
        for arg in info.arguments:
            default = "required" if arg.required else format_value(arg.default)
            table.add_row(arg.name, arg.type, Text(default), Text(arg.note))
        console.print(table)
    else:
        console.print("Arguments: none")
    if info.hidden:
        console.print(Text("Not set in a config:", style="bold"))
        for why in dict.fromkeys(info.hidden.values()):
            names = ", ".join(n for n, w in info.hidden.items() if w == why)
            console.print(Padding(Text(f"{names}: {why}"), (0, 0, 0, 2)))
    first, _, rest = info.doc.partition("\n\n")
    body = rest if " ".join(first.split()) == info.summary else info.doc
    if body.strip():
        console.print()
        console.print(Text(reflow(body.strip())))
    console.print()
    if info.python_only:
        console.print(Text(f"Python only: {info.python_only}.", style="bold"))
        return
    example = example_yaml(info, width=min(78, console.width - 2)).rstrip()
    console.print(Text("In a config (replace each <...>):" if "<" in example
                       else "In a config:", style="bold"))
    console.print(Text(example), soft_wrap=True)


def reflow(text: str) -> str:
    """Join the lines of each prose paragraph (so the terminal's width decides where they
    break); code, lists and indented blocks keep their lines."""
    out = []
    for paragraph in text.split("\n\n"):
        lines = paragraph.splitlines()
        prose = all(line and not line[0].isspace() and not line.startswith(("- ", "* ", ">>>"))
                    for line in lines) and not paragraph.rstrip().endswith(":")
        out.append(" ".join(lines) if prose else paragraph)
    return "\n\n".join(out)
