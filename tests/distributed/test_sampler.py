"""``DistributedSampler`` against torch 2.13's index lists, and its shuffled order against the
single-process ``DataLoader``'s."""

import numpy
import pytest

import trainctl as tc
from tests.golden.fixtures import load_json
from trainctl.utils.data.distributed import DistributedSampler

GOLDEN = load_json("distributed_sampler.json")


def test_the_fixture_is_torch_2_13():
    assert GOLDEN["torch"].startswith("2.13") and len(GOLDEN["cases"]) > 60


def test_unshuffled_indices_equal_torch():
    for case in GOLDEN["cases"]:
        for rank, want in enumerate(case["indices"]):
            s = DistributedSampler(range(case["n"]), num_replicas=case["replicas"], rank=rank,
                                   shuffle=False, drop_last=case["drop_last"])
            assert list(s) == want, case
            assert len(s) == case["len"]


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 2, False), (11, 3, False),
                                                    (11, 3, True), (3, 5, False)])
def test_shuffled_shards_split_one_global_permutation(n, replicas, drop_last):
    shards = [DistributedSampler(range(n), replicas, r, seed=4, drop_last=drop_last)
              for r in range(replicas)]
    whole = shards[0].global_indices()
    for r, s in enumerate(shards):
        assert list(s) == whole[r::replicas].tolist()
    perm = numpy.asarray(list(tc.utils.data.DataLoader(range(n), batch_size=None, shuffle=True,
                                                       seed=4)))
    body = perm[:len(whole)] if drop_last else perm
    assert whole[:len(body)].tolist() == body.tolist()
    if not drop_last:  # padded by repeating the permutation's start, as torch
        assert whole[n:].tolist() == numpy.resize(perm, len(whole) - n).tolist()


def test_ranks_batches_interleave_into_the_single_process_batches():
    """2 ranks x batch 4 see, step for step, what 1 process x batch 8 sees (every epoch)."""
    data = tc.utils.data.TensorDataset(tc.arange(32))
    single = tc.utils.data.DataLoader(data, batch_size=8, shuffle=True, seed=11)
    ranks = [tc.utils.data.DataLoader(data, batch_size=4,
                                      sampler=DistributedSampler(data, 2, r, seed=11))
             for r in range(2)]
    for _epoch in range(3):
        for (big,), (a,), (b,) in zip(single, *ranks):
            assert sorted(big.tolist()) == sorted(a.tolist() + b.tolist())
            assert big.tolist()[0::2] == a.tolist() and big.tolist()[1::2] == b.tolist()


def test_set_epoch_reshuffles_and_state_resumes():
    s = DistributedSampler(range(20), num_replicas=2, rank=1, seed=3)
    first = list(s)
    s.set_epoch(1)
    second = list(s)
    assert first != second and sorted(first + second) != sorted(range(20))
    state = s.state_dict()
    assert state == {"epoch": 1, "seed": 3, "num_replicas": 2, "rank": 1, "shuffle": True,
                     "drop_last": False}
    other = DistributedSampler(range(20), num_replicas=2, rank=1)
    other.load_state_dict(state)
    assert list(other) == second


def test_defaults_need_a_group_and_ranks_are_checked():
    with pytest.raises(ValueError, match="init_process_group"):
        DistributedSampler(range(4))
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    assert tc.utils.data.DistributedSampler is DistributedSampler


def test_the_loader_hands_its_epoch_to_the_sampler():
    sampler = DistributedSampler(range(12), num_replicas=2, rank=0, seed=1)
    loader = tc.utils.data.DataLoader(range(12), batch_size=None, sampler=sampler)
    orders = [list(loader) for _ in range(2)]
    assert sampler.epoch == 1
    loader.set_epoch(5)
    later = list(loader)
    sampler.set_epoch(5)
    assert later == list(sampler) and later not in orders
