"""``SyntheticSequences``: algorithmic sequence tasks (copy, reverse, sort, add) from a seed.

Each sample is an int64 input sequence and an int64 target sequence of the same length, so an
encoder that predicts one class per position (``Embedding`` -> Transformer/LSTM -> ``Linear``
-> ``Permute([0, 2, 1])`` for ``CrossEntropyLoss``) can learn every task. Positions with
nothing to predict (the tail of an ``add`` target) hold -100, the ``ignore_index`` of
``CrossEntropyLoss`` and of the metrics.

- ``copy``: the input itself; ``reverse``: the input reversed; ``sort``: the input sorted
  (ascending). Inputs are ``length`` symbols drawn from ``0..n_symbols-1``.
- ``add``: two ``length``-digit numbers written ``a + b`` (most significant digit first, the
  ``+`` is token 10), and their sum's ``length + 1`` digits (leading zeros kept), then -100s.
"""

from __future__ import annotations

import numpy

from ...core.errors import DataError
from .base import ArrayDataset

TASKS = ("copy", "reverse", "sort", "add")
IGNORE_INDEX = -100
PLUS = 10  # the "+" token of the add task (digits are 0..9)


def _positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise DataError(f"SyntheticSequences: {name} must be a positive integer, got {value!r}")
    return value


def _digits(numbers: numpy.ndarray, width: int) -> numpy.ndarray:
    """(N, width) decimal digits of ``numbers``, most significant first."""
    powers = 10 ** numpy.arange(width - 1, -1, -1, dtype=numpy.int64)
    return (numbers[:, None] // powers) % 10


class SyntheticSequences(ArrayDataset):
    """Sequence-to-sequence toy tasks: ``copy``, ``reverse``, ``sort`` or ``add``.

    Args:
        task: ``copy``, ``reverse``, ``sort`` or ``add``.
        n_samples: number of sequences.
        length: symbols per input (``add``: digits per number, at most 17).
        n_symbols: distinct symbols (``add``: always the 10 digits).
        seed: seeds the draws (the data depend only on the arguments).

    Attributes:
        vocab_size: input tokens a model's ``Embedding`` needs (``n_symbols``, or 11 for add).
        num_classes: output classes (``n_symbols``, or 10 digits for add).
        seq_len: positions per sample.

    Example:
        >>> ds = SyntheticSequences("reverse", n_samples=4, length=5, seed=0)
        >>> x, y = ds[0]
        >>> y.tolist() == x.tolist()[::-1]
        True
        >>> add = SyntheticSequences("add", n_samples=2, length=2, seed=1)
        >>> add.render(0)  # doctest: +SKIP
        '47+85 -> 132'
    """

    def __init__(self, task: str = "reverse", n_samples: int = 1000, length: int = 8,
                 n_symbols: int = 10, seed: int = 0, transform=None, target_transform=None):
        if task not in TASKS:
            raise DataError(f"SyntheticSequences: task must be one of {', '.join(TASKS)}, got "
                            f"{task!r}")
        _positive("n_samples", n_samples)
        _positive("length", length)
        _positive("n_symbols", n_symbols)
        rng = numpy.random.Generator(numpy.random.PCG64(int(seed)))
        if task == "add":
            if length > 17:  # the sum must fit an int64
                raise DataError(f"SyntheticSequences: add takes at most 17 digits, got {length}")
            a, b = (rng.integers(0, 10 ** length, size=n_samples, dtype=numpy.int64)
                    for _ in range(2))
            plus = numpy.full((n_samples, 1), PLUS, dtype=numpy.int64)
            x = numpy.concatenate([_digits(a, length), plus, _digits(b, length)], axis=1)
            y = numpy.full_like(x, IGNORE_INDEX)
            y[:, :length + 1] = _digits(a + b, length + 1)
            self.vocab_size, self.num_classes = 11, 10
        else:
            x = rng.integers(0, n_symbols, size=(n_samples, length), dtype=numpy.int64)
            y = {"copy": x.copy(), "reverse": x[:, ::-1].copy(),
                 "sort": numpy.sort(x, axis=1)}[task]
            self.vocab_size = self.num_classes = n_symbols
        self.task, self.seq_len = task, x.shape[1]
        super().__init__(x, y, transform, target_transform)

    def render(self, index: int) -> str:
        """Sample ``index`` as text: ``'3 1 2 -> 1 2 3'``, or ``'47+85 -> 132'`` for add."""
        x, y = self.data[index], self.targets[index]
        y = y[y != IGNORE_INDEX]
        if self.task == "add":
            return "".join("+" if t == PLUS else str(t) for t in x) + " -> " + \
                "".join(map(str, y))
        return " ".join(map(str, x)) + " -> " + " ".join(map(str, y))
