"""A PyTorch-like ``repr`` for tensors, and ``set_printoptions``."""

from __future__ import annotations

import numpy

from ..core import dtypes

_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(
    precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None
):
    """Set how tensors print, as ``torch.set_printoptions`` (``profile``: default/short/full)."""
    if profile == "default":
        _OPTIONS.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "short":
        _OPTIONS.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        _OPTIONS.update(precision=4, threshold=2**63 - 1, edgeitems=3, linewidth=80)
    for key, value in (
        ("precision", precision),
        ("threshold", threshold),
        ("edgeitems", edgeitems),
        ("linewidth", linewidth),
    ):
        if value is not None:
            _OPTIONS[key] = value
    _OPTIONS["sci_mode"] = sci_mode


def _float_formatter(data):
    finite = data[numpy.isfinite(data)]
    fmt = _float_format(finite)

    def plain(v):
        return fmt(v) if numpy.isfinite(v) else str(v)

    # PyTorch pads every element to the width of the widest non-zero finite one
    # ("[ 0.5000, -1.0000]", "[   nan, 1.5000]"; a -0.0000 wider than those is not padded for);
    # the widest strings come from the extremes, so only those are formatted.
    samples = []
    nonzero = finite[finite != 0]
    if nonzero.size:
        samples += [nonzero.max(), nonzero.min(), numpy.abs(nonzero).min()]
    width = max((len(plain(v)) for v in samples), default=0)
    return lambda v: plain(v).rjust(width)


def _float_format(finite):
    """The format of the finite values: whole numbers, fixed point or scientific."""
    precision = _OPTIONS["precision"]
    if finite.size == 0 or numpy.all(finite == numpy.round(finite)):
        # Whole numbers print as "1." like PyTorch (unless they are huge).
        big = finite.size and numpy.abs(finite).max() >= 1e8
        if not big:
            return lambda v: f"{v:.0f}."
    amax = numpy.abs(finite).max()
    amin = numpy.abs(finite[finite != 0]).min() if numpy.any(finite != 0) else 0.0
    sci = _OPTIONS["sci_mode"]
    if sci is None:
        sci = amax >= 1e8 or (amin != 0 and (amin < 1e-4 or amax / amin > 1000.0))
    if sci:
        return lambda v: f"{v:.{precision}e}"
    return lambda v: f"{v:.{precision}f}"


def _meta_repr(t) -> str:
    """A meta tensor has no values: PyTorch prints ``tensor(..., device='meta', size=(2, 3))``."""
    suffixes = ["device='meta'", f"size={tuple(t.array.shape)}"]
    if t.dtype is not dtypes.get_default_dtype():
        suffixes.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return "tensor(..., " + ", ".join(suffixes) + ")"


def tensor_repr(t) -> str:
    from .layout import add_suffixes, body, summarised

    if t.device.type == "meta":
        return _meta_repr(t)
    data = t.array if isinstance(t.array, numpy.ndarray) else t.array.get()
    summarize = data.size > _OPTIONS["threshold"]
    # As in PyTorch, the number format (fixed or scientific, width) comes from the printed values.
    shown = summarised(data, _OPTIONS["edgeitems"]) if summarize else data
    if data.dtype.kind == "f":
        fmt = _float_formatter(shown.astype(numpy.float64))
    else:
        width = max((len(str(v)) for v in shown.ravel().tolist()), default=0)

        def fmt(v):
            return str(v).rjust(width)

    prefix = "tensor("
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    dt = t.dtype
    if data.size == 0:
        text = "[]"
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        if dt is not dtypes.get_default_dtype():
            suffixes.append(f"dtype={dt}")
    else:
        text = body(data, fmt, len(prefix), summarize, _OPTIONS["edgeitems"],
                    _OPTIONS["linewidth"])
        if dt is not dtypes.get_default_dtype() and dt not in (dtypes.int64, dtypes.bool_):
            suffixes.append(f"dtype={dt}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return add_suffixes(prefix + text, suffixes, len(prefix), _OPTIONS["linewidth"])
