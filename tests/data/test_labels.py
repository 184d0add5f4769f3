"""stratified_split (class proportions kept, exact sizes, seeded) and class_weights (balanced)."""

import math
import warnings

import numpy
import pytest

import trainctl as tc
from trainctl.data import TensorDataset, class_weights, random_split, stratified_split


def _gen(seed=0):
    return tc.Generator().manual_seed(seed)


def _counts(labels, subset, k):
    return numpy.bincount(numpy.asarray(labels)[subset.indices], minlength=k).tolist()


@pytest.mark.parametrize("per_class,lengths", [
    ([50, 30, 20], [0.8, 0.2]), ([7, 3], [0.7, 0.3]), ([90, 9, 1], [0.5, 0.5]),
    ([13, 11, 6, 5], [20, 15]), ([101, 57], [0.9, 0.1]),
])
def test_two_way_split_keeps_each_class_within_rounding(per_class, lengths):
    labels = numpy.repeat(numpy.arange(len(per_class)), per_class)
    numpy.random.default_rng(1).shuffle(labels)
    n = len(labels)
    train, val = stratified_split(range(n), lengths, labels, _gen())
    sizes = [len(train), len(val)]
    assert sizes == [len(s) for s in random_split(range(n), lengths, _gen())]
    assert sorted(train.indices + val.indices) == list(range(n))  # a partition
    for subset, size in zip((train, val), sizes):
        for c, count in enumerate(_counts(labels, subset, len(per_class))):
            exact = per_class[c] * size / n
            assert math.floor(exact) <= count <= math.ceil(exact), (c, count, exact)


def test_three_way_split_sizes_and_proportions():
    labels = numpy.repeat([0, 1, 2], [60, 30, 10])
    parts = stratified_split(range(100), [0.6, 0.2, 0.2], labels, _gen(4))
    assert [len(p) for p in parts] == [60, 20, 20]
    assert [_counts(labels, p, 3) for p in parts] == [[36, 18, 6], [12, 6, 2], [12, 6, 2]]


def test_split_is_deterministic_for_a_seeded_generator_and_random_within_classes():
    labels = [i % 3 for i in range(30)]
    a = stratified_split(range(30), [20, 10], labels, _gen(7))
    b = stratified_split(range(30), [20, 10], labels, _gen(7))
    c = stratified_split(range(30), [20, 10], labels, _gen(8))
    assert [s.indices for s in a] == [s.indices for s in b]
    assert a[1].indices != c[1].indices
    assert a[1].indices != sorted(a[1].indices)  # shuffled, not grouped by class
    tc.manual_seed(3)
    d = stratified_split(range(30), [20, 10], labels)
    tc.manual_seed(3)
    assert d[1].indices == stratified_split(range(30), [20, 10], labels)[1].indices


def test_split_takes_names_tensors_and_binary_float_targets():
    ds = TensorDataset(tc.arange(8.0))
    names = ["cat", "dog"] * 4
    train, val = stratified_split(ds, [0.5, 0.5], names, _gen())
    assert sorted(names[i] for i in val.indices) == ["cat", "cat", "dog", "dog"]
    assert len(val[0]) == 1  # Subsets of the dataset
    targets = tc.tensor([[0.0], [1.0]] * 4)  # a binary dataset's (N, 1) float targets
    _, val = stratified_split(ds, [0.5, 0.5], targets, _gen())
    assert sorted(int(targets[i, 0].item()) for i in val.indices) == [0, 0, 1, 1]
    _, val = stratified_split(ds, [6, 2], tc.tensor([0, 1] * 4), _gen())
    assert sorted(i % 2 for i in val.indices) == [0, 1]


def test_split_errors():
    with pytest.raises(tc.DataError, match="3 labels for 4 samples"):
        stratified_split(range(4), [2, 2], [0, 1, 0])
    with pytest.raises(tc.DataError, match="non-integer numbers"):
        stratified_split(range(2), [1, 1], [0.5, 1.0])
    with pytest.raises(ValueError, match="does not equal the length"):
        stratified_split(range(4), [2, 1], [0, 1, 0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="Length of split at index 1 is 0"):
            stratified_split(range(3), [1.0, 0.0], [0, 1, 0])


def test_class_weights_are_sklearn_balanced():
    # n / (k * count_c): 6 samples, 3 classes, counts 3, 2, 1
    assert class_weights([0, 1, 0, 2, 1, 0], 3) == pytest.approx([6 / 9, 6 / 6, 6 / 3])
    assert class_weights([0, 1, 0, 2, 1, 0], 3) == pytest.approx([0.6666667, 1.0, 2.0])
    # 10 samples, counts 8 and 2: 10/16 and 10/4
    weights = class_weights(tc.tensor([0] * 8 + [1] * 2), 2)
    assert weights == [0.625, 2.5] and all(type(w) is float for w in weights)
    # a class with no samples: weight 0.0, still counted in k
    assert class_weights([0, 0, 2, 2], 3) == [4 / 6, 0.0, 4 / 6]


@pytest.mark.parametrize("labels,k,match", [
    ([0, 3], 3, r"label 3 \(sample 1\) is out of range for 3 classes"),
    ([], 2, "no labels"), ([0, 1], 0, "num_classes must be a positive integer"),
    (["a", "b"], 2, "must be class indices"), ([-1], 2, "label -1"),
])
def test_class_weights_errors(labels, k, match):
    with pytest.raises(tc.DataError, match=match):
        class_weights(labels, k)
