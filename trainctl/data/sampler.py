"""Samplers: which dataset indices an epoch visits, in which order (``torch.utils.data`` names).

Every built-in sampler can also hand out a whole epoch's indices as one NumPy array
(``_index_array``), so :class:`BatchSampler` and the DataLoader slice batches out of it without a
Python loop over samples. Iterating a sampler still yields plain ints, as in PyTorch.

Randomness comes from ``generator`` (a :class:`trainctl.Generator`), else from the generator the
DataLoader hands in for the epoch, else from trainctl's default generator (``tc.manual_seed``).

Example:
    >>> import trainctl as tc
    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy

from ..core.random import generator_for


class Sampler:
    """Base class: an iterable over dataset indices (subclasses define ``__iter__``)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError


def _pick(own, fallback):
    """The sampler's own generator when it has one, else the one passed in for the epoch."""
    return generator_for(own if own is not None else fallback)


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order.

    Example:
        >>> list(SequentialSampler(range(3)))
        [0, 1, 2]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def _index_array(self, generator=None) -> numpy.ndarray:
        return numpy.arange(len(self.data_source), dtype=numpy.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices: a permutation (or ``num_samples`` draws with ``replacement=True``).

    Without replacement and ``num_samples > len(data_source)``, whole permutations follow one
    another, as in PyTorch.

    Example:
        >>> import trainctl as tc
        >>> sorted(RandomSampler(range(4), generator=tc.Generator().manual_seed(1)))
        [0, 1, 2, 3]
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got {replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got "
                f"num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _index_array(self, generator=None) -> numpy.ndarray:
        rng = _pick(self.generator, generator)
        n, k = len(self.data_source), self.num_samples
        if self.replacement:
            return rng.integers(0, n, size=k, dtype=numpy.int64)
        parts = [rng.permutation(n) for _ in range(k // n)]
        if k % n:
            parts.append(rng.permutation(n)[: k % n])
        return numpy.concatenate(parts).astype(numpy.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order, without replacement.

    Example:
        >>> sorted(SubsetRandomSampler([7, 3, 5]))
        [3, 5, 7]
    """

    def __init__(self, indices: Sequence[int], generator=None):
        self.indices = indices
        self.generator = generator

    def _index_array(self, generator=None) -> numpy.ndarray:
        order = _pick(self.generator, generator).permutation(len(self.indices))
        return numpy.asarray(self.indices, dtype=numpy.int64).reshape(-1)[order]

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices in ``[0, len(weights))`` drawn with probability ~ ``weights``.

    Args:
        weights: one non-negative weight per index (need not sum to one).
        num_samples: how many indices an epoch draws.
        replacement: draw with replacement (default) or each index at most once.
        generator: the random stream (default: the loader's epoch generator or the global one).

    Example:
        >>> list(WeightedRandomSampler([0.0, 1.0, 0.0], 3))
        [1, 1, 1]
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got "
                f"num_samples={num_samples}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got {replacement!r}")
        w = numpy.asarray(weights.tolist() if hasattr(weights, "tolist") else weights,
                          dtype=numpy.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(w.shape)}")
        if not numpy.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError("weights must be finite, non-negative and not all zero")
        if not replacement and num_samples > int((w > 0).sum()):
            raise ValueError(
                f"cannot draw {num_samples} samples without replacement from "
                f"{int((w > 0).sum())} indices of non-zero weight"
            )
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def _index_array(self, generator=None) -> numpy.ndarray:
        rng = _pick(self.generator, generator)
        p = self.weights / self.weights.sum()
        picks = rng.choice(len(p), size=self.num_samples, replace=self.replacement, p=p)
        return picks.astype(numpy.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples


def _gives_arrays(sampler) -> bool:
    """True for built-in samplers whose ``__iter__`` a subclass has not replaced."""
    return type(sampler).__iter__ in _ARRAY_ITERS


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size``.

    Args:
        sampler: any iterable of indices (a Sampler, a range, a list).
        batch_size: indices per batch (positive int).
        drop_last: drop the last batch when it would be smaller than ``batch_size``.

    Example:
        >>> list(BatchSampler(range(5), 2, drop_last=True))
        [[0, 1], [2, 3]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def _batches(self, generator=None) -> Iterator[numpy.ndarray]:
        """The batches as int64 arrays; one array per epoch when the sampler can give it."""
        bs = self.batch_size
        if _gives_arrays(self.sampler):
            idx = self.sampler._index_array(generator)
            stop = len(idx) - len(idx) % bs if self.drop_last else len(idx)
            return (idx[i:i + bs] for i in range(0, stop, bs))
        return self._grouped()

    def _grouped(self) -> Iterator[numpy.ndarray]:
        batch = []
        for i in self.sampler:
            batch.append(int(i))
            if len(batch) == self.batch_size:
                yield numpy.asarray(batch, dtype=numpy.int64)
                batch = []
        if batch and not self.drop_last:
            yield numpy.asarray(batch, dtype=numpy.int64)

    def __iter__(self) -> Iterator[list[int]]:
        return (b.tolist() for b in self._batches())

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


_ARRAY_ITERS = {cls.__iter__ for cls in (SequentialSampler, RandomSampler, SubsetRandomSampler,
                                         WeightedRandomSampler)}
