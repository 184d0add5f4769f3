"""``DistributedSampler``: each rank's share of a dataset, as ``torch.utils.data.distributed``.

The indices (shuffled or not) are padded by repeating from the start until they divide evenly
over the ranks (or cut with ``drop_last``), and rank ``r`` takes every ``num_replicas``-th index
starting at ``r``: PyTorch's rule, index for index (``tests/golden/distributed_sampler.json``).

The shuffled order is the one trainctl's ``DataLoader(shuffle=True, seed=seed)`` visits in the
same epoch (the permutation of the generator seeded from ``(seed, epoch)``), so N ranks with
batch B each see, step for step, the samples one process sees with batch N * B. That order is
trainctl's own, not torch's ``randperm``: the two libraries draw different random numbers.

Example:
    >>> sampler = DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
    >>> list(sampler)
    [1, 4, 7, 0]
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy

from ..core.random import generator_for
from ..distributed import process_group as group
from .dataloader import _epoch_generator
from .sampler import Sampler


class DistributedSampler(Sampler):
    """The indices of ``dataset`` that rank ``rank`` of ``num_replicas`` visits in an epoch.

    Args:
        dataset: a map-style dataset (only its length is used).
        num_replicas: the number of ranks (default: ``tc.distributed.get_world_size()``).
        rank: this rank (default: ``tc.distributed.get_rank()``).
        shuffle: a new order each epoch (call :meth:`set_epoch`; a ``DataLoader`` holding the
            sampler does it at each ``iter()``).
        seed: the shuffle seed, the same on every rank.
        drop_last: drop the tail that does not divide evenly instead of padding.

    Example:
        >>> s = DistributedSampler(range(5), num_replicas=2, rank=0, shuffle=False)
        >>> list(s), len(s)
        ([0, 2, 4], 3)
        >>> s = DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False)
        >>> list(s)
        [1, 3, 0]
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        if num_replicas is None:
            num_replicas = group.get_world_size()
        if rank is None:
            rank = group.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def global_indices(self) -> numpy.ndarray:
        """The epoch's padded (or cut) index list of every rank together; rank ``r`` takes
        ``[r::num_replicas]`` of it."""
        n = len(self.dataset)
        if self.shuffle:
            rng = generator_for(_epoch_generator(self.seed, self.epoch))
            indices = rng.permutation(n).astype(numpy.int64)
        else:
            indices = numpy.arange(n, dtype=numpy.int64)
        if not self.drop_last:
            padding = self.total_size - n
            if padding > 0:
                indices = numpy.concatenate([indices, numpy.resize(indices, padding)])
        return indices[:self.total_size]

    def __iter__(self) -> Iterator[int]:
        return iter(self.global_indices()[self.rank:self.total_size:self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order from the next ``iter()`` on (the same on every rank)."""
        self.epoch = epoch

    def state_dict(self) -> dict:
        """What a resumed run needs to visit the same order: ``{"epoch", "seed"}`` with the
        rank layout, so a resume on another world size can be told apart."""
        return {"epoch": self.epoch, "seed": self.seed, "num_replicas": self.num_replicas,
                "rank": self.rank, "shuffle": self.shuffle, "drop_last": self.drop_last}

    def load_state_dict(self, state: dict) -> None:
        """Take ``epoch`` and ``seed`` from :meth:`state_dict`'s output (the rank layout is
        this sampler's own: a checkpoint of another world size loads its epoch and seed)."""
        self.epoch = int(state["epoch"])
        self.seed = int(state["seed"])
