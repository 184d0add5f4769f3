"""``DataLoader``: batches from a dataset, with PyTorch's arguments and a resumable position.

Shuffling is a pure function of ``(seed, epoch)``: epoch ``e`` visits the permutation drawn from a
generator seeded by ``SeedSequence([seed, e])``, so each epoch differs, every run with the same
seed repeats, and nothing else drawn in between (dropout, init) changes it. ``seed`` defaults to
one number drawn from ``generator`` (or trainctl's default generator) when the loader is built, so
``tc.manual_seed(n)`` before building makes the whole run repeatable. Built-in random samplers
that have no generator of their own draw from the same per-epoch generator.

Position: ``state_dict()`` gives ``{"epoch", "batches_done", "seed"}``; after
``load_state_dict`` the next ``iter()`` yields exactly the batches of that epoch not yet handed
out, skipping the done ones without loading them. Every other ``iter()`` starts a new epoch:
the first is epoch 0, and each later one follows the last (finished or abandoned) epoch.
``set_epoch(e)`` chooses the next epoch explicitly. A sampler with a generator of its own
(``WeightedRandomSampler(..., generator=g)``) draws each epoch from that stream instead, so the
state then also holds ``"sampler_generator"``: the stream's state where the unfinished epoch
began (or, between epochs, where the next one begins), restored by ``load_state_dict``.

Fast path: when the collate function is the default one and the dataset has
``get_batch(indices)`` (array-backed datasets, ``TensorDataset``, and ``Subset``/``ConcatDataset``
of them), each batch is ONE ``get_batch`` call: a fancy index per array and vectorised batch
transforms, no per-sample Python work. Otherwise samples are fetched one by one
(``__getitems__`` if the dataset has it) and collated; both paths give the same batches.

``num_workers > 0`` is accepted for compatibility but everything runs in the main process
(``worker_init_fn(0)`` is called at the start of each epoch); ``pin_memory``, ``timeout``,
``prefetch_factor`` and ``persistent_workers`` are accepted and have no effect.
"""

from __future__ import annotations

import numpy

from ..core.errors import DataError
from ..core.random import Generator, generator_for
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _gives_arrays


def _epoch_generator(seed: int, epoch: int) -> Generator:
    words = numpy.random.SeedSequence([seed & (2**64 - 1), epoch]).generate_state(2, numpy.uint64)
    return Generator().manual_seed(int(words[0]) << 64 | int(words[1]))


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: a map-style dataset (``__getitem__`` + ``__len__``) or an ``IterableDataset``.
        batch_size: samples per batch; None yields single samples (no collation).
        shuffle: visit the samples in a new random order each epoch.
        sampler: the order of indices (exclusive with ``shuffle``).
        batch_sampler: yields whole index lists (exclusive with batch_size, shuffle, sampler,
            drop_last).
        num_workers: accepted; loading always runs in the main process.
        collate_fn: merges a list of samples (default: :func:`default_collate`).
        drop_last: drop the last incomplete batch.
        generator: where the default ``seed`` is drawn from (default: trainctl's generator).
        seed: the shuffle seed (see the module docstring).

    Example:
        >>> import trainctl as tc
        >>> ds = tc.utils.data.TensorDataset(tc.arange(10.), tc.arange(10))
        >>> loader = DataLoader(ds, batch_size=4, shuffle=True, seed=0)
        >>> len(loader), [len(x) for x, y in loader]
        (3, [4, 4, 2])
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, generator=None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, seed: int | None = None):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory, self.timeout = pin_memory, timeout
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor, self.persistent_workers = prefetch_factor, persistent_workers
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 "and batch_sampler options")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self._auto_collation = batch_sampler is not None or (self._iterable and batch_size)
        self.collate_fn = collate_fn or (default_collate if self._auto_collation
                                         else default_convert)
        fetch = getattr(dataset, "get_batch", None)
        self._get_batch = fetch if (callable(fetch) and self.collate_fn is default_collate
                                    and batch_sampler is not None) else None
        self.seed = int(seed) if seed is not None else int(
            generator_for(generator).integers(0, 2**63 - 1))
        self._epoch, self._batches_done = 0, 0
        self._in_epoch = False  # an iteration started this epoch and has not finished it
        self._resume = False  # load_state_dict asked the next iter() to continue mid-epoch
        self._token = 0  # which iterator owns the position (the most recent one)
        self._gen_snapshot = None  # the sampler's own generator where this epoch's draw began

    # ----------------------------------------------------------------- length and state
    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if not self.batch_size:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def state_dict(self) -> dict:
        """The loader's position: ``{"epoch", "batches_done", "seed"}`` (JSON-able), and
        ``"sampler_generator"`` when the sampler has a generator of its own."""
        state = {"epoch": self._epoch, "batches_done": self._batches_done, "seed": self.seed}
        own = self._own_generator()
        if own is not None:
            # mid-epoch: where this epoch's draw began, so a resume draws the same order
            mid = (self._in_epoch and self._gen_snapshot is not None
                   and self._batches_done < len(self))
            state["sampler_generator"] = self._gen_snapshot if mid else own.get_state()
        return state

    def _own_generator(self):
        """The (trainctl) generator the sampler draws from instead of the per-epoch one."""
        sampler = self.sampler if self.sampler is not None else getattr(
            self.batch_sampler, "sampler", None)
        gen = getattr(sampler, "generator", None)
        return gen if callable(getattr(gen, "set_state", None)) else None

    def load_state_dict(self, state: dict) -> None:
        """Continue from ``state``: the next ``iter()`` yields the batches not yet done."""
        missing = {"epoch", "batches_done"} - set(state)
        if missing:
            raise DataError(f"DataLoader.load_state_dict: missing {sorted(missing)}")
        epoch, done = int(state["epoch"]), int(state["batches_done"])
        if epoch < 0 or done < 0:
            raise DataError(f"DataLoader.load_state_dict: negative position {epoch}/{done}")
        if "seed" in state and state["seed"] is not None:
            self.seed = int(state["seed"])
        try:
            total = len(self)
        except TypeError:
            total = None
        if total is not None and done > total:
            raise DataError(f"DataLoader.load_state_dict: {done} batches done, but an epoch has "
                            f"only {total} (did the dataset or batch size change?)")
        if total is not None and done == total:
            epoch, done = epoch + 1, 0
        own = self._own_generator()
        if own is not None and state.get("sampler_generator") is not None:
            try:
                own.set_state(state["sampler_generator"])
            except (KeyError, TypeError, ValueError):
                raise DataError("DataLoader.load_state_dict: 'sampler_generator' is not a "
                                "generator state (from Generator.get_state())") from None
            self._gen_snapshot = state["sampler_generator"]
        self._epoch, self._batches_done = epoch, done
        self._resume, self._in_epoch = done > 0, False
        self._token += 1

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``iter()`` start epoch ``epoch`` (a pending resume of it is kept)."""
        if self._resume and epoch == self._epoch:
            return
        self._epoch, self._batches_done = int(epoch), 0
        self._resume = self._in_epoch = False
        self._token += 1

    # ----------------------------------------------------------------- iteration
    def __iter__(self):
        if self._resume:
            start = self._batches_done
        else:
            if self._in_epoch:  # the last iteration stopped early: move on to the next epoch
                self._epoch += 1
            start = 0
        self._resume, self._in_epoch, self._batches_done = False, True, start
        self._token += 1
        if self.num_workers > 0 and self.worker_init_fn is not None:
            self.worker_init_fn(0)
        return _LoaderIter(self, self._token, self._epoch, start)

    def _index_batches(self, epoch: int):
        """This epoch's index batches (int64 arrays), or single indices without batching."""
        gen = _epoch_generator(self.seed, epoch)
        own = self._own_generator()
        if own is not None:
            self._gen_snapshot = own.get_state()
        for s in (self.sampler, self.batch_sampler):
            if hasattr(s, "set_epoch"):
                s.set_epoch(epoch)
        if self.batch_sampler is None:
            if _gives_arrays(self.sampler):
                return iter(self.sampler._index_array(gen).tolist())
            return iter(self.sampler)
        if isinstance(self.batch_sampler, BatchSampler):
            return self.batch_sampler._batches(gen)
        return (numpy.asarray(b, dtype=numpy.int64) for b in self.batch_sampler)

    def _fetch(self, index):
        if self.batch_sampler is None:  # no auto-collation: one sample at a time
            return self.collate_fn(self.dataset[index])
        if self._get_batch is not None:
            return self._get_batch(index)
        indices = index.tolist()
        getitems = getattr(self.dataset, "__getitems__", None)
        samples = getitems(indices) if callable(getitems) else [self.dataset[i] for i in indices]
        return self.collate_fn(samples)

    def _iterable_batches(self, skip: int):
        it = iter(self.dataset)
        if not self.batch_size:
            for i, sample in enumerate(it):
                if i >= skip:
                    yield self.collate_fn(sample)
            return
        count, batch = 0, []
        for sample in it:
            batch.append(sample)
            if len(batch) == self.batch_size:
                if count >= skip:
                    yield self.collate_fn(batch)
                count, batch = count + 1, []
        if batch and not self.drop_last and count >= skip:
            yield self.collate_fn(batch)


class _LoaderIter:
    """One pass over the loader; updates the loader's position while it is the current one."""

    def __init__(self, loader: DataLoader, token: int, epoch: int, start: int):
        self._loader, self._token, self._done = loader, token, start
        if loader._iterable:
            self._source, self._indices = loader._iterable_batches(start), None
        else:
            self._indices = loader._index_batches(epoch)
            for _ in range(start):  # skip what was already done: indices only, no data loaded
                next(self._indices, None)

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return len(self._loader)

    def __next__(self):
        loader = self._loader
        try:
            if self._indices is None:
                batch = next(self._source)
            else:
                batch = loader._fetch(next(self._indices))
        except StopIteration:
            if loader._token == self._token and loader._in_epoch:
                loader._epoch, loader._batches_done, loader._in_epoch = loader._epoch + 1, 0, False
            raise
        self._done += 1
        if loader._token == self._token:
            loader._batches_done = self._done
        return batch
