"""Tools over class labels: a stratified split and balanced class weights.

Both take the labels as a sequence, NumPy array or tensor with one label per sample
(``CSVDataset.labels()`` gives them for a table).

Example:
    >>> import trainctl as tc
    >>> labels = [0] * 8 + [1] * 2
    >>> train, val = stratified_split(range(10), [0.5, 0.5], labels, tc.Generator().manual_seed(0))
    >>> sorted(labels[i] for i in val.indices)
    [0, 0, 0, 0, 1]
    >>> class_weights(labels, 2)
    [0.625, 2.5]
"""

from __future__ import annotations

import numpy

from ..core.errors import DataError
from ..core.random import generator_for
from .dataset import Subset, split_lengths


def _labels(labels, what: str) -> numpy.ndarray:
    """``labels`` as a 1-D NumPy array (a tensor is read back from its device)."""
    if hasattr(labels, "numpy") and callable(labels.numpy):
        labels = labels.numpy()
    y = numpy.asarray(labels)
    if y.ndim == 2 and y.shape[1] == 1:  # binary targets shaped (N, 1)
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"{what}: labels must be one label per sample, got shape {y.shape}")
    if y.dtype.kind == "f":
        if not (numpy.isfinite(y).all() and (y == numpy.round(y)).all()):
            raise DataError(f"{what}: labels must be class labels (integers or names), got "
                            "non-integer numbers")
        y = y.astype(numpy.int64)
    return y


def stratified_split(dataset, lengths, labels, generator=None) -> list[Subset]:
    """Like :func:`random_split`, but every subset gets each class in the proportions of the whole.

    Args:
        dataset: the dataset to split.
        lengths: subset sizes, or fractions summing to 1 (turned into sizes as ``random_split``
            does).
        labels: one class label per sample (ints, names, or 0/1 floats).
        generator: the random stream (default: trainctl's default generator); a seeded
            ``tc.Generator`` gives the same split every time.

    Subsets are filled one after another: each takes from every class its share of what is
    left (``left_c * size / left``), rounded down, and the samples still missing go to the
    classes with the largest remainders (ties drawn at random); the last takes the rest. With
    two subsets (train/validation) each class is split within one sample of its exact
    proportion in both. Sizes are exactly ``lengths``; samples within a class are drawn at
    random and each subset's indices come in a random order.

    Example:
        >>> import trainctl as tc
        >>> a, b = stratified_split(range(6), [4, 2], [0, 0, 0, 1, 1, 1], tc.Generator())
        >>> len(a), len(b), sorted(i >= 3 for i in b.indices)
        (4, 2, [False, True])
    """
    n = len(dataset)
    y = _labels(labels, "stratified_split")
    if len(y) != n:
        raise DataError(f"stratified_split: {len(y)} labels for {n} samples")
    lengths = split_lengths(n, lengths)
    rng = generator_for(generator)
    _, inverse = numpy.unique(y, return_inverse=True)
    inverse = inverse.reshape(-1)
    perm = rng.permutation(n)
    grouped = perm[numpy.argsort(inverse[perm], kind="stable")]  # by class, random within
    per_class = numpy.bincount(inverse)
    begin = numpy.cumsum(per_class) - per_class  # where each class starts in `grouped`
    remaining, left = per_class.copy(), n
    subsets = []
    for i, size in enumerate(lengths):
        last = i == len(lengths) - 1
        counts = remaining.copy() if last else _apportion(remaining, size, left, rng)
        start = numpy.cumsum(counts) - counts
        picks = grouped[numpy.repeat(begin - start, counts) + numpy.arange(counts.sum())]
        subsets.append(Subset(dataset, rng.permutation(picks).tolist()))
        begin, remaining, left = begin + counts, remaining - counts, left - size
    return subsets


def _apportion(remaining: numpy.ndarray, size: int, left: int, rng) -> numpy.ndarray:
    """Per-class counts summing to ``size``, proportional to ``remaining`` (largest remainder)."""
    if left == 0:
        return numpy.zeros_like(remaining)
    base, rest = numpy.divmod(remaining * size, left)  # integers: exact ties
    short = size - int(base.sum())
    order = numpy.lexsort((rng.random(len(rest)), -rest))
    base[order[:short]] += 1
    return base


def class_weights(labels, num_classes: int) -> list[float]:
    """Inverse-frequency class weights ``n / (num_classes * count_c)`` (scikit-learn's
    ``"balanced"``), e.g. for ``CrossEntropyLoss(weight=...)``.

    ``labels`` are class indices ``0..num_classes-1``. A class with no samples gets weight
    ``0.0`` (scikit-learn refuses such a class instead); ``num_classes`` still counts it in the
    formula.

    Example:
        >>> class_weights([0, 0, 0, 1], 2)
        [0.6666666666666666, 2.0]
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise DataError(f"class_weights: num_classes must be a positive integer, got "
                        f"{num_classes!r}")
    y = _labels(labels, "class_weights")
    if y.size == 0:
        raise DataError("class_weights: no labels")
    if y.dtype.kind not in "iub":
        raise DataError(f"class_weights: labels must be class indices, got {y.dtype} values")
    bad = (y < 0) | (y >= num_classes)
    if bad.any():
        i = int(bad.argmax())
        raise DataError(f"class_weights: label {y[i]} (sample {i}) is out of range for "
                        f"{num_classes} classes (0..{num_classes - 1})")
    counts = numpy.bincount(y.astype(numpy.int64), minlength=num_classes)
    with numpy.errstate(divide="ignore"):
        weights = numpy.where(counts > 0, y.size / (num_classes * counts), 0.0)
    return [float(w) for w in weights]
