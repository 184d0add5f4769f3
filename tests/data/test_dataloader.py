"""DataLoader: lengths, shapes, shuffling per seed and epoch, the fast path, resumable position."""

import numpy
import pytest

import trainctl as tc
from tests.data.helpers import assert_same_batch, per_sample
from trainctl.data import (
    ArrayDataset,
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    SequentialSampler,
    Subset,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
)
from trainctl.data import transforms as T


def _tensor_ds(n=10):
    return TensorDataset(tc.arange(n * 2, dtype=tc.float32).reshape(n, 2), tc.arange(n))


def _image_ds(n=37, transform="default"):
    rng = numpy.random.default_rng(0)
    ds = ArrayDataset(rng.integers(0, 256, (n, 28, 28), dtype=numpy.uint8),
                      rng.integers(0, 10, n).astype(numpy.int64),
                      transform=(T.Compose([T.ToTensor(), T.Normalize([0.5], [0.25]), T.Flatten()])
                                 if transform == "default" else transform))
    ds.int_targets = True
    return ds


def _labels(loader):
    return [b[1].tolist() for b in loader]


@pytest.mark.parametrize("n,bs,drop_last,expected", [
    (10, 3, False, [3, 3, 3, 1]), (10, 3, True, [3, 3, 3]), (9, 3, False, [3, 3, 3]),
    (9, 3, True, [3, 3, 3]), (2, 5, False, [2]), (2, 5, True, []), (10, 1, False, [1] * 10),
])
def test_batch_counts_and_shapes(n, bs, drop_last, expected):
    loader = DataLoader(_tensor_ds(n), batch_size=bs, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(expected)
    assert [len(x) for x, _ in batches] == expected
    for x, y in batches:
        assert x.shape[1:] == (2,) and x.dtype == tc.float32 and y.dtype == tc.int64


def test_sequential_order_and_contents():
    x, y = next(iter(DataLoader(_tensor_ds(), batch_size=4)))
    assert y.tolist() == [0, 1, 2, 3]
    assert x.tolist() == [[0, 1], [2, 3], [4, 5], [6, 7]]


def test_shuffle_is_a_permutation_repeatable_per_seed_and_different_per_epoch():
    def epochs(seed, k=3):
        loader = DataLoader(_tensor_ds(20), batch_size=6, shuffle=True, seed=seed)
        return [sum(_labels(loader), []) for _ in range(k)]

    a, b, c = epochs(5), epochs(5), epochs(6)
    assert a == b  # same seed, same sequence of epochs
    assert all(sorted(e) == list(range(20)) for e in a)
    assert a[0] != a[1] != a[2]  # each epoch its own order
    assert a[0] != list(range(20))
    assert a != c


def test_epoch_order_does_not_depend_on_other_draws():
    loader = DataLoader(_tensor_ds(20), batch_size=20, shuffle=True, seed=1)
    first = _labels(loader)
    tc.randn(1000)  # unrelated draws between epochs
    second = _labels(loader)
    fresh = DataLoader(_tensor_ds(20), batch_size=20, shuffle=True, seed=1)
    assert _labels(fresh) == first and _labels(fresh) == second


def test_default_seed_comes_from_manual_seed():
    tc.manual_seed(3)
    a = _labels(DataLoader(_tensor_ds(20), batch_size=20, shuffle=True))
    tc.manual_seed(3)
    b = _labels(DataLoader(_tensor_ds(20), batch_size=20, shuffle=True))
    tc.manual_seed(4)
    c = _labels(DataLoader(_tensor_ds(20), batch_size=20, shuffle=True))
    assert a == b != c
    g = tc.Generator().manual_seed(3)
    d = DataLoader(_tensor_ds(20), batch_size=20, shuffle=True, generator=g)
    assert d.seed == int(tc.Generator().manual_seed(3).rng.integers(0, 2**63 - 1))


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_fast_path_equals_per_sample_path(shuffle, drop_last):
    ds = _image_ds()
    fast = DataLoader(ds, batch_size=8, shuffle=shuffle, drop_last=drop_last, seed=2)
    slow = DataLoader(ds, batch_size=8, shuffle=shuffle, drop_last=drop_last, seed=2,
                      collate_fn=per_sample)
    assert fast._get_batch is not None and slow._get_batch is None
    a, b = list(fast), list(slow)
    assert len(a) == len(b) == len(fast)
    for x, y in zip(a, b):
        assert_same_batch(x, y)
    assert a[0][0].shape == (8, 784) and a[0][0].dtype == tc.float32
    assert a[0][1].dtype == tc.int64


def test_fast_path_does_not_call_getitem():
    class Counting(TensorDataset):
        calls = 0

        def __getitem__(self, index):
            Counting.calls += 1
            return super().__getitem__(index)

    ds = Counting(tc.zeros(100, 3), tc.zeros(100))
    assert sum(len(x) for x, _ in DataLoader(ds, batch_size=16)) == 100
    assert Counting.calls == 0


@pytest.mark.parametrize("make", [
    lambda: _tensor_ds(30),
    lambda: _image_ds(30),
    lambda: Subset(_image_ds(30), [5, 3, 29, 0, 7, 7, 11, 2, 19, 23, 1]),
    lambda: ConcatDataset([_image_ds(9), _image_ds(12), Subset(_image_ds(5), [4, 0])]),
    lambda: ConcatDataset([_tensor_ds(4), _tensor_ds(7)]),
    lambda: _image_ds(30, transform=None),
    lambda: _image_ds(30, transform=T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2)])),
])
def test_fast_path_equals_per_sample_for_wrappers(make):
    ds = make()
    assert callable(getattr(ds, "get_batch", None))
    for shuffle in (False, True):
        fast = list(DataLoader(ds, batch_size=4, shuffle=shuffle, seed=0))
        slow = list(DataLoader(ds, batch_size=4, shuffle=shuffle, seed=0, collate_fn=per_sample))
        assert len(fast) == len(slow)
        for a, b in zip(fast, slow):
            assert_same_batch(a, b)


def test_image_dataset_stays_uint8_and_batches_are_float32():
    ds = _image_ds(10, transform=T.ToTensor())
    assert ds.data.dtype == numpy.uint8
    x, y = next(iter(DataLoader(ds, batch_size=10)))
    assert x.dtype == tc.float32 and x.shape == (10, 1, 28, 28)
    numpy.testing.assert_allclose(x.numpy()[:, 0], ds.data / numpy.float32(255), rtol=1e-7)


def test_resume_mid_epoch_gives_exactly_the_remaining_batches():
    ds = _image_ds(50)
    loader = DataLoader(ds, batch_size=7, shuffle=True, seed=11)
    list(loader)  # finish epoch 0, so the resume happens in epoch 1
    it = iter(loader)
    seen = [next(it) for _ in range(3)]
    state = loader.state_dict()
    assert state == {"epoch": 1, "batches_done": 3, "seed": 11}
    expected_rest = list(it)
    assert len(seen) + len(expected_rest) == len(loader) == 8

    resumed = DataLoader(ds, batch_size=7, shuffle=True, seed=999)  # seed comes from the state
    resumed.load_state_dict(state)
    rest = list(resumed)
    assert len(rest) == len(expected_rest) == 5
    for a, b in zip(rest, expected_rest):
        assert_same_batch(a, b)
    assert resumed.state_dict() == {"epoch": 2, "batches_done": 0, "seed": 11}
    # and the epoch after continues as the original would
    assert_same_batch(list(resumed), list(loader))


def test_resume_per_sample_path_and_json_state():
    import json

    ds = _tensor_ds(23)
    loader = DataLoader(ds, batch_size=5, shuffle=True, seed=4, collate_fn=per_sample)
    it = iter(loader)
    next(it), next(it)
    state = json.loads(json.dumps(loader.state_dict()))
    rest = _labels(it)
    other = DataLoader(ds, batch_size=5, shuffle=True, collate_fn=per_sample)
    other.load_state_dict(state)
    assert _labels(other) == rest and len(rest) == 3


def test_state_at_epoch_end_and_after_abandoned_epoch():
    loader = DataLoader(_tensor_ds(10), batch_size=3, shuffle=True, seed=0)
    assert loader.state_dict()["epoch"] == 0 and loader.state_dict()["batches_done"] == 0
    list(loader)
    assert loader.state_dict()["epoch"] == 1
    it = iter(loader)
    next(it)
    assert loader.state_dict()["batches_done"] == 1
    epoch2 = _labels(loader)  # a new iter() after stopping early starts the next epoch
    assert loader.state_dict()["epoch"] == 3
    loader.set_epoch(2)
    assert _labels(loader) == epoch2
    # a state saved after the last batch of an epoch resumes at the start of the next one
    fresh = DataLoader(_tensor_ds(10), batch_size=3, shuffle=True)
    fresh.load_state_dict({"epoch": 2, "batches_done": 4, "seed": 0})
    assert fresh.state_dict()["epoch"] == 3 and fresh.state_dict()["batches_done"] == 0


def test_load_state_dict_rejects_impossible_positions():
    loader = DataLoader(_tensor_ds(10), batch_size=3)
    with pytest.raises(tc.DataError, match="only 4"):
        loader.load_state_dict({"epoch": 0, "batches_done": 5, "seed": 0})
    with pytest.raises(tc.DataError, match="missing"):
        loader.load_state_dict({"epoch": 0})


def test_sampler_argument_and_weighted_sampler_resume():
    ds = _tensor_ds(10)
    w = [0, 0, 1, 1, 1, 0, 0, 0, 0, 5]
    loader = DataLoader(ds, batch_size=4, sampler=WeightedRandomSampler(w, 12), seed=7)
    labels = sum(_labels(loader), [])
    assert len(labels) == 12 and set(labels) <= {2, 3, 4, 9}
    it = iter(loader)
    next(it)
    state, rest = loader.state_dict(), _labels(it)
    again = DataLoader(ds, batch_size=4, sampler=WeightedRandomSampler(w, 12))
    again.load_state_dict(state)
    assert _labels(again) == rest


def test_batch_sampler_and_batch_size_none():
    ds = _tensor_ds(5)
    bs = BatchSampler(SequentialSampler(ds), batch_size=2, drop_last=False)
    loader = DataLoader(ds, batch_sampler=bs)
    assert len(loader) == 3 and _labels(loader) == [[0, 1], [2, 3], [4]]
    custom = DataLoader(ds, batch_sampler=[[4, 0], [2]])
    assert _labels(custom) == [[4, 0], [2]]
    single = DataLoader(ds, batch_size=None)
    assert len(single) == 5
    x, y = next(iter(single))
    assert x.shape == (2,) and y.item() == 0


def test_exclusive_options_raise_like_pytorch():
    ds = _tensor_ds()
    bs = BatchSampler(SequentialSampler(ds), 2, False)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, batch_sampler=bs, batch_size=3)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="positive integer"):
        DataLoader(ds, batch_size=0)


def test_num_workers_runs_in_process():
    calls = []
    loader = DataLoader(_tensor_ds(), batch_size=4, num_workers=2, worker_init_fn=calls.append,
                        pin_memory=True, persistent_workers=True, prefetch_factor=2)
    assert _labels(loader) == _labels(DataLoader(_tensor_ds(), batch_size=4))
    assert calls == [0]


def test_custom_collate_and_getitems():
    class Pairs(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return {"i": i, "name": f"s{i}"}

    loader = DataLoader(Pairs(), batch_size=4, collate_fn=lambda b: [d["i"] for d in b])
    assert list(loader) == [[0, 1, 2, 3], [4, 5]]
    batch = next(iter(DataLoader(Pairs(), batch_size=3)))
    assert batch["i"].tolist() == [0, 1, 2] and batch["name"] == ["s0", "s1", "s2"]

    class Many(Pairs):
        def __getitems__(self, indices):
            return [{"i": -i, "name": ""} for i in indices]

    assert next(iter(DataLoader(Many(), batch_size=3)))["i"].tolist() == [0, -1, -2]


def test_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    loader = DataLoader(Stream(), batch_size=3)
    assert len(loader) == 3 and [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [
        [0, 1, 2], [3, 4, 5]]
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    again = DataLoader(Stream(), batch_size=3)
    again.load_state_dict(state)
    assert [b.tolist() for b in again] == [[3, 4, 5], [6]]
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(), shuffle=True)


def test_loader_output_feeds_a_model():
    ds = TensorDataset(x=[[1, 2], [2, 3], [4, 6], [3, 1]], y=[[8], [13], [26], [9]])
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    w = tc.tensor([[2.0], [3.0]])
    assert ((x @ w - y) ** 2).sum().item() == 0.0


def test_default_collate_is_used_by_name():
    assert DataLoader(_tensor_ds()).collate_fn is default_collate
