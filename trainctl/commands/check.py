"""``trainctl check CONFIG``: validate, show the resolved config and dry-run the model."""

from __future__ import annotations

import yaml
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from ..config import load_config
from ..config.build import (
    build_loss,
    build_model,
    build_optimizer,
    build_scheduler,
    example_batch,
    example_dataset_size,
)
from ..config.preview import dry_run
from ..config.registry import registry
from ..core import random as tc_random


def run_check(path: str, overrides) -> None:
    console = Console()
    cfg = load_config(path, overrides)
    console.print(f"[bold]{path}[/bold] (resolved)")
    console.print(Syntax(yaml.safe_dump(dict(cfg), sort_keys=False), "yaml"))

    tc_random.manual_seed(cfg["seed"])
    for i, name in enumerate(cfg["train"]["metrics"]):
        try:
            registry("metric").get(name)
        except Exception as e:
            raise cfg.error(("train", "metrics", i), str(e)) from None
    model = build_model(cfg)
    loss_fn = build_loss(cfg)
    optimizer = build_optimizer(cfg, model)
    size = example_dataset_size(cfg)
    batches = 1 if size is None else max(1, -(-size // cfg["data"]["batch_size"]))
    build_scheduler(cfg, optimizer, steps_per_epoch=batches)
    x, y, note = example_batch(cfg)
    rows, out = dry_run(model, x, cfg)
    if y is not None:
        try:
            loss_fn(out, y)
        except Exception as e:
            raise cfg.error(("loss",), f"{type(loss_fn).__name__} cannot score the model's "
                                       f"output {tuple(out.shape)} against targets "
                                       f"{tuple(y.shape)}: {e}") from None

    table = Table(title="model", title_justify="left")
    table.add_column("layer")
    table.add_column("type")
    table.add_column("output shape")
    table.add_column("parameters", justify="right")
    for layer_path, kind, shape, params in rows:
        shape_text = "-" if shape is None else str(list(shape))
        table.add_row(layer_path, kind, shape_text, f"{params:,}")
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    console.print(table)
    console.print(f"total parameters: {total:,} (trainable {trainable:,})")
    if note:
        console.print(f"[yellow]note:[/yellow] {note}")
    console.print(f"[green]config OK[/green]: {path}")
