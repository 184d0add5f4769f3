"""Charts of a run (``lr``, ``loss``, one per metric), of LR schedules, and of an evaluation.

Every chart takes its colors, size and title from :mod:`trainctl.training.plot_style`, so a split
has one color everywhere. The ``*_figure`` functions build a matplotlib Figure without saving it
(what the tests inspect); the ``plot_*`` functions save it (png, svg or pdf, by suffix).
matplotlib is imported only when a chart is drawn, with the Agg backend.

Example:
    >>> from trainctl.training.metrics_log import read_metrics
    >>> from trainctl.training.plots import plot_run
    >>> rows = read_metrics("runs/spirals_mlp/latest/metrics.jsonl")  # doctest: +SKIP
    >>> plot_run("runs/spirals_mlp/latest", rows, fmt="svg")  # doctest: +SKIP
    [PosixPath('runs/spirals_mlp/latest/lr.svg'), PosixPath('.../loss.svg'), ...]
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from . import plot_style as style

SPLITS = ("train", "val", "test")
# Metrics that live in [0, 1] (when their values do): their axis never leaves it.
UNIT_METRICS = ("acc", "precision", "recall", "f1", "auroc", "auc", "average_precision", "iou",
                "dice", "jaccard")
LOG_SPAN = 100.0   # log scale when positive values span more than two decades
R2_FLOOR = -1.0    # R² below this is off the chart (a note says so): the range above matters


# ------------------------------------------------------------------ metrics rows -> series
def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(
        value)


def steps_per_epoch(rows: list[dict]) -> float | None:
    """Optimizer steps per epoch, from the first epoch row; None before an epoch ended."""
    for r in rows:
        if r.get("kind") == "epoch" and r.get("epoch") and r.get("step"):
            return r["step"] / r["epoch"]
    return None


def lr_keys(rows: list[dict]) -> list[str]:
    """``["lr"]``, or ``["lr/0", "lr/1", ...]`` for several param groups."""
    keys = {k for r in rows for k in r if k == "lr" or k.startswith("lr/")}
    return sorted(keys, key=lambda k: (len(k), k))


def lr_samples(rows: list[dict], key: str) -> tuple[list[int], list[float]]:
    """The LR of param group ``key`` at every step the run logged it, by step.

    Both row kinds hold the LR the latest optimizer step used: step rows every
    ``train.log_every`` steps, epoch rows at each epoch's last step. Together, every epoch
    boundary is sampled, so an LR that changes per epoch is known exactly at every step (each
    value held since the previous sample); one that changes per step is exact when logged every
    step, and sampled otherwise.
    """
    by_step = {r["step"]: r[key] for r in rows if _finite(r.get(key)) and _finite(r.get("step"))}
    steps = sorted(by_step)
    return steps, [by_step[s] for s in steps]


def metric_names(rows: list[dict]) -> list[str]:
    """``loss`` first, then the other metrics logged for any split, sorted."""
    names = {k.split("/", 1)[1] for r in rows for k in r if k.split("/", 1)[0] in SPLITS
             and "/" in k}
    return sorted(names, key=lambda n: (n != "loss", n))


def _epoch_series(rows, column: str):
    points = [(r["epoch"], r[column]) for r in rows
              if r.get("kind") == "epoch" and _finite(r.get(column))]
    return [p[0] for p in points], [p[1] for p in points]


def _step_series(rows, column: str, spe: float | None):
    points = [(r["step"] / (spe or 1), r[column]) for r in rows
              if r.get("kind") == "step" and _finite(r.get(column))]
    return [p[0] for p in points], [p[1] for p in points]


# ------------------------------------------------------------------ run charts
def run_figures(rows: list[dict], summary: dict | None = None,
                run_name: str | None = None) -> dict:
    """The run's charts as ``{"lr": Figure, "loss": Figure, "<metric>": Figure, ...}``, unsaved.

    ``summary`` (a run's ``summary.json``) adds the best epoch of its ``monitor`` and an early
    stop; ``run_name`` (default: the summary's ``name``) starts every title.
    """
    summary = summary or {}
    run_name = run_name or summary.get("name")
    spe = steps_per_epoch(rows)
    figures = {}
    if lr_keys(rows):
        figures["lr"] = _lr_figure(rows, run_name, spe)
    for name in metric_names(rows):
        figures[name] = _metric_figure(rows, name, run_name, spe, summary)
    return figures


def plot_run(run_dir, rows: list[dict], fmt: str = "png", summary: dict | None = None) -> list:
    """Write ``lr.<fmt>``, ``loss.<fmt>`` and ``<metric>.<fmt>`` into ``run_dir``.

    ``summary`` defaults to the run's ``summary.json``, when there is one. Returns the paths.
    """
    run_dir = Path(run_dir)
    fmt = style.check_format(fmt)
    if summary is None:
        try:
            summary = json.loads((run_dir / "summary.json").read_text())
        except (OSError, ValueError):
            summary = {}
        summary = summary if isinstance(summary, dict) else {}
    figures = run_figures(rows, summary, summary.get("name") or run_dir.parent.name or None)
    return [style.save(fig, run_dir / f"{name}.{fmt}") for name, fig in figures.items()]


def _epoch_axes(ax, spe: float | None) -> None:
    """x in epochs below, steps above (when an epoch has ended); else steps only."""
    if spe is None:
        ax.set_xlabel("step")
        return
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("epoch")
    ax.set_xlim(left=0)  # every chart of the run starts where training did: they line up
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    top = ax.secondary_xaxis("top", functions=(lambda e: e * spe, lambda s: s / spe))
    top.xaxis.set_major_locator(MaxNLocator(integer=True))
    top.set_xlabel("step", fontsize="small", color=style.MARK_COLOR)
    top.tick_params(labelsize="small", colors=style.MARK_COLOR)


def _lr_figure(rows, run_name, spe):
    fig, ax = style.figure()
    curves = []
    for key in lr_keys(rows):
        steps, values = lr_samples(rows, key)
        if steps:  # steps-pre: each sample's LR drawn back to the previous one (0 for the first)
            curves.append({"label": "lr" if key == "lr" else f"param group {key[3:]}",
                           "steps": [s / (spe or 1) for s in steps], "lrs": values,
                           "start": 0.0, "drawstyle": "steps-pre"})
    _draw_lr_curves(ax, curves, linewidth=1.8)
    # linear, like plot-lr's preview: a log axis would blow up the last steps of a decay to 0
    ax.set_ylabel("learning rate")
    _epoch_axes(ax, spe)
    ax.set_title(style.title(run_name, "learning rate used at each step"), pad=8)
    style.grid(ax)
    if len(curves) > 1:
        style.legend_outside(ax)
    return fig


def _metric_figure(rows, name, run_name, spe, summary):
    fig, ax = style.figure()
    shown = []
    if name == "loss":  # the logged steps: light, behind the epoch curves
        xs, values = _step_series(rows, "train/loss", spe)
        if xs:
            ax.plot(xs, values, color=style.split_color("train"), alpha=0.35, linewidth=0.8,
                    marker="." if len(xs) <= 300 else None, markersize=3,
                    label="train (steps)", zorder=1)
            shown += values
    for split in SPLITS:
        xs, values = _epoch_series(rows, f"{split}/{name}")
        if xs:
            ax.plot(xs, values, color=style.split_color(split), linewidth=1.8,
                    marker="o" if len(xs) <= 30 else None, markersize=4, label=split, zorder=3)
            shown += values
    _mark_best_and_stop(ax, rows, name, summary)
    _y_range(ax, name, shown)
    ax.set_ylabel(name)
    _epoch_axes(ax, spe)
    ax.set_title(style.title(run_name, name), pad=8)
    style.grid(ax)
    style.legend_outside(ax)
    return fig


def _mark_best_and_stop(ax, rows, name, summary) -> None:
    best, monitor = summary.get("best_epoch"), summary.get("monitor")
    if _finite(best) and best > 0:
        ax.axvline(best, color=style.MARK_COLOR, linestyle="--", linewidth=1.0, zorder=2,
                   label=f"best epoch {best}" + (f" ({monitor})" if monitor else ""))
        split, _, metric = str(monitor).partition("/")
        if metric == name:
            xs, values = _epoch_series(rows, str(monitor))
            at = [v for x, v in zip(xs, values) if x == best]
            if at:
                ax.plot([best], at[:1], linestyle="none", marker="*", markersize=14,
                        color=style.split_color(split), markeredgecolor="black",
                        markeredgewidth=0.6, zorder=4, label="_nolegend_")
    reason, epochs = str(summary.get("stop_reason") or ""), summary.get("epochs")
    if "early stop" in reason and _finite(epochs):
        ax.axvline(epochs, color=style.STOP_COLOR, linestyle=":", linewidth=1.8, zorder=2,
                   label=f"early stop (epoch {epochs})")


def _y_range(ax, name: str, values) -> None:
    """Limits that show the informative range: R² floored, [0, 1] metrics kept inside it,
    a log axis for positive values spanning decades."""
    values = [v for v in values if _finite(v)]
    if not values:
        return
    low, high = min(values), max(values)
    if name == "r2" or name.endswith("_r2"):
        shown_low = max(low, R2_FLOOR)
        pad = max(0.05 * (high - shown_low), 0.01)
        ax.set_ylim(R2_FLOOR if low < R2_FLOOR else shown_low - pad, min(high + pad, 1.0 + pad))
        if low < R2_FLOOR:  # a legend entry (outside the axes), so the note hides no data
            ax.plot([], [], linestyle="none",
                    label=f"below {R2_FLOOR:g} not shown\n(lowest {low:.3g})")
    elif any(tag in name for tag in UNIT_METRICS) and 0.0 <= low and high <= 1.0:
        pad = max(0.05 * (high - low), 0.005)
        ax.set_ylim(max(low - pad, 0.0), min(high + pad, 1.0 + pad / 2))
    else:
        _log_if_decades(ax, values)


def _log_if_decades(ax, values) -> None:
    finite = [v for v in values if _finite(v)]
    if finite and min(finite) > 0 and max(finite) / min(finite) > LOG_SPAN:
        ax.set_yscale("log")


# ------------------------------------------------------------------ LR schedules (plot-lr)
def lr_curves_figure(curves: list[dict], log_scale: bool = False, xlabel: str = "step",
                     title: str = "learning-rate schedule"):
    """One chart of LR curves, unsaved. Each curve is ``{"label", "lrs"}`` with optional
    ``"steps"`` (x values), ``"start"`` (x where the first value begins), ``"drawstyle"`` and
    ``"milestones"``. Curve ``i`` gets :func:`~trainctl.training.plot_style.curve_style` ``(i)``.
    """
    fig, ax = style.figure(size=(8.5, 4.5))
    _draw_lr_curves(ax, curves, milestones=len(curves) <= 3)  # more: the dashes are clutter
    if log_scale:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel="learning rate", title=title)
    style.grid(ax)
    style.legend_outside(ax, fontsize="small" if len(curves) <= 12 else "x-small")
    return fig


def _draw_lr_curves(ax, curves: list[dict], linewidth: float = 1.6, milestones: bool = True
                    ) -> None:
    """Draw ``curves`` in the overlay palette. Equal curves (param groups sharing one LR) are
    drawn once, labelled ``a = b``: drawn twice, the second would hide the first."""
    merged: dict = {}
    for curve in curves:
        xs = list(curve.get("steps") or range(len(curve["lrs"])))
        lrs = list(curve["lrs"])
        if curve.get("start") is not None and lrs:
            xs, lrs = [curve["start"], *xs], [lrs[0], *lrs]
        if curve.get("drawstyle") == "steps-post" and len(xs) >= 2:
            # the last value holds for a whole step too: draw it to where that step ends
            xs, lrs = [*xs, 2 * xs[-1] - xs[-2]], [*lrs, lrs[-1]]
        key = (tuple(xs), tuple(lrs), curve.get("drawstyle", "default"))
        merged.setdefault(key, (curve, []))[1].append(curve["label"])
    for i, ((xs, lrs, drawstyle), (curve, labels)) in enumerate(merged.items()):
        color, dashes = style.curve_style(i)
        ax.plot(xs, lrs, label=" = ".join(labels), color=color, linestyle=dashes,
                linewidth=linewidth, drawstyle=drawstyle)
        for m in curve.get("milestones", []) if milestones else ():
            ax.axvline(m, color=color, alpha=0.25, linestyle="--", linewidth=0.8)


def plot_lr_curves(curves: list[dict], out, log_scale: bool = False, xlabel: str = "step",
                   title: str = "learning-rate schedule") -> Path:
    """Draw :func:`lr_curves_figure` into ``out`` (png, svg or pdf, by suffix)."""
    return style.save(lr_curves_figure(curves, log_scale, xlabel, title), Path(out))


# ------------------------------------------------------------------ evaluation charts
def _short(name: str, width: int = 14) -> str:
    return name if len(name) <= width else name[:width - 1] + "…"


def plot_confusion(matrix, names: list[str], out, title: str = "Confusion matrix") -> Path:
    """Draw a confusion matrix (rows: true class, columns: predicted) into ``out``: the counts,
    and beside them each row as a share of its true class (the recall on the diagonal)."""
    import numpy

    matrix = numpy.asarray(matrix)
    n = len(names)
    totals = matrix.sum(axis=1, keepdims=True)
    shares = numpy.divide(matrix, totals, out=numpy.zeros(matrix.shape), where=totals > 0)
    side = min(12.0, max(3.6, 0.45 * n + 2.2))
    fig, axes = style.figure(size=(2 * side + 1.6, side + 0.4), ncols=2)
    labels = [_short(str(name)) for name in names]
    small = 10 if n <= 6 else (8 if n <= 12 else 6)
    for ax, values, what in ((axes[0], matrix, "counts"),
                             (axes[1], shares, "share of each true class")):
        im = ax.imshow(values, cmap="Blues", vmin=0, vmax=None if values is matrix else 1)
        ax.set(xticks=range(n), yticks=range(n), xlabel="predicted", ylabel="true", title=what)
        ax.set_xticklabels(labels, rotation=45 if n > 4 else 0, ha="right" if n > 4 else "center",
                           fontsize=small)
        ax.set_yticklabels(labels, fontsize=small)
        if n <= 20:
            peak = values.max() if values.max() > 0 else 1
            for i in range(n):
                for j in range(n):
                    text = str(values[i, j]) if values is matrix else f"{values[i, j]:.0%}"
                    ax.text(j, i, text, ha="center", va="center", fontsize=small,
                            color="white" if values[i, j] > peak / 2 else "black")
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle(title)
    return style.save(fig, Path(out))


def plot_roc(fpr, tpr, auc: float, out, title: str = "ROC curve", split: str | None = None
             ) -> Path:
    """A ROC curve (true vs false positive rate) with its area and the chance diagonal, in the
    color of ``split``."""
    fig, ax = style.figure(size=(5.5, 5.2))
    ax.plot(fpr, tpr, color=style.split_color(split) if split else style.COLORS[0],
            linewidth=1.8, label=f"model (AUC = {auc:.4f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color=style.MARK_COLOR, linewidth=1.0,
            label="chance (AUC = 0.5)")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), xlabel="false positive rate",
           ylabel="true positive rate (recall)", title=title)
    ax.set_aspect("equal")
    style.grid(ax)
    ax.legend(loc="lower right", fontsize="small")
    return style.save(fig, Path(out))


def plot_precision_recall(precision, recall, ap: float, prevalence: float, out,
                          title: str = "Precision-recall curve", split: str | None = None
                          ) -> Path:
    """A precision-recall curve (steps, as average precision sums it) with the precision of
    guessing (the share of positives), in the color of ``split``."""
    fig, ax = style.figure(size=(5.5, 5.2))
    ax.plot([0, *recall], [precision[0], *precision], drawstyle="steps-pre", linewidth=1.8,
            color=style.split_color(split) if split else style.COLORS[0],
            label=f"model (AP = {ap:.4f})")
    ax.axhline(prevalence, linestyle="--", color=style.MARK_COLOR, linewidth=1.0,
               label=f"chance (positives: {prevalence:.1%})")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), xlabel="recall", ylabel="precision",
           title=title)
    style.grid(ax)
    ax.legend(loc="lower left", fontsize="small")
    return style.save(fig, Path(out))


def plot_residuals(pred, target, out, title: str = "Residuals",
                   names: list[str] | None = None, split: str | None = None) -> Path:
    """Residual (target - prediction) against prediction, one panel per output column (the
    first four), with the zero line: a good model leaves a band around zero with no shape."""
    import numpy

    pred = numpy.asarray(pred, dtype=numpy.float64).reshape(len(pred), -1)
    target = numpy.asarray(target, dtype=numpy.float64).reshape(pred.shape)
    k = min(pred.shape[1], 4)
    fig, axes = style.figure(size=(5 * k + 0.5, 4.6), ncols=k, squeeze=False)
    color = style.split_color(split) if split else style.COLORS[0]
    for j, ax in enumerate(axes[0]):
        residual = target[:, j] - pred[:, j]
        ax.scatter(pred[:, j], residual, s=10 if len(pred) <= 2000 else 3, color=color,
                   alpha=0.6 if len(pred) <= 2000 else 0.3, edgecolors="none")
        ax.axhline(0.0, color=style.MARK_COLOR, linestyle="--", linewidth=1.0)
        name = "" if pred.shape[1] == 1 else (names[j] if names and j < len(names) else str(j))
        ax.set(xlabel="prediction", ylabel="residual (target - prediction)",
               title=f"output {name}" if name else None)
        style.grid(ax)
    more = "" if pred.shape[1] <= k else f" (first {k} of {pred.shape[1]} outputs)"
    fig.suptitle(title + more)
    return style.save(fig, Path(out))
