"""Transforms for image (and other) samples, torchvision's names, vectorised over whole batches.

Each transform is a callable on ONE sample (``t(x)``) and also has ``t.batch(xs)`` for a batch
with a leading sample dimension; the array-backed datasets call ``batch`` on their fast path, so a
batch of 64 images is converted, normalised or flipped in a few array operations. Deterministic
transforms give the same numbers either way. For a single random transform, ``batch`` draws its
random numbers in the same order as 64 calls of ``t(x)`` would, so both paths agree for the same
generator state; a :class:`Compose` of several random transforms draws transform by transform on
the batch path (still seeded and reproducible, but not the per-sample order).

Layouts: :class:`ToTensor` turns uint8 ``HW``/``HWC`` images into float32 ``CHW`` in [0, 1];
the others work on ``(..., C, H, W)`` tensors (put them after ``ToTensor``), except
:class:`Resize`, which also takes the ``HW``/``HWC`` image arrays that come before it.

Example:
    >>> import numpy, trainctl as tc
    >>> t = Compose([ToTensor(), Normalize([0.5], [0.5])])
    >>> t(numpy.full((2, 2), 255, dtype=numpy.uint8))
    tensor([[[1., 1.],
             [1., 1.]]])
"""

from __future__ import annotations

import numbers

import numpy

from ..autograd.tensor import Tensor
from ..core.backend import get_array_module
from ..core.random import generator_for
from .imaging import interpolation_name, resize_planes

__all__ = ["Compose", "ToTensor", "Normalize", "Flatten", "RandomHorizontalFlip", "RandomCrop",
           "Resize", "Lambda"]


def _array(x):
    return x.array if isinstance(x, Tensor) else x


def _like_input(x, array):
    """Give back a Tensor when a Tensor came in, an array when an array came in."""
    return Tensor._wrap(array) if isinstance(x, Tensor) else array


def apply_batch(transform, batch):
    """Apply ``transform`` to a batch: its ``batch`` method, else sample by sample and stacked."""
    if transform is None:
        return batch
    if hasattr(transform, "batch"):
        return transform.batch(batch)
    from .collate import default_collate

    return default_collate([transform(b) for b in batch])


def as_transform(transform):
    """A list of transforms (as a config gives them) becomes a :class:`Compose`."""
    if isinstance(transform, (list, tuple)):
        return Compose(list(transform))
    return transform


class Compose:
    """Apply transforms one after another.

    Example:
        >>> Compose([Lambda(lambda x: x + 1), Lambda(lambda x: x * 2)])(1)
        4
    """

    def __init__(self, transforms):
        self.transforms = [as_transform(t) for t in transforms]

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def batch(self, xs):
        for t in self.transforms:
            xs = apply_batch(t, xs)
        return xs

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


def _to_float(array):
    """uint8 -> float32 in [0, 1]; other dtypes are converted (floats to float32), not scaled."""
    xp = get_array_module(array)
    if array.dtype == xp.uint8:
        out = array.astype(xp.float32)
        out /= xp.float32(255)  # in place: one pass and one array fewer per batch
        return out
    if array.dtype.kind == "f":
        return array.astype(xp.float32, copy=False)
    return array


class ToTensor:
    """uint8 image ``HW`` or ``HWC`` (array or tensor) -> float32 tensor ``CHW`` in [0, 1].

    Non-uint8 input is converted to a tensor in the same layout change, without scaling (as
    torchvision). ``batch`` takes ``NHW`` or ``NHWC`` and gives ``NCHW``.

    Example:
        >>> ToTensor()(numpy.zeros((28, 28), dtype=numpy.uint8)).shape
        trainctl.Size([1, 28, 28])
    """

    def __call__(self, pic) -> Tensor:
        a = _array(pic)
        if a.ndim == 2:
            a = a[None]
        elif a.ndim == 3:
            a = a.transpose(2, 0, 1)
        else:
            raise ValueError(f"ToTensor: expected an HW or HWC image, got shape {tuple(a.shape)}")
        return Tensor._wrap(_to_float(get_array_module(a).ascontiguousarray(a)))

    def batch(self, pics) -> Tensor:
        a = _array(pics)
        if a.ndim == 3:
            a = a[:, None]
        elif a.ndim == 4:
            a = a.transpose(0, 3, 1, 2)
        else:
            raise ValueError(f"ToTensor: expected a batch NHW or NHWC, got shape {tuple(a.shape)}")
        return Tensor._wrap(_to_float(get_array_module(a).ascontiguousarray(a)))

    def __repr__(self) -> str:
        return "ToTensor()"


TO_TENSOR = ToTensor()  # the image datasets' default transform (stateless, so one is shared)


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel of a ``(..., C, H, W)`` tensor.

    Example:
        >>> import trainctl as tc
        >>> Normalize([0.5], [0.25])(tc.ones(1, 2, 2))[0, 0, 0].item()
        2.0
    """

    def __init__(self, mean, std, inplace: bool = False):
        self.mean = [float(m) for m in (mean if hasattr(mean, "__len__") else [mean])]
        self.std = [float(s) for s in (std if hasattr(std, "__len__") else [std])]
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std evaluated to zero ({self.std}), leading to division "
                             "by zero")
        self.inplace = inplace

    def __call__(self, x):
        a = _array(x)
        if a.ndim < 3:
            raise ValueError(f"Normalize: expected a (..., C, H, W) tensor, got shape "
                             f"{tuple(a.shape)}")
        xp = get_array_module(a)
        dt = a.dtype if a.dtype.kind == "f" else xp.float32
        mean = xp.asarray(self.mean, dtype=dt).reshape(-1, 1, 1)
        std = xp.asarray(self.std, dtype=dt).reshape(-1, 1, 1)
        if self.inplace and a.dtype.kind == "f":
            a -= mean
            a /= std
            return x
        out = a - mean
        out /= std  # in place on the fresh difference: one array fewer per batch
        return _like_input(x, out)

    batch = __call__  # the channel axis is -3 with or without a batch axis

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Flatten:
    """Flatten each sample to one dimension (``(C, H, W)`` -> ``(C*H*W,)``).

    Example:
        >>> import trainctl as tc
        >>> Flatten()(tc.zeros(1, 28, 28)).shape
        trainctl.Size([784])
    """

    def __call__(self, x):
        return _like_input(x, _array(x).reshape(-1))

    def batch(self, xs):
        a = _array(xs)
        return _like_input(xs, a.reshape(a.shape[0], -1))

    def __repr__(self) -> str:
        return "Flatten()"


class RandomHorizontalFlip:
    """Mirror the last axis (W) with probability ``p``.

    Args:
        p: probability of flipping each sample.
        generator: random stream (default: trainctl's default generator, ``tc.manual_seed``).

    Example:
        >>> import trainctl as tc
        >>> RandomHorizontalFlip(p=1.0)(tc.tensor([[[1., 2.]]]))
        tensor([[[2., 1.]]])
    """

    def __init__(self, p: float = 0.5, generator=None):
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p
        self.generator = generator

    def __call__(self, x):
        if generator_for(self.generator).random() < self.p:
            a = _array(x)
            return _like_input(x, get_array_module(a).ascontiguousarray(a[..., ::-1]))
        return x

    def batch(self, xs):
        a = _array(xs)
        xp = get_array_module(a)
        flip = generator_for(self.generator).random(a.shape[0]) < self.p
        mask = xp.asarray(flip).reshape((-1,) + (1,) * (a.ndim - 1))
        return _like_input(xs, xp.where(mask, a[..., ::-1], a))

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


def _pair(size, what: str) -> tuple[int, int]:
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"{what} must be an int or a pair (h, w), got {size!r}")


def _padding(padding) -> tuple[int, int, int, int]:
    """torchvision's padding forms -> (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4
    p = [int(v) for v in padding]
    if len(p) == 1:
        return (p[0],) * 4
    if len(p) == 2:
        return p[0], p[1], p[0], p[1]
    if len(p) == 4:
        return p[0], p[1], p[2], p[3]
    raise ValueError(f"RandomCrop: padding must be an int or a sequence of 1, 2 or 4 ints, "
                     f"got {padding!r}")


class RandomCrop:
    """Crop a random ``size`` window from ``(..., H, W)``, after optional padding.

    Args:
        size: output ``(h, w)`` or one int for a square.
        padding: pixels added before cropping: an int (all sides), ``(left/right, top/bottom)``
            or ``(left, top, right, bottom)``.
        pad_if_needed: pad images smaller than ``size`` up to it.
        fill: value of constant padding.
        padding_mode: ``constant``, ``edge``, ``reflect`` or ``symmetric``.
        generator: random stream (default: trainctl's default generator).

    Example:
        >>> import trainctl as tc
        >>> RandomCrop(28, padding=4)(tc.zeros(1, 28, 28)).shape
        trainctl.Size([1, 28, 28])
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill: float = 0,
                 padding_mode: str = "constant", generator=None):
        self.size = _pair(size, "RandomCrop: size")
        self.padding = None if padding is None else _padding(padding)
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"RandomCrop: padding_mode must be constant, edge, reflect or "
                             f"symmetric, got {padding_mode!r}")
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode
        self.generator = generator

    def _pad(self, a):
        """Pad the last two axes as configured; returns the padded array."""
        left, top, right, bottom = self.padding or (0, 0, 0, 0)
        h, w = a.shape[-2] + top + bottom, a.shape[-1] + left + right
        th, tw = self.size
        if self.pad_if_needed:
            extra_h, extra_w = max(th - h, 0), max(tw - w, 0)
            top, bottom = top + extra_h, bottom + extra_h
            left, right = left + extra_w, right + extra_w
        if not any((left, top, right, bottom)):
            return a
        xp = get_array_module(a)
        widths = [(0, 0)] * (a.ndim - 2) + [(top, bottom), (left, right)]
        if self.padding_mode == "constant":
            return xp.pad(a, widths, mode="constant", constant_values=self.fill)
        return xp.pad(a, widths, mode=self.padding_mode)

    def _offsets(self, a, u):
        """Top-left corners (top in ``[0, H - h]``, left in ``[0, W - w]``) from uniforms ``u``."""
        th, tw = self.size
        h, w = a.shape[-2], a.shape[-1]
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: crop size {(th, tw)} is larger than the (padded) "
                             f"input size {(h, w)}")
        span = numpy.array([h - th + 1, w - tw + 1])
        return numpy.minimum((u * span).astype(numpy.int64), span - 1)

    def __call__(self, x):
        a = self._pad(_array(x))
        top, left = self._offsets(a, generator_for(self.generator).random(2)).tolist()
        th, tw = self.size
        return _like_input(x, a[..., top:top + th, left:left + tw].copy())

    def batch(self, xs):
        a = self._pad(_array(xs))
        xp = get_array_module(a)
        corners = self._offsets(a, generator_for(self.generator).random((a.shape[0], 2)))
        th, tw = self.size
        rows = xp.asarray(corners[:, 0:1] + numpy.arange(th))  # (N, th)
        cols = xp.asarray(corners[:, 1:2] + numpy.arange(tw))  # (N, tw)
        n = xp.arange(a.shape[0])[:, None, None]
        moved = xp.moveaxis(a, (-2, -1), (1, 2))  # (N, H, W, ...) so one gather picks windows
        out = moved[n, rows[:, :, None], cols[:, None, :]]  # (N, th, tw, ...)
        return _like_input(xs, xp.ascontiguousarray(xp.moveaxis(out, (1, 2), (-2, -1))))

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class Resize:
    """Resize images to ``size`` with Pillow (``pip install 'trainctl[images]'``).

    Args:
        size: ``(h, w)``, or one int: the shorter edge becomes ``size``, the aspect ratio is
            kept (torchvision's rule).
        interpolation: ``nearest``, ``bilinear`` (default), ``bicubic``, ``box``, ``hamming`` or
            ``lanczos`` (Pillow's filters, antialiased when shrinking).
        max_size: with an int ``size``, the longest the longer edge may become.

    A NumPy array is an image, ``HW`` or ``HWC`` (``batch``: ``NHW``/``NHWC``), as the image
    datasets hand out before ``ToTensor``; a tensor is channel-first ``(..., C, H, W)``, as
    after ``ToTensor``. The result keeps the input's kind, layout and dtype (uint8 or float).
    Each image plane is resized by Pillow in turn: simple, not vectorised over a batch.

    Example:
        >>> Resize((2, 3))(numpy.zeros((4, 6, 3), numpy.uint8)).shape
        (2, 3, 3)
        >>> import trainctl as tc
        >>> Resize(14)(tc.zeros(1, 28, 56)).shape
        trainctl.Size([1, 14, 28])
    """

    def __init__(self, size, interpolation="bilinear", max_size: int | None = None):
        sizes = [size] if isinstance(size, numbers.Integral) else list(size)
        if (not 1 <= len(sizes) <= 2 or isinstance(size, bool)
                or not all(isinstance(v, numbers.Integral) and v > 0 for v in sizes)):
            raise ValueError(f"Resize: size must be a positive int or a pair (h, w) of them, "
                             f"got {size!r}")
        if max_size is not None and not (isinstance(size, numbers.Integral) or len(size) == 1):
            raise ValueError("Resize: max_size is only allowed when size is one int")
        self.size = size if isinstance(size, numbers.Integral) else tuple(int(v) for v in size)
        self.interpolation = interpolation_name(interpolation)
        self.max_size = max_size

    def _planes(self, a):
        return resize_planes(a, self.size, self.interpolation, self.max_size)

    def __call__(self, img):
        if isinstance(img, Tensor):
            return Tensor._wrap(self._planes(img.array))
        a = numpy.asarray(img) if not hasattr(img, "ndim") else img
        if a.ndim == 2:
            return self._planes(a)
        if a.ndim == 3:  # HWC -> CHW planes -> HWC
            xp = get_array_module(a)
            return xp.ascontiguousarray(self._planes(a.transpose(2, 0, 1)).transpose(1, 2, 0))
        raise ValueError(f"Resize: expected an HW or HWC image array, got shape {a.shape}")

    def batch(self, imgs):
        if isinstance(imgs, Tensor):
            return self(imgs)
        a = numpy.asarray(imgs) if not hasattr(imgs, "ndim") else imgs
        if a.ndim == 3:
            return self._planes(a)
        if a.ndim == 4:
            xp = get_array_module(a)
            return xp.ascontiguousarray(
                self._planes(a.transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1))
        raise ValueError(f"Resize: expected a batch NHW or NHWC, got shape {a.shape}")

    def __repr__(self) -> str:
        return f"Resize(size={self.size}, interpolation={self.interpolation!r})"


class Lambda:
    """A user function as a transform (Python use; configs cannot hold functions).

    Args:
        lambd: the function, applied to one sample.
        batched: True when ``lambd`` also works on a whole batch (then ``batch`` calls it once);
            otherwise ``batch`` applies it sample by sample.

    Example:
        >>> Lambda(lambda x: x * 2)(3)
        6
    """

    def __init__(self, lambd, batched: bool = False):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd
        self.batched = batched

    def __call__(self, x):
        return self.lambd(x)

    def batch(self, xs):
        if self.batched:
            return self.lambd(xs)
        from .collate import default_collate

        return default_collate([self.lambd(x) for x in xs])

    def __repr__(self) -> str:
        return "Lambda()"
