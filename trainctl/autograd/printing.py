"""A PyTorch-like ``repr`` for tensors, and ``set_printoptions``."""

from __future__ import annotations

import numpy

from .. import dtypes

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
    precision = _OPTIONS["precision"]
    if finite.size == 0 or numpy.all(finite == numpy.round(finite)):
        # Whole numbers print as "1." like PyTorch (unless they are huge).
        big = finite.size and numpy.abs(finite).max() >= 1e8
        if not big:
            return lambda v: (f"{v:.0f}." if numpy.isfinite(v) else str(v))
    amax = numpy.abs(finite).max()
    amin = numpy.abs(finite[finite != 0]).min() if numpy.any(finite != 0) else 0.0
    sci = _OPTIONS["sci_mode"]
    if sci is None:
        sci = amax >= 1e8 or (amin != 0 and (amin < 1e-4 or amax / amin > 1000.0))
    if sci:
        return lambda v: f"{v:.{precision}e}"
    return lambda v: f"{v:.{precision}f}"


def tensor_repr(t) -> str:
    data = t.data if isinstance(t.data, numpy.ndarray) else t.data.get()
    kwargs = {}
    if data.dtype.kind == "f":
        kwargs["formatter"] = {"float_kind": _float_formatter(data.astype(numpy.float64))}
    body = numpy.array2string(
        data,
        separator=", ",
        prefix="tensor(",
        threshold=_OPTIONS["threshold"],
        edgeitems=_OPTIONS["edgeitems"],
        max_line_width=_OPTIONS["linewidth"],
        **kwargs,
    )
    extras = []
    if data.size == 0 and data.ndim > 1:
        extras.append(f"size={tuple(data.shape)}")
    dt = t.dtype
    if dt is not dtypes.get_default_dtype() and dt not in (dtypes.int64, dtypes.bool_):
        extras.append(f"dtype={dt}")
    if t.device.type != "cpu":
        extras.append(f"device='{t.device}'")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    tail = "".join(", " + e for e in extras)
    return f"tensor({body}{tail})"
