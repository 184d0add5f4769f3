"""``report.html``: one self-contained page per run, to open in a browser, attach or archive.

It shows the run's name and status, the summary (best and final metrics, checkpoints), every
chart of the run directory, the metrics of each epoch, the config exactly as it ran, and the
versions it ran with. Images are embedded as ``data:`` URIs and the CSS is inline: the page needs
no other file and loads nothing from the network (it holds no script).

Example:
    >>> from trainctl.training.html_report import write_html_report
    >>> write_html_report("runs/linreg/20260101-120000")  # doctest: +SKIP
    PosixPath('runs/linreg/20260101-120000/report.html')
"""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path

from ..autograd import serialization
from .metrics_log import read_metrics
from .run_dir import naming

IMAGE_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}
# Folders of a run whose files are not the run's charts.
SKIPPED = {"tensorboard", "mlruns"}
STATUS_COLORS = {"completed": "#1a7f37", "pruned": "#8250df", "interrupted": "#9a6700",
                 "failed": "#cf222e", "running": "#0969da"}

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
       margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 4px; } h2 { font-size: 1.2em; margin: 28px 0 8px;
     border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.status { color: #fff; border-radius: 10px; padding: 2px 10px; font-size: 0.8em;
          vertical-align: middle; }
.muted { color: #59636e; } .error { color: #cf222e; white-space: pre-wrap; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: right; }
th { background: #f6f8fa; position: sticky; top: 0; }
td.key, th.key { text-align: left; }
tr.best td { background: #dafbe1; font-weight: 600; }
.scroll { max-height: 480px; overflow: auto; border: 1px solid #d0d7de; display: inline-block; }
.scroll table { border: none; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 16px; }
figure { margin: 0; } figure img { width: 100%; height: auto; border: 1px solid #d0d7de; }
figcaption { font-size: 0.85em; color: #59636e; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: 12px; overflow: auto;
      font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
"""


def write_html_report(run_dir, summary: dict | None = None) -> Path:
    """Write ``<run_dir>/report.html`` from the run's files and return its path.

    Args:
        run_dir: the run directory (``config.yaml``, ``metrics.jsonl``, charts).
        summary: the run's summary (default: its ``summary.json``).
    """
    run_dir = Path(run_dir)
    if summary is None:
        summary = _read_json(run_dir / "summary.json")
    path = run_dir / "report.html"
    with naming(path):
        serialization.atomic_write(path, render(run_dir, summary).encode())
    return path


def render(run_dir, summary: dict) -> str:
    """The page of :func:`write_html_report`, as text."""
    run_dir = Path(run_dir)
    name = str(summary.get("name") or run_dir.parent.name)
    rows = [r for r in read_metrics(run_dir / "metrics.jsonl") if r["kind"] == "epoch"]
    config = run_dir / "config.yaml"
    config_text = config.read_text(encoding="utf-8", errors="replace") if config.is_file() else ""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(name)} · trainctl report</title>",
        f"<style>{CSS}</style></head><body>",
        _header(name, run_dir, summary),
        "<h2>Summary</h2>", _summary_table(summary),
        "<h2>Charts</h2>", _plots(run_dir),
        f"<h2>Metrics per epoch ({len(rows)})</h2>", _metrics_table(rows, summary),
        "<h2>Environment</h2>", _environment(summary),
        "<h2>Config</h2>",
        f"<pre>{escape(config_text)}</pre>" if config_text else '<p class="muted">none</p>',
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _header(name: str, run_dir: Path, summary: dict) -> str:
    status = str(summary.get("status") or "unknown")
    color = STATUS_COLORS.get(status, "#59636e")
    why = summary.get("stop_reason")
    lines = [f'<h1>{escape(name)} <span class="status" style="background:{color}">'
             f"{escape(status)}</span></h1>",
             f'<p class="muted">{escape(str(run_dir))}'
             + (f" — {escape(str(why))}" if why else "") + "</p>"]
    if summary.get("error"):
        lines.append(f'<p class="error">{escape(str(summary["error"]))}</p>')
    return "\n".join(lines)


def _summary_table(summary: dict) -> str:
    items = [("epochs", summary.get("epochs")), ("steps", summary.get("steps")),
             ("time", f"{summary['time_s']:.1f} s" if _is_number(summary.get("time_s")) else None)]
    if summary.get("best_value") is not None:
        items.append((f"best {summary.get('monitor')}",
                      f"{_fmt(summary['best_value'])} at epoch {summary.get('best_epoch')}"))
    final = summary.get("final") or {}
    items += [(f"final {k}", _fmt(v)) for k, v in final.items() if k not in ("epoch", "step")]
    items += [("best checkpoint", summary.get("best_checkpoint")),
              ("newest checkpoint", summary.get("newest_checkpoint"))]
    body = "".join(f'<tr><td class="key">{escape(str(k))}</td>'
                   f'<td class="key">{escape(str(v))}</td></tr>'
                   for k, v in items if v is not None)
    return f"<table>{body}</table>"


def plot_files(run_dir) -> list[Path]:
    """The charts of a run directory (PNG and SVG, subfolders included): the loss first, the
    learning rate last, the others by name between them."""
    run_dir = Path(run_dir)

    def order(p: Path):
        rank = {"loss": 0, "lr": 2}.get(p.stem, 1) if p.parent == run_dir else 3
        return rank, str(p.relative_to(run_dir))

    return sorted((p for p in run_dir.rglob("*") if p.suffix.lower() in IMAGE_TYPES
                   and p.is_file() and not SKIPPED & set(p.relative_to(run_dir).parts)),
                  key=order)


def _plots(run_dir: Path) -> str:
    figures = []
    for path in plot_files(run_dir):
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        label = escape(str(path.relative_to(run_dir)))
        figures.append(f'<figure><img alt="{label}" src="data:{IMAGE_TYPES[path.suffix.lower()]};'
                       f'base64,{data}"><figcaption>{label}</figcaption></figure>')
    others = sorted(p.name for p in run_dir.glob("*.pdf"))
    note = (f'<p class="muted">PDF charts beside this file: {escape(", ".join(others))}</p>'
            if others else "")
    if not figures:
        return note or '<p class="muted">no charts</p>'
    return f'<div class="plots">{"".join(figures)}</div>{note}'


def _metrics_table(rows: list[dict], summary: dict) -> str:
    if not rows:
        return '<p class="muted">no epoch finished</p>'
    columns = ["epoch", "step", "time"]
    for row in rows:
        columns += [k for k in row if k not in columns and k != "kind"]
    best = summary.get("best_epoch")
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cls = ' class="best"' if best is not None and row["epoch"] == best else ""
        cells = "".join(f"<td>{escape(_fmt(row.get(c)))}</td>" for c in columns)
        body.append(f"<tr{cls}>{cells}</tr>")
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _environment(summary: dict) -> str:
    versions = summary.get("versions") or {}
    items = [(k, v) for k, v in versions.items()] if isinstance(versions, dict) else []
    if not items:
        return '<p class="muted">not recorded</p>'
    body = "".join(f'<tr><td class="key">{escape(str(k))}</td>'
                   f'<td class="key">{escape(str(v))}</td></tr>' for k, v in items)
    return f"<table>{body}</table>"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fmt(value) -> str:
    if value is None:
        return ""
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
