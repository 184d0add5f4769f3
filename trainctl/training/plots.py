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


def plot_confusion(matrix, names: list[str], out: Path) -> Path:
    """Draw a confusion matrix (rows: true class, columns: predicted) into ``out``."""
    plt = _pyplot()
    n = len(names)
    fig, ax = plt.subplots(figsize=(max(4, 0.5 * n + 2), max(3.5, 0.5 * n + 1.5)))
    im = ax.imshow(matrix, cmap="Blues")
    ax.set(xticks=range(n), yticks=range(n), xticklabels=names, yticklabels=names,
           xlabel="predicted", ylabel="true", title="Confusion matrix")
    if n <= 20:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    fig.colorbar(im, ax=ax)
    return _save(fig, out, plt)
