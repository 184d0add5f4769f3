"""WeightedRandomSampler as a config uses it: PyTorch's signature, in a DataLoader, resumable."""

import inspect
import json

import numpy
import pytest

import trainctl as tc
from trainctl.data import DataLoader, TensorDataset, WeightedRandomSampler, class_weights


def _ds(n=40):
    return TensorDataset(tc.arange(float(n)), tc.tensor([int(i % 4 == 0) for i in range(n)]))


def test_signature_is_pytorchs():
    params = inspect.signature(WeightedRandomSampler).parameters
    assert list(params) == ["weights", "num_samples", "replacement", "generator"]
    assert params["replacement"].default is True and params["generator"].default is None
    assert tc.utils.data.WeightedRandomSampler is WeightedRandomSampler


def test_balanced_weights_rebalance_the_classes():
    labels = numpy.array([0] * 90 + [1] * 10)
    per_class = class_weights(labels, 2)
    sampler = WeightedRandomSampler([per_class[y] for y in labels], 4000,
                                    generator=tc.Generator().manual_seed(0))
    drawn = labels[list(sampler)]
    assert abs(drawn.mean() - 0.5) < 0.03
    without = WeightedRandomSampler(tc.tensor([1.0, 0.0, 2.0, 1.0]), 3, replacement=False)
    assert sorted(without) == [0, 2, 3]
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([1.0], 0)


@pytest.mark.parametrize("own_generator", [False, True])
def test_in_a_dataloader_deterministic_and_each_epoch_new(own_generator):
    def loader():
        gen = tc.Generator().manual_seed(5) if own_generator else None
        sampler = WeightedRandomSampler([1.0] * 40, 24, generator=gen)
        return DataLoader(_ds(), batch_size=8, sampler=sampler, shuffle=False, seed=1)

    a, b = loader(), loader()
    epochs_a = [[x.tolist() for x, _ in a] for _ in range(2)]
    epochs_b = [[x.tolist() for x, _ in b] for _ in range(2)]
    assert epochs_a == epochs_b and len(a) == 3
    assert epochs_a[0] != epochs_a[1]
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(_ds(), batch_size=8, sampler=WeightedRandomSampler([1.0] * 40, 8),
                   shuffle=True)


@pytest.mark.parametrize("own_generator", [False, True])
@pytest.mark.parametrize("stop_at", [0, 1, 2, 3])  # batches done in epoch 1 when saved
def test_resume_mid_epoch_gives_the_remaining_batches(own_generator, stop_at):
    def loader():
        gen = tc.Generator().manual_seed(9) if own_generator else None
        sampler = WeightedRandomSampler(numpy.linspace(0.1, 1.0, 40), 24, generator=gen)
        return DataLoader(_ds(), batch_size=8, sampler=sampler, seed=2)

    reference = loader()
    runs = [[x.tolist() for x, _ in reference] for _ in range(3)]
    first = loader()
    list(first)  # epoch 0
    it = iter(first)
    for _ in range(stop_at):
        next(it)
    state = json.loads(json.dumps(first.state_dict()))
    assert ("sampler_generator" in state) == own_generator
    resumed = loader()  # a fresh process: its generator starts from the seed again
    resumed.load_state_dict(state)
    rest = [x.tolist() for x, _ in resumed]
    if stop_at == 3:  # saved after the last batch: the next epoch starts
        assert rest == runs[2]
    else:
        assert rest == runs[1][stop_at:]
        assert [x.tolist() for x, _ in resumed] == runs[2]


def test_bad_sampler_generator_state_is_refused():
    sampler = WeightedRandomSampler([1.0] * 40, 8, generator=tc.Generator())
    loader = DataLoader(_ds(), batch_size=8, sampler=sampler)
    with pytest.raises(tc.DataError, match="'sampler_generator' is not a generator state"):
        loader.load_state_dict({"epoch": 0, "batches_done": 0, "sampler_generator": {"x": 1}})
