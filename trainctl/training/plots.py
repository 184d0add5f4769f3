"""PNG charts of a run (``lr.png``, ``loss.png``, one per metric) and of LR schedules.

matplotlib is imported here only, with the Agg backend, so nothing needs a display and the
commands that do not plot never pay for importing it.
"""

from __future__ import annotations

from pathlib import Path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _series(rows, kind: str, key: str):
    points = [(r["step"], r[key]) for r in rows if r.get("kind") == kind and r.get(key) is not None]
    return [p[0] for p in points], [p[1] for p in points]


def _lr_keys(rows) -> list[str]:
    keys = []
    for r in rows:
        for k in r:
            if (k == "lr" or k.startswith("lr/")) and k not in keys:
                keys.append(k)
    return keys


def plot_run(run_dir: Path, rows: list[dict]) -> list[Path]:
    """Write lr.png, loss.png and <metric>.png into ``run_dir``; returns their paths."""
    plt = _pyplot()
    run_dir = Path(run_dir)
    written = []

    fig, ax = plt.subplots(figsize=(7, 4))
    for key in _lr_keys(rows):
        steps, values = _series(rows, "step", key)
        e_steps, e_values = _series(rows, "epoch", key)
        merged = sorted(set(zip(steps + e_steps, values + e_values)))
        if merged:
            ax.plot([s for s, _ in merged], [v for _, v in merged],
                    label="lr" if key == "lr" else f"group {key.split('/')[1]}")
    ax.set(xlabel="step", ylabel="learning rate", title="Learning rate")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    written.append(_save(fig, run_dir / "lr.png", plt))

    metric_names = sorted({k.split("/", 1)[1] for r in rows for k in r
                           if k.startswith(("train/", "val/"))})
    for name in metric_names:
        fig, ax = plt.subplots(figsize=(7, 4))
        if name == "loss":
            steps, values = _series(rows, "step", "train/loss")
            if steps:
                ax.plot(steps, values, alpha=0.4, label="train (logged steps)")
        shown = []
        for split, marker in (("train", "o"), ("val", "s")):
            steps, values = _series(rows, "epoch", f"{split}/{name}")
            if steps:
                ax.plot(steps, values, marker=marker if len(steps) <= 40 else None,
                        label=f"{split} (epoch)")
                shown += values
        _auto_log_scale(ax, shown)
        ax.set(xlabel="step", ylabel=name, title=name)
        ax.legend(loc="best")
        ax.grid(alpha=0.3)
        written.append(_save(fig, run_dir / f"{name}.png", plt))
    return written


def _auto_log_scale(ax, values) -> None:
    """Use a log axis when positive values span more than three orders of magnitude."""
    finite = [v for v in values
              if isinstance(v, (int, float)) and v == v and abs(v) != float("inf")]
    if finite and min(finite) > 0 and max(finite) / min(finite) > 1e3:
        ax.set_yscale("log")


def _save(fig, path: Path, plt) -> Path:
    if fig.get_layout_engine() is None:  # figures made with layout="constrained" keep theirs
        fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_lr_curves(curves: list[dict], out: Path, log_scale: bool = False,
                   xlabel: str = "step") -> Path:
    """One chart of LR curves: each ``{"label", "lrs", "milestones"?}`` is one line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for curve in curves:
        xs = curve.get("steps") or list(range(len(curve["lrs"])))
        (line,) = ax.plot(xs, curve["lrs"], label=curve["label"],
                          drawstyle=curve.get("drawstyle", "default"))
        for m in curve.get("milestones", []):
            ax.axvline(m, color=line.get_color(), alpha=0.25, linestyle="--")
    if log_scale:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel="learning rate", title="Learning-rate schedule")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return _save(fig, out, plt)


def _short(name: str, width: int = 14) -> str:
    return name if len(name) <= width else name[:width - 1] + "…"


def plot_confusion(matrix, names: list[str], out: Path, title: str = "Confusion matrix") -> Path:
    """Draw a confusion matrix (rows: true class, columns: predicted) into ``out``: the counts,
    and beside them each row as a share of its true class (the recall on the diagonal)."""
    import numpy

    plt = _pyplot()
    matrix = numpy.asarray(matrix)
    n = len(names)
    totals = matrix.sum(axis=1, keepdims=True)
    shares = numpy.divide(matrix, totals, out=numpy.zeros(matrix.shape), where=totals > 0)
    side = min(12.0, max(3.6, 0.45 * n + 2.2))
    fig, axes = plt.subplots(1, 2, figsize=(2 * side + 1.6, side + 1.0), layout="constrained")
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
    return _save(fig, out, plt)


def plot_roc(fpr, tpr, auc: float, out: Path, title: str = "ROC curve") -> Path:
    """A ROC curve (true vs false positive rate) with its area and the chance diagonal."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot(fpr, tpr, drawstyle="default", label=f"model (AUC = {auc:.4f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="gray", label="chance (AUC = 0.5)")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), xlabel="false positive rate",
           ylabel="true positive rate (recall)", title=title)
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return _save(fig, out, plt)


def plot_precision_recall(precision, recall, ap: float, prevalence: float, out: Path,
                          title: str = "Precision-recall curve") -> Path:
    """A precision-recall curve (steps, as average precision sums it) with the precision of
    guessing (the share of positives)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, *recall], [precision[0], *precision], drawstyle="steps-pre",
            label=f"model (AP = {ap:.4f})")
    ax.axhline(prevalence, linestyle="--", color="gray",
               label=f"chance (positives: {prevalence:.1%})")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), xlabel="recall", ylabel="precision",
           title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    return _save(fig, out, plt)


def plot_residuals(pred, target, out: Path, title: str = "Residuals",
                   names: list[str] | None = None) -> Path:
    """Residual (target - prediction) against prediction, one panel per output column (the
    first four), with the zero line: a good model leaves a band around zero with no shape."""
    import numpy

    plt = _pyplot()
    pred = numpy.asarray(pred, dtype=numpy.float64).reshape(len(pred), -1)
    target = numpy.asarray(target, dtype=numpy.float64).reshape(pred.shape)
    k = min(pred.shape[1], 4)
    fig, axes = plt.subplots(1, k, figsize=(5 * k + 0.5, 4.6), squeeze=False,
                             layout="constrained")
    for j, ax in enumerate(axes[0]):
        residual = target[:, j] - pred[:, j]
        ax.scatter(pred[:, j], residual, s=10 if len(pred) <= 2000 else 3,
                   alpha=0.6 if len(pred) <= 2000 else 0.3, edgecolors="none")
        ax.axhline(0.0, color="gray", linestyle="--")
        name = "" if pred.shape[1] == 1 else (names[j] if names and j < len(names) else str(j))
        ax.set(xlabel="prediction", ylabel="residual (target - prediction)",
               title=f"output {name}" if name else None)
        ax.grid(alpha=0.3)
    more = "" if pred.shape[1] <= k else f" (first {k} of {pred.shape[1]} outputs)"
    fig.suptitle(title + more)
    return _save(fig, out, plt)
