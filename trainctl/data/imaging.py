"""Pillow, imported on first use with an install hint, and resampling for ``Resize``.

Each 2-D plane (one channel of one image) is resized by Pillow as an ``L`` (uint8) or ``F``
(float32) image, so any number of channels and both layouts work, and the numbers are Pillow's
(torchvision's PIL path). Pillow resamples each band alone, so a plane at a time gives the same
bytes as resizing an ``RGB`` image whole.

Example:
    >>> output_size(480, 640, 240)
    (240, 320)
    >>> output_size(480, 640, (100, 50))
    (100, 50)
"""

from __future__ import annotations

import numbers

import numpy

from ..core.backend import get_array_module
from ..core.errors import DataError

INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "box", "hamming", "lanczos")


def pillow():
    """The ``PIL.Image`` module, or a DataError saying how to install it."""
    try:
        from PIL import Image
    except ImportError:
        raise DataError("reading images needs Pillow: pip install 'trainctl[images]'") from None
    return Image


def interpolation_name(interpolation) -> str:
    """``interpolation`` (a name, or torchvision's ``InterpolationMode``) as a lowercase name."""
    name = getattr(interpolation, "value", interpolation)
    if not isinstance(name, str) or name.lower() not in INTERPOLATIONS:
        raise ValueError(f"Resize: interpolation must be one of {', '.join(INTERPOLATIONS)}, "
                         f"got {interpolation!r}")
    return name.lower()


def output_size(h: int, w: int, size, max_size: int | None = None) -> tuple[int, int]:
    """torchvision's rule: ``(h, w)`` as given, or one int for the shorter edge (aspect kept,
    the longer edge then capped at ``max_size``)."""
    if isinstance(size, numbers.Integral) or len(size) == 1:
        want = int(size if isinstance(size, numbers.Integral) else size[0])
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = want, int(want * long / short)
        if max_size is not None and new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)
    return int(size[0]), int(size[1])


def resize_planes(a, size, interpolation: str, max_size: int | None = None):
    """Resize the last two axes (H, W) of ``a`` (uint8 or floating, any leading axes)."""
    Image = pillow()
    xp = get_array_module(a)
    host = numpy.asarray(a) if xp is numpy else xp.asnumpy(a)
    if host.dtype == numpy.uint8:
        work = host
    elif host.dtype.kind == "f":
        work = host.astype(numpy.float32, copy=False)
    else:
        raise DataError(f"Resize: expected uint8 or floating images, got {host.dtype}")
    h, w = host.shape[-2:]
    th, tw = output_size(h, w, size, max_size)
    if th < 1 or tw < 1:
        raise DataError(f"Resize: output size {(th, tw)} of a {h} x {w} image is empty")
    resample = getattr(Image.Resampling, interpolation.upper())
    planes = work.reshape(-1, h, w)
    out = numpy.empty((planes.shape[0], th, tw), dtype=work.dtype)
    for i, plane in enumerate(planes):  # a loop over planes (channels), not pixels
        out[i] = numpy.asarray(Image.fromarray(plane).resize((tw, th), resample))
    out = out.reshape(host.shape[:-2] + (th, tw)).astype(host.dtype, copy=False)
    return out if xp is numpy else xp.asarray(out)
