"""Offline datasets generated from a seed: regression and 2-D classification toys.

Each draws from its own ``numpy.random.Generator(PCG64(seed))``, so the data depend only on the
arguments, never on ``tc.manual_seed``. Features are float32, class labels int64, regression
targets float32 shaped ``(N, n_targets)``.
"""

from __future__ import annotations

import numpy

from ...core.errors import DataError
from .base import ArrayDataset


def _rng(seed: int) -> numpy.random.Generator:
    return numpy.random.Generator(numpy.random.PCG64(int(seed)))


def _positive(name: str, value, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise DataError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return value


class SyntheticRegression(ArrayDataset):
    """``y = x @ weights + bias + noise * N(0, 1)`` with ``x ~ N(0, 1)``.

    Args:
        n_samples: number of samples.
        n_features: input features (taken from ``weights`` when those are given).
        weights: ``n_features`` numbers, or an ``(n_features, n_targets)`` nested list; default:
            drawn from N(0, 1) with the seed (one target).
        bias: added to every target (a number or one per target).
        noise: standard deviation of the Gaussian noise on the targets.
        seed: seeds the draws.

    Example:
        >>> ds = SyntheticRegression(n_samples=100, weights=[2.0, 3.0], noise=0.0)
        >>> x, y = ds[0]
        >>> abs(float(y[0]) - float(2 * x[0] + 3 * x[1])) < 1e-5
        True
    """

    def __init__(self, n_samples: int = 1000, n_features: int | None = None, weights=None,
                 bias: float = 0.0, noise: float = 0.1, seed: int = 0,
                 transform=None, target_transform=None):
        owner = "SyntheticRegression"
        _positive("n_samples", n_samples, owner)
        rng = _rng(seed)
        if weights is None:
            n_features = _positive("n_features", 1 if n_features is None else n_features, owner)
            w = rng.standard_normal((n_features, 1))
        else:
            w = numpy.asarray(weights, dtype=numpy.float64)
            w = w.reshape(-1, 1) if w.ndim == 1 else w
            if w.ndim != 2 or (n_features is not None and w.shape[0] != n_features):
                raise DataError(f"{owner}: weights of shape {tuple(w.shape)} do not fit "
                                f"n_features={n_features}")
        if noise < 0:
            raise DataError(f"{owner}: noise must be >= 0, got {noise}")
        x = rng.standard_normal((n_samples, w.shape[0]))
        y = x @ w + numpy.asarray(bias, dtype=numpy.float64)
        y = y + noise * rng.standard_normal(y.shape)
        self.weights, self.bias = w.astype(numpy.float32), bias
        super().__init__(x.astype(numpy.float32), y.astype(numpy.float32), transform,
                         target_transform)


_DEFAULT_NOISE = {"blobs": 1.0, "moons": 0.1, "spirals": 0.2}


def _blobs(rng, n_samples, n_classes, n_features, noise):
    centers = rng.uniform(-5.0, 5.0, size=(n_classes, n_features))
    y = numpy.arange(n_samples) % n_classes
    return centers[y] + noise * rng.standard_normal((n_samples, n_features)), y


def _moons(rng, n_samples, n_classes, n_features, noise):
    y = numpy.arange(n_samples) % 2
    t = rng.uniform(0.0, numpy.pi, size=n_samples)
    outer = numpy.stack([numpy.cos(t), numpy.sin(t)], axis=1)
    inner = numpy.stack([1.0 - numpy.cos(t), 0.5 - numpy.sin(t)], axis=1)
    x = numpy.where(y[:, None] == 0, outer, inner)
    return x + noise * rng.standard_normal(x.shape), y


def _spirals(rng, n_samples, n_classes, n_features, noise):
    y = numpy.arange(n_samples) % n_classes
    r = rng.uniform(0.05, 1.0, size=n_samples)  # radius grows along each arm: one full turn
    theta = 2.0 * numpy.pi * (r + y / n_classes) + noise * rng.standard_normal(n_samples)
    return numpy.stack([r * numpy.sin(theta), r * numpy.cos(theta)], axis=1), y


_KINDS = {"blobs": _blobs, "moons": _moons, "spirals": _spirals}


class SyntheticClassification(ArrayDataset):
    """Points in ``n_features`` dimensions with class labels: ``blobs``, ``moons`` or ``spirals``.

    ``blobs``: one Gaussian cluster per class (centres uniform in [-5, 5]); ``moons``: two
    interleaved half circles (2 classes, 2-D); ``spirals``: ``n_classes`` interleaved one-turn arms
    (2-D). Classes are balanced and the samples shuffled.

    Args:
        kind: ``blobs``, ``moons`` or ``spirals``.
        n_samples: number of points.
        n_classes: number of classes (2 for moons).
        noise: Gaussian noise (cluster std for blobs, position for moons, angle for spirals);
            default 1.0 / 0.1 / 0.2.
        n_features: dimensions (blobs only; moons and spirals are 2-D).
        seed: seeds the draws.

    Example:
        >>> ds = SyntheticClassification("spirals", n_samples=300, n_classes=3)
        >>> ds.data.shape, sorted(set(ds.targets.tolist()))
        ((300, 2), [0, 1, 2])
    """

    def __init__(self, kind: str = "blobs", n_samples: int = 1000, n_classes: int = 2,
                 noise: float | None = None, n_features: int = 2, seed: int = 0,
                 transform=None, target_transform=None):
        owner = "SyntheticClassification"
        if kind not in _KINDS:
            raise DataError(f"{owner}: kind must be one of {', '.join(_KINDS)}, got {kind!r}")
        _positive("n_samples", n_samples, owner)
        _positive("n_classes", n_classes, owner)
        _positive("n_features", n_features, owner)
        if kind == "moons" and n_classes != 2:
            raise DataError(f"{owner}: moons has 2 classes, got n_classes={n_classes}")
        if kind != "blobs" and n_features != 2:
            raise DataError(f"{owner}: {kind} is 2-D, got n_features={n_features}")
        noise = _DEFAULT_NOISE[kind] if noise is None else noise
        if noise < 0:
            raise DataError(f"{owner}: noise must be >= 0, got {noise}")
        rng = _rng(seed)
        x, y = _KINDS[kind](rng, n_samples, n_classes, n_features, noise)
        order = rng.permutation(n_samples)
        self.kind, self.num_classes = kind, n_classes
        self.classes = list(range(n_classes))
        super().__init__(x[order].astype(numpy.float32), y[order].astype(numpy.int64), transform,
                         target_transform)
