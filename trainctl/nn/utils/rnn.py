"""``nn.utils.rnn``: batches of sequences of different lengths, padded or packed, as in PyTorch.

A :class:`PackedSequence` holds the valid steps only, time-major: ``data`` has the first step of
every sequence, then the second step of every sequence still running, and so on;
``batch_sizes[t]`` says how many sequences are still running at step ``t``. The sequences are
ordered longest first; ``sorted_indices`` maps that order to the batch's own
(``None`` when the caller sorted them, ``enforce_sorted=True``).

Packing and unpacking are one gather (or scatter) op each, so gradients flow through them.
"""

from __future__ import annotations

from collections import namedtuple

import numpy

from ...autograd import creation
from ...autograd.array_function import ArrayFunction
from ...autograd.ops.indexing import pad
from ...autograd.ops.shape import stack
from ...autograd.tensor import Tensor
from ...core import backend

__all__ = [
    "PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
    "pack_sequence", "unpad_sequence", "unpack_sequence", "invert_permutation",
]


class _Gather(ArrayFunction):
    """``x[index]`` for an advanced-index tuple that never repeats an element."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.meta = (x.shape, index)
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        shape, index = ctx.meta
        out = backend.get_array_module(grad).zeros(shape, dtype=grad.dtype)
        out[index] = grad
        return out


class _Scatter(ArrayFunction):
    """A new array of ``shape`` filled with ``fill`` and ``x`` written at ``index``."""

    @staticmethod
    def forward(ctx, x, index, shape, fill):
        out = backend.get_array_module(x).full(shape, fill, dtype=x.dtype)
        out[index] = x
        ctx.index = index
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index]


def _as_lengths(lengths) -> numpy.ndarray:
    if isinstance(lengths, Tensor):
        lengths = lengths.tolist()
    return numpy.asarray(lengths, dtype=numpy.int64).reshape(-1)


def _long(values) -> Tensor:
    # Lengths and indices stay on the CPU whatever the default device, as in PyTorch: they are
    # read into Python to lay the steps out.
    return creation.tensor(numpy.asarray(values, dtype=numpy.int64), device="cpu")


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of ``0..n-1`` (``None`` stays ``None``).

    Example:
        >>> import trainctl as tc
        >>> invert_permutation(tc.tensor([2, 0, 1]))
        tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    perm = numpy.asarray(permutation.tolist(), dtype=numpy.int64)
    inverse = numpy.empty_like(perm)
    inverse[perm] = numpy.arange(len(perm))
    return _long(inverse)


class PackedSequence(namedtuple("PackedSequence_",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Sequences of different lengths as their valid steps only (see the module docstring).

    Made by :func:`pack_padded_sequence` or :func:`pack_sequence`, read by the recurrent layers
    and :func:`pad_packed_sequence`.

    Example:
        >>> import trainctl as tc
        >>> packed = pack_sequence([tc.ones(3, 2), tc.ones(1, 2)])
        >>> packed.batch_sizes
        tensor([2, 1, 1])
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same sequence with ``data`` moved or cast (the indices stay int64)."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._replace(data=data)

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def double(self) -> PackedSequence:
        return self._replace(data=self.data.double())

    def float(self) -> PackedSequence:
        return self._replace(data=self.data.float())

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def lengths(self) -> numpy.ndarray:
        """Each sequence's length, longest first (the packed order), as a NumPy array."""
        sizes = numpy.asarray(self.batch_sizes.tolist(), dtype=numpy.int64)
        return (sizes[:, None] > numpy.arange(int(sizes[0]))[None, :]).sum(axis=0)


def _packed_index(lengths: numpy.ndarray, order: numpy.ndarray, batch_first: bool, xp):
    """Index of every packed row into a padded tensor: (time, batch) or (batch, time)."""
    batch_sizes = (lengths[None, :] > numpy.arange(int(lengths.max()))[:, None]).sum(axis=1)
    time = numpy.repeat(numpy.arange(len(batch_sizes)), batch_sizes)
    starts = numpy.repeat(numpy.cumsum(batch_sizes) - batch_sizes, batch_sizes)
    rank = numpy.arange(len(time)) - starts  # position in the longest-first order
    batch = order[rank]
    index = (batch, time) if batch_first else (time, batch)
    return tuple(xp.asarray(i) for i in index), batch_sizes


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) given each length.

    With ``enforce_sorted=True`` the lengths must be in decreasing order; otherwise the batch is
    sorted here and ``sorted_indices`` records how.

    Example:
        >>> import trainctl as tc
        >>> packed = pack_padded_sequence(tc.zeros(3, 2, 4), [1, 3], enforce_sorted=False)
        >>> packed.data.shape, packed.sorted_indices
        (trainctl.Size([4, 4]), tensor([1, 0]))
    """
    lengths = _as_lengths(lengths)
    batch_dim = 0 if batch_first else 1
    if input.ndim < 2 or len(lengths) != input.shape[batch_dim]:
        raise ValueError(
            f"pack_padded_sequence: expected {input.shape[batch_dim] if input.ndim >= 2 else '?'}"
            f" lengths (one per sequence of the batch), got {len(lengths)}"
        )
    if len(lengths) and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")
    if lengths.max() > input.shape[1 - batch_dim]:
        raise RuntimeError(
            f"pack_padded_sequence: a length of {int(lengths.max())} is longer than the padded "
            f"sequences ({input.shape[1 - batch_dim]} steps)"
        )
    if enforce_sorted:
        if numpy.any(numpy.diff(lengths) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
        order, sorted_indices = numpy.arange(len(lengths)), None
    else:
        order = numpy.argsort(-lengths, kind="stable")
        sorted_indices = _long(order)
    xp = backend.get_array_module(input.array)
    index, batch_sizes = _packed_index(lengths[order], order, batch_first, xp)
    data = _Gather.apply(input, index=index)
    return PackedSequence(data, _long(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """Undo :func:`pack_padded_sequence`: (padded tensor, lengths as an int64 tensor), both in
    the batch's original order.

    Example:
        >>> import trainctl as tc
        >>> packed = pack_sequence([tc.ones(1, 2), tc.ones(3, 2)], enforce_sorted=False)
        >>> padded, lengths = pad_packed_sequence(packed, batch_first=True)
        >>> padded.shape, lengths
        (trainctl.Size([2, 3, 2]), tensor([1, 3]))
    """
    data = sequence.data
    sorted_lengths = sequence.lengths()
    steps = len(sorted_lengths) and int(sorted_lengths[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}"
            )
        steps = total_length
    batch = len(sorted_lengths)
    order = (numpy.arange(batch) if sequence.sorted_indices is None
             else numpy.asarray(sequence.sorted_indices.tolist(), dtype=numpy.int64))
    xp = backend.get_array_module(data.array)
    index, _ = _packed_index(sorted_lengths, order, batch_first, xp)
    shape = ((batch, steps) if batch_first else (steps, batch)) + tuple(data.shape[1:])
    padded = _Scatter.apply(data, index=index, shape=shape, fill=padding_value)
    lengths = numpy.empty(batch, dtype=numpy.int64)
    lengths[order] = sorted_lengths
    return padded, _long(lengths)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shape (L_i, *) into (L_max, B, *) (or (B, L_max, *)), padded.

    Example:
        >>> import trainctl as tc
        >>> pad_sequence([tc.ones(2), tc.ones(3)], batch_first=True)
        tensor([[1., 1., 0.],
                [1., 1., 1.]])
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = longest - s.shape[0]
        where = (0, extra) if padding_side == "right" else (extra, 0)
        padded.append(pad(s, (0, 0) * (s.ndim - 1) + where, value=padding_value) if extra
                      else s)
    return stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors (L_i, *); with ``enforce_sorted`` they must be longest first.

    Example:
        >>> import trainctl as tc
        >>> pack_sequence([tc.tensor([1, 2, 3]), tc.tensor([4, 5]), tc.tensor([6])]).data
        tensor([1, 4, 6, 2, 5, 3])
    """
    sequences = list(sequences)
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """Split a padded batch back into a list of tensors of their own lengths.

    Example:
        >>> import trainctl as tc
        >>> [t.shape[0] for t in unpad_sequence(tc.zeros(3, 2), tc.tensor([3, 1]))]
        [3, 1]
    """
    lengths = _as_lengths(lengths)
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(lengths)]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of tensors a :class:`PackedSequence` was made from.

    Example:
        >>> import trainctl as tc
        >>> [t.tolist() for t in unpack_sequence(pack_sequence([tc.tensor([1, 2]),
        ...                                                     tc.tensor([3])]))]
        [[1, 2], [3]]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def packed_to_padded(sequence: PackedSequence):
    """(padded (T, B, *) in the packed, longest-first order; lengths as a NumPy array) for the
    recurrent layers, which run on padded steps and skip the padding."""
    lengths = sequence.lengths()
    xp = backend.get_array_module(sequence.data.array)
    index, _ = _packed_index(lengths, numpy.arange(len(lengths)), False, xp)
    shape = (int(lengths[0]), len(lengths)) + tuple(sequence.data.shape[1:])
    return _Scatter.apply(sequence.data, index=index, shape=shape, fill=0.0), lengths


def padded_to_packed(padded: Tensor, like: PackedSequence) -> PackedSequence:
    """Pack the recurrent layers' padded output (longest-first order) with ``like``'s layout."""
    lengths = like.lengths()
    xp = backend.get_array_module(padded.array)
    index, _ = _packed_index(lengths, numpy.arange(len(lengths)), False, xp)
    return like._replace(data=_Gather.apply(padded, index=index))
