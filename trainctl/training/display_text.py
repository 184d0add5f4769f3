"""How the training display writes names and numbers, so every line of it fits 60-80 columns.

Metric names are abbreviated the same way everywhere (:func:`abbreviate`): the split
(``train`` -> ``tr``, ``val`` -> ``va``, ``test`` -> ``te``), then each ``_``-separated word of
the metric by :data:`WORDS` or, when it is not there, kept up to 5 letters and cut to its first
4 beyond that: ``train/accuracy`` -> ``tr acc``, ``val/balanced_accuracy`` -> ``va bal acc``,
``val/my_score`` -> ``va my score``, ``val/calibration`` -> ``va cali``. Names that would share
an abbreviation keep their full names.

Numbers keep 4 significant digits in at most 8 characters (9 with a minus sign), so a column
never has to cut one: ``9.116e-4``, ``0.06123``, ``1520``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

SPLITS = {"train": "tr", "val": "va", "test": "te"}
WORDS = {"accuracy": "acc", "average": "avg", "balanced": "bal", "precision": "prec",
         "recall": "rec"}
NUMBER_WIDTH = 8  # the widest non-negative number() writes
SEP = 2  # spaces between table columns


def split_and_metric(name: str) -> tuple[str, str]:
    """``val/balanced_accuracy`` -> ``("va", "bal acc")`` (see the module docstring)."""
    split, _, metric = name.rpartition("/")
    words = [WORDS.get(w, w if len(w) <= 5 else w[:4]) for w in metric.split("_") if w]
    return SPLITS.get(split, split), " ".join(words) or metric


def abbreviate(name: str) -> str:
    """A metric's short name: ``train/accuracy`` -> ``tr acc``, ``val/loss`` -> ``va loss``.

    Example:
        >>> abbreviate("val/topk_accuracy")
        'va topk acc'
    """
    return " ".join(part for part in split_and_metric(name) if part)


def labels(names) -> dict:
    """Each name's abbreviation; names whose abbreviations collide keep their full names."""
    short = {name: abbreviate(name) for name in names}
    counts = Counter(short.values())
    return {name: s if counts[s] == 1 else name for name, s in short.items()}


def number(value, digits: int = 4) -> str:
    """A metric value in ``digits`` significant digits (at most 4), written in at most 8
    characters (9 when negative).

    Example:
        >>> [number(v) for v in (0.06123456, 1.0, 0.0009116, 12345.6, None)]
        ['0.06123', '1', '9.116e-4', '12346', '-']
    """
    if value is None:
        return "-"
    if isinstance(value, int) or not math.isfinite(value):
        return str(value)
    size = abs(value)
    if size == 0:
        return "0"
    if size < 1e-3 or size >= 1e6:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    text = f"{value:.{digits}g}"
    return f"{value:.0f}" if size >= 1e3 or "e" in text else text  # 999.96 -> 1000, not 1e+03


def duration(seconds: float) -> str:
    """``12.3s``, ``4m05s``, ``2h07m``: at most 6 characters."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    seconds = int(seconds)
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m"


def clock(seconds) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour on); ``-:--`` when not known yet."""
    if seconds is None:
        return "-:--"
    seconds = int(seconds)
    if seconds < 3600:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def lr_text(trainer) -> str:
    return ",".join(number(lr, 3) for lr in trainer.lrs_used())


@dataclass
class RunHeader:
    """What the header line says about a run besides what the trainer knows (epochs, steps per
    epoch); ``trainctl.training.train`` fills it from the config and the built run."""

    name: str
    config: str | None = None
    device: str | None = None
    parameters: int | None = None
    data_parallel: str | None = None  # "2 ranks x batch 32 = global batch 64, ..."

    def text(self, epochs: int, steps_per_epoch: int) -> str:
        where = f" ({self.config})" if self.config else ""
        on = f" on {self.device}" if self.device else ""
        params = f"{self.parameters:,} parameters, " if self.parameters is not None else ""
        ranks = f" ({self.data_parallel})" if self.data_parallel else ""
        return (f"training {self.name}{where}{on}: {params}{epochs} epochs of "
                f"{steps_per_epoch} step{'s' * (steps_per_epoch != 1)}{ranks}")


def grouped(metrics: dict, marked: str | None = None) -> list[str]:
    """Metrics as ``["tr loss 0.1 acc 0.9", "va loss 0.2 acc 0.8"]``: one part per split, the
    value of ``marked`` followed by ``*``.

    Example:
        >>> grouped({"train/loss": 0.5, "val/loss": 0.25, "val/accuracy": 0.75}, "val/loss")
        ['tr loss 0.5', 'va loss 0.25* acc 0.75']
    """
    parts: dict = {}
    for name, value in metrics.items():
        if not isinstance(value, (int, float)):
            continue
        split, metric = split_and_metric(name)
        parts.setdefault(split, []).append(
            f"{metric} {number(value)}" + "*" * (name == marked))
    return [" ".join(filter(None, (split, *items))) for split, items in parts.items()]
