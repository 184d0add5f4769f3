"""Dataset, TensorDataset, Subset, ConcatDataset, random_split, val_split; samplers; collate."""

import collections

import numpy
import pytest

import trainctl as tc
from trainctl.data import (
    BatchSampler,
    ConcatDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    random_split,
    val_split,
)


def test_tensor_dataset_rows_and_length():
    ds = TensorDataset(tc.arange(6.).reshape(3, 2), tc.tensor([7, 8, 9]))
    x, y = ds[2]
    assert len(ds) == 3 and x.tolist() == [4.0, 5.0] and y.item() == 9 and y.ndim == 0
    assert ds[-1][1].item() == 9
    with pytest.raises(tc.DataError, match="Size mismatch"):
        TensorDataset(tc.zeros(3, 2), tc.zeros(4))


def test_tensor_dataset_inline_lists():
    reg = TensorDataset(x=[[1, 2], [2, 3]], y=[[8], [13]])
    assert reg.tensors[0].dtype == tc.float32 and reg.tensors[1].dtype == tc.float32
    assert reg.tensors[1].shape == (2, 1)
    cls = TensorDataset(x=[[0.5], [1.5], [2.5]], y=[0, 2, 1])
    assert cls.tensors[1].dtype == tc.int64 and cls.tensors[1].shape == (3,)
    forced = TensorDataset(x=[[1], [2]], y=[3, 4], y_dtype="float32")
    assert forced.tensors[1].dtype == tc.float32
    only_x = TensorDataset(x=[[1], [2]])
    assert len(only_x[0]) == 1
    with pytest.raises(tc.DataError, match="not both"):
        TensorDataset(tc.zeros(2), x=[[1], [2]])


def test_subset_and_getitem_with_list():
    ds = TensorDataset(tc.arange(10))
    s = Subset(ds, [9, 2, 4])
    assert len(s) == 3 and s[0][0].item() == 9 and s[-1][0].item() == 4
    assert s[[0, 1]][0].tolist() == [9, 2]
    assert [t[0].item() for t in s.__getitems__([2, 0])] == [4, 9]
    assert s.get_batch(numpy.array([1, 0]))[0].tolist() == [2, 9]


def test_concat_dataset_indexing_and_batches():
    a, b = TensorDataset(tc.arange(3)), TensorDataset(tc.arange(10, 14))
    c = a + b
    assert isinstance(c, ConcatDataset) and len(c) == 7 and c.cumulative_sizes == [3, 7]
    assert [c[i][0].item() for i in range(7)] == [0, 1, 2, 10, 11, 12, 13]
    assert c[-1][0].item() == 13
    with pytest.raises(ValueError, match="absolute value"):
        c[-8]
    assert c.get_batch(numpy.array([4, 0, 6, 2, 3]))[0].tolist() == [11, 0, 13, 2, 10]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


def test_random_split_lengths_fractions_and_seed():
    # PyTorch: floor each fraction, then hand out the remainder from the first split on
    assert [len(s) for s in random_split(range(10), [0.33, 0.33, 0.34])] == [4, 3, 3]
    assert [len(s) for s in random_split(range(11), [0.5, 0.5])] == [6, 5]
    parts = random_split(range(10), [3, 7], generator=tc.Generator().manual_seed(1))
    again = random_split(range(10), [3, 7], generator=tc.Generator().manual_seed(1))
    assert [p.indices for p in parts] == [p.indices for p in again]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    assert parts[0].indices != [0, 1, 2]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])


def test_val_split_is_seeded_and_disjoint():
    ds = TensorDataset(tc.arange(100))
    train, val = val_split(ds, 0.2, seed=3)
    train2, val2 = val_split(ds, 0.2, seed=3)
    assert len(train) == 80 and len(val) == 20
    assert val.indices == val2.indices and not set(train.indices) & set(val.indices)
    assert val_split(ds, 0.2, seed=4)[1].indices != val.indices
    plain = TensorDataset(tc.arange(100) * 10)
    _, val3 = val_split(ds, 0.2, seed=3, val_dataset=plain)
    assert val3.dataset is plain and val3.indices == val.indices
    with pytest.raises(tc.DataError, match="between 0 and 1"):
        val_split(ds, 1.5)


# ----------------------------------------------------------------------------- samplers


def test_sequential_and_random_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    g = tc.Generator().manual_seed(0)
    perm = list(RandomSampler(range(10), generator=g))
    assert sorted(perm) == list(range(10)) and perm != list(range(10))
    assert list(RandomSampler(range(10), generator=tc.Generator().manual_seed(0))) == perm
    long = list(RandomSampler(range(4), num_samples=10))
    assert len(long) == 10 and sorted(long[:4]) == sorted(long[4:8]) == [0, 1, 2, 3]
    rep = list(RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(rep) == 50 and set(rep) == {0, 1, 2}
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(range(0))


def test_subset_and_weighted_samplers():
    assert sorted(SubsetRandomSampler([7, 3, 5])) == [3, 5, 7]
    tc.manual_seed(0)
    draws = numpy.array(list(WeightedRandomSampler([1.0, 0.0, 3.0], 4000)))
    assert set(draws.tolist()) == {0, 2}
    assert abs((draws == 2).mean() - 0.75) < 0.03
    no_rep = list(WeightedRandomSampler([1, 1, 1, 0], 3, replacement=False))
    assert sorted(no_rep) == [0, 1, 2]
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([1, 0], 2, replacement=False)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1, -1], 2)


def test_batch_sampler():
    assert list(BatchSampler(SequentialSampler(range(5)), 2, False)) == [[0, 1], [2, 3], [4]]
    assert list(BatchSampler(range(5), 2, True)) == [[0, 1], [2, 3]]
    assert len(BatchSampler(range(5), 2, False)) == 3 and len(BatchSampler(range(5), 2, True)) == 2

    class Reversed(SequentialSampler):  # a subclass that overrides __iter__ is respected
        def __iter__(self):
            return iter(range(len(self.data_source) - 1, -1, -1))

    assert list(BatchSampler(Reversed(range(5)), 2, False)) == [[4, 3], [2, 1], [0]]


# ----------------------------------------------------------------------------- collate


def test_default_collate_follows_pytorch():
    x, y = default_collate([(1, 2.0), (3, 4.0)])  # a tuple sample gives a list batch
    assert y.dtype == tc.float64 and x.dtype == tc.int64  # Python floats -> float64, as torch
    assert isinstance(default_collate([(1, 2.0)]), list)
    assert default_collate([True, False]).dtype == tc.bool
    d = default_collate([{"a": numpy.float32(1)}, {"a": numpy.float32(2)}])
    assert d["a"].dtype == tc.float32 and d["a"].tolist() == [1.0, 2.0]
    assert default_collate([numpy.zeros(2, numpy.uint8)] * 3).dtype == tc.uint8
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert [t.tolist() for t in default_collate([[1, 2], [3, 4]])] == [[1, 3], [2, 4]]
    Point = collections.namedtuple("Point", "x y")
    p = default_collate([Point(1, 2), Point(3, 4)])
    assert isinstance(p, Point) and p.x.tolist() == [1, 3]
    t = default_collate([tc.ones(2), tc.zeros(2)])
    assert t.shape == (2, 2) and t.dtype == tc.float32
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([tc.ones(2), tc.ones(3)])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object()])


def test_default_collate_keeps_autograd():
    a = tc.ones(2, requires_grad=True)
    out = default_collate([a, a * 2])
    out.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]


def test_default_convert():
    out = default_convert({"x": numpy.ones(2), "n": 3, "l": [numpy.zeros(1)]})
    assert isinstance(out["x"], tc.Tensor) and out["n"] == 3 and isinstance(out["l"][0], tc.Tensor)
