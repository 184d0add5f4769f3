"""Line layout of a tensor's ``repr``, laid out as PyTorch lays it out.

Given a formatter for single values, this module decides what a printed tensor looks like:
which elements are shown (the first and last ``edgeitems`` of each long dimension once the
tensor has more than ``threshold`` elements), how many values fit on a line
(``(linewidth - indent) // (width + 2)``, where ``indent`` is the column after the opening
brackets), where the ``...`` markers go, the blank lines between blocks of 3-d and larger
tensors, and when suffixes such as ``grad_fn=`` move to a line of their own.

Example:
    >>> import numpy
    >>> print("tensor(" + body(numpy.arange(4.0).reshape(2, 2), lambda v: f"{v:.0f}.", 7) + ")")
    tensor([[0., 1.],
            [2., 3.]])
"""

from __future__ import annotations

import numpy


def summarised(data, edgeitems: int):
    """The elements that are printed: the first and last ``edgeitems`` of each long dimension."""
    for axis, size in enumerate(data.shape):
        if size > 2 * edgeitems:
            head = numpy.take(data, numpy.arange(edgeitems), axis=axis)
            tail = numpy.take(data, numpy.arange(size - edgeitems, size), axis=axis)
            data = numpy.concatenate([head, tail], axis=axis)
    return data


def body(data, fmt, indent: int, summarize: bool = False, edgeitems: int = 3,
         linewidth: int = 80) -> str:
    """The bracketed values of ``data`` (a NumPy array); ``indent`` is the column of its "[".

    ``fmt`` turns one value into its (already padded) text.
    """
    if data.ndim == 0:
        return fmt(data.item())
    if data.ndim == 1:
        return _vector(data, fmt, indent, summarize, edgeitems, linewidth)
    n = data.shape[0]
    if summarize and n > 2 * edgeitems:
        rows = [body(data[i], fmt, indent + 1, summarize, edgeitems, linewidth)
                for i in range(edgeitems)]
        rows.append("...")
        rows += [body(data[i], fmt, indent + 1, summarize, edgeitems, linewidth)
                 for i in range(n - edgeitems, n)]
    else:
        rows = [body(data[i], fmt, indent + 1, summarize, edgeitems, linewidth) for i in range(n)]
    separator = "," + "\n" * (data.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(rows) + "]"


def _vector(data, fmt, indent, summarize, edgeitems, linewidth) -> str:
    values = data.tolist()
    if summarize and len(values) > 2 * edgeitems:
        items = [fmt(v) for v in values[:edgeitems]] + [" ..."]
        items += [fmt(v) for v in values[-edgeitems:]]
    else:
        items = [fmt(v) for v in values]
    width = max((len(item) for item in items if item != " ..."), default=0)
    per_line = max(1, (linewidth - indent) // (width + 2))
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def add_suffixes(text: str, suffixes: list[str], indent: int, linewidth: int = 80) -> str:
    """``text`` + ``, suffix`` for each suffix, moving one to a new line when it would not fit."""
    parts = [text]
    # PyTorch counts the last line two characters longer than it is; kept so lines break alike.
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(parts) + ")"
