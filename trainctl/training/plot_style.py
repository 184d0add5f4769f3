"""The look every trainctl chart shares: one color per split, a palette for overlays, the figure
size, grid and title format, and the one place figures are saved.

Nothing here imports matplotlib at import time; :func:`pyplot` does, with the Agg backend (no
display needed), when a chart is drawn.

Example:
    >>> from trainctl.training.plot_style import SPLIT_COLORS, curve_style, title
    >>> SPLIT_COLORS["val"]
    '#D55E00'
    >>> title("spirals_mlp", "loss")
    'spirals_mlp: loss'
    >>> curve_style(8)  # the 9th curve: the first color again, now dashed
    ('#0072B2', '--')
"""

from __future__ import annotations

import io
from pathlib import Path

from ..autograd.serialization import atomic_write
from ..core.errors import ConfigError

# The Okabe-Ito palette: told apart with the common forms of color blindness, and in grayscale
# by lightness for the first three. A split keeps its color on every chart (loss, metrics, ROC).
SPLIT_COLORS = {"train": "#0072B2", "val": "#D55E00", "test": "#009E73"}
MARK_COLOR = "#444444"      # best epoch, chance lines and other references: neutral
STOP_COLOR = "#CC79A7"      # early stop
# Overlays: Okabe-Ito again, with brown for its yellow (too faint on white).
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
          "#8C564B")
LINESTYLES = ("-", "--", "-.", ":")

FIGSIZE = (7.5, 4.2)        # inches: a run chart, an LR chart
DPI = 100                   # ~750 x 420 pixels: readable in a README, small on disk
GRID = {"alpha": 0.3, "linewidth": 0.6}
FORMATS = ("png", "svg", "pdf")


def split_color(split: str) -> str:
    """The color of a split (``train``, ``val``, ``test``); gray for anything else."""
    return SPLIT_COLORS.get(split, MARK_COLOR)


def curve_style(i: int) -> tuple:
    """``(color, linestyle)`` of the ``i``-th curve of an overlay: distinct for every ``i``.

    The colors cycle first; each further round of colors takes the next line style, and past the
    named styles a dash pattern with a longer dash, so no two curves ever look the same.
    """
    rnd, color = divmod(i, len(COLORS))
    if rnd < len(LINESTYLES):
        return COLORS[color], LINESTYLES[rnd]
    extra = rnd - len(LINESTYLES)
    return COLORS[color], (0, (4.0 + 2.0 * extra, 1.5, 1.0, 1.5))


def title(run_name: str | None, what: str) -> str:
    """``"<run name>: <what>"``, or just ``what`` when the run has no name."""
    return f"{run_name}: {what}" if run_name else what


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (imported here, on first use only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure(size=FIGSIZE, **kwargs):
    """A new figure with constrained layout (labels and outside legends are never cut)."""
    return pyplot().subplots(figsize=size, layout="constrained", **kwargs)


def grid(ax) -> None:
    ax.grid(True, **GRID)


def legend_outside(ax, fontsize="small") -> None:
    """The legend to the right of the axes, where it can hide no data."""
    import textwrap

    handles, labels = ax.get_legend_handles_labels()
    labels = ["\n".join(textwrap.wrap(label, 36)) or label for label in labels]
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0.0, fontsize=fontsize, frameon=False)


def check_format(fmt: str) -> str:
    """``fmt`` lowercased without a dot, if it is png, svg or pdf; else a ConfigError."""
    fmt = str(fmt).lower().lstrip(".")
    if fmt not in FORMATS:
        raise ConfigError(f"plot format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return fmt


def save(fig, path: Path, fmt: str | None = None) -> Path:
    """Write ``fig`` to ``path`` in ``fmt`` (default: from the suffix, else png), close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = check_format(fmt or path.suffix or "png")
    # No dates in svg/pdf, so a chart drawn twice from the same rows gives the same bytes; svg
    # keeps text as text (searchable, smaller).
    metadata = {"Date": None} if fmt == "svg" else ({"CreationDate": None} if fmt == "pdf"
                                                    else None)
    import matplotlib

    try:
        with matplotlib.rc_context({"svg.fonttype": "none"}):
            write_figure(fig, path, dpi=DPI, format=fmt, metadata=metadata)
    finally:
        pyplot().close(fig)
    return path


def write_figure(fig, path: Path, **savefig_args) -> None:
    """``fig.savefig`` into memory, then onto ``path`` atomically: a run stopped while a chart is
    written leaves the previous chart, never half a file."""
    data = io.BytesIO()
    fig.savefig(data, **savefig_args)
    atomic_write(path, data.getvalue())
