"""trainctl's own sequence layers for configs: positional encodings, and adapters that turn a
recurrent layer's tuple output into one tensor.

A config's ``Sequential`` hands each layer's output to the next, so after ``LSTM`` (which
returns ``(output, (h_n, c_n))``) comes one of these adapters:

- :class:`RNNOutput`: the output sequence (padded, if the input was packed);
- :class:`LastTimeStep`: the output at each sequence's own last step;
- :class:`MeanOverTime`: the mean of the output over each sequence's valid steps;
- :class:`FinalHidden`: the last layer's final hidden state, both directions side by side.

and :class:`Permute` reorders dimensions: a per-step classifier's (N, T, C) output becomes the
(N, C, T) that ``CrossEntropyLoss`` reads. :class:`PackedEmbedding` is an ``Embedding`` that
packs padded token ids by their lengths, so a recurrent layer after it skips the padding.

They also take a plain tensor (a Transformer encoder's output, say) or a ``PackedSequence``.
None of them has parameters, so a model's ``state_dict`` keys stay PyTorch's.
"""

from __future__ import annotations

import math

import numpy

from ...autograd import creation
from ...autograd.ops.shape import cat
from ...autograd.tensor import Tensor
from ...core import backend
from .. import init
from ..functional.dropout import dropout
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence
from .sparse import Embedding

__all__ = ["SinusoidalPositionalEncoding", "LearnedPositionalEncoding", "RNNOutput",
           "LastTimeStep", "MeanOverTime", "FinalHidden", "Permute", "PackedEmbedding"]


def _output(x):
    """The output sequence of a recurrent layer's ``(output, h_n)``, or ``x`` itself."""
    return x[0] if isinstance(x, tuple) and not isinstance(x, PackedSequence) else x


def _padded(x, batch_first: bool):
    """(padded output, lengths as an int64 tensor or None) of a tensor or PackedSequence."""
    x = _output(x)
    if isinstance(x, PackedSequence):
        return pad_packed_sequence(x, batch_first=batch_first)
    return x, None


class _PositionalEncoding(Module):
    def __init__(self, d_model: int, max_len: int, dropout: float, batch_first: bool):
        super().__init__()
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout}")
        self.d_model, self.max_len = d_model, max_len
        self.dropout, self.batch_first = dropout, batch_first

    def _positions(self, x: Tensor, table: Tensor) -> Tensor:
        length = x.shape[1 if self.batch_first and x.ndim == 3 else 0]
        if length > self.max_len:
            raise ValueError(f"{type(self).__name__}: a sequence of {length} steps is longer "
                             f"than max_len={self.max_len}")
        if x.shape[-1] != self.d_model:
            raise ValueError(f"{type(self).__name__}: expected {self.d_model} features, got "
                             f"{x.shape[-1]}")
        rows = table[:length]  # (T, D)
        if x.ndim == 3 and not self.batch_first:
            rows = rows.unsqueeze(1)  # (T, 1, D) broadcasts over the batch
        out = x + rows
        return dropout(out, self.dropout, self.training) if self.dropout else out

    def extra_repr(self) -> str:
        return (f"d_model={self.d_model}, max_len={self.max_len}, dropout={self.dropout}, "
                f"batch_first={self.batch_first}")


class SinusoidalPositionalEncoding(_PositionalEncoding):
    """Adds the fixed sine/cosine position signal of "Attention Is All You Need", then dropout.

    ``PE[t, 2i] = sin(t / 10000^(2i/d))``, ``PE[t, 2i+1] = cos(t / 10000^(2i/d))``. Input
    (N, T, d_model) with ``batch_first`` (the default here), else (T, N, d_model). The table is
    a non-persistent buffer: not in the ``state_dict``.

    Example:
        >>> import trainctl as tc
        >>> pe = tc.nn.SinusoidalPositionalEncoding(16, max_len=100)
        >>> pe(tc.zeros(2, 10, 16)).shape
        trainctl.Size([2, 10, 16])
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0,
                 batch_first: bool = True, device=None, dtype=None):
        super().__init__(d_model, max_len, dropout, batch_first)
        position = numpy.arange(max_len)[:, None]
        div = numpy.exp(numpy.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        table = numpy.zeros((max_len, d_model))
        table[:, 0::2] = numpy.sin(position * div)
        table[:, 1::2] = numpy.cos(position * div)[:, :d_model // 2]
        pe = creation.tensor(table.astype(numpy.float32), device=device)
        self.register_buffer("pe", pe.to(dtype) if dtype is not None else pe, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return self._positions(x, self.pe.to(x.dtype))


class LearnedPositionalEncoding(_PositionalEncoding):
    """Adds a trained vector per position (``weight``: (max_len, d_model), N(0, 0.02)), then
    dropout, as in BERT and GPT.

    Example:
        >>> import trainctl as tc
        >>> pe = tc.nn.LearnedPositionalEncoding(16, max_len=32)
        >>> pe(tc.zeros(2, 10, 16)).shape
        trainctl.Size([2, 10, 16])
    """

    def __init__(self, d_model: int, max_len: int = 512, dropout: float = 0.0,
                 batch_first: bool = True, device=None, dtype=None):
        super().__init__(d_model, max_len, dropout, batch_first)
        self.weight = Parameter(creation.empty(max_len, d_model, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight, 0.0, 0.02)

    def forward(self, x: Tensor) -> Tensor:
        return self._positions(x, self.weight)


class RNNOutput(Module):
    """The output sequence of a recurrent layer's ``(output, h_n)``; a packed output comes back
    padded (zeros after each sequence's end).

    Example:
        >>> import trainctl as tc
        >>> model = tc.nn.Sequential(tc.nn.GRU(4, 8, batch_first=True), tc.nn.RNNOutput())
        >>> model(tc.randn(2, 5, 4)).shape
        trainctl.Size([2, 5, 8])
    """

    def __init__(self, batch_first: bool = True):
        super().__init__()
        self.batch_first = batch_first

    def forward(self, x) -> Tensor:
        return _padded(x, self.batch_first)[0]

    def extra_repr(self) -> str:
        return f"batch_first={self.batch_first}"


class LastTimeStep(RNNOutput):
    """The output at each sequence's own last step: (N, features).

    A plain tensor is (N, T, F) with ``batch_first`` (the default), else (T, N, F); a packed
    sequence gives each sequence's last valid step. (For a bidirectional layer the reverse half
    at the last step has seen one step only: :class:`FinalHidden` is usually what is wanted.)

    Example:
        >>> import trainctl as tc
        >>> model = tc.nn.Sequential(tc.nn.LSTM(4, 8, batch_first=True), tc.nn.LastTimeStep())
        >>> model(tc.randn(2, 5, 4)).shape
        trainctl.Size([2, 8])
    """

    def forward(self, x) -> Tensor:
        padded, lengths = _padded(x, True)
        if lengths is None:
            return padded[:, -1] if self.batch_first else padded[-1]
        last = [int(n) - 1 for n in lengths.tolist()]
        return padded[list(range(len(last))), last]


class MeanOverTime(RNNOutput):
    """The mean over each sequence's valid steps: (N, features).

    Example:
        >>> import trainctl as tc
        >>> MeanOverTime()(tc.ones(2, 5, 3)).shape
        trainctl.Size([2, 3])
    """

    def forward(self, x) -> Tensor:
        padded, lengths = _padded(x, True)
        if lengths is None:
            return padded.mean(1 if self.batch_first else 0)
        # Padding is zeros, so the sum over all steps is the sum over the valid ones.
        counts = lengths.to(padded.dtype).reshape(-1, *([1] * (padded.ndim - 2)))
        return padded.sum(1) / counts


class FinalHidden(Module):
    """The final hidden state of a recurrent layer's last layer: (N, D * H), the forward and
    reverse directions side by side (``h_n`` of ``(output, h_n)`` or of ``(output, (h_n, c_n))``).

    Example:
        >>> import trainctl as tc
        >>> model = tc.nn.Sequential(tc.nn.LSTM(4, 8, num_layers=2, bidirectional=True),
        ...                          tc.nn.FinalHidden(bidirectional=True))
        >>> model(tc.randn(5, 2, 4)).shape
        trainctl.Size([2, 16])
    """

    def __init__(self, bidirectional: bool = False):
        super().__init__()
        self.bidirectional = bidirectional

    def forward(self, x) -> Tensor:
        if not isinstance(x, tuple) or isinstance(x, PackedSequence):
            raise TypeError("FinalHidden expects the (output, h_n) tuple of RNN, LSTM or GRU")
        h_n = x[1][0] if isinstance(x[1], tuple) else x[1]
        if not self.bidirectional:
            return h_n[-1]
        return cat([h_n[-2], h_n[-1]], -1)

    def extra_repr(self) -> str:
        return f"bidirectional={self.bidirectional}"


class Permute(Module):
    """``x.permute(*dims)`` as a layer (torchvision's ``ops.Permute``).

    A per-step classifier (a language model, a sequence tagger) outputs (N, T, C);
    ``CrossEntropyLoss`` and the metrics read the classes on dimension 1, so such a model ends
    with ``Permute([0, 2, 1])``.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.Permute([0, 2, 1])(tc.zeros(2, 5, 7)).shape
        trainctl.Size([2, 7, 5])
    """

    def __init__(self, dims: list[int]):
        super().__init__()
        self.dims = [int(d) for d in dims]

    def forward(self, x: Tensor) -> Tensor:
        return x.permute(*self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class PackedEmbedding(Embedding):
    """An ``Embedding`` whose output is packed by each row's length: padded ids (N, T) in, a
    ``PackedSequence`` of (N, T, embedding_dim) out, so ``LSTM``/``GRU`` skip the padding and
    ``LastTimeStep``/``MeanOverTime`` read each row's real steps only.

    A row's length is its number of ids other than ``padding_idx`` (default 0, the ``<pad>``
    of a ``CSVDataset`` text column); the padding must come after the tokens (``padding:
    post``) and every row needs one token (an empty text is one ``<unk>``). Same arguments and
    ``state_dict`` (``weight``) as ``Embedding``.

    Example:
        >>> import trainctl as tc
        >>> model = tc.nn.Sequential(tc.nn.PackedEmbedding(10, 4),
        ...                          tc.nn.GRU(4, 8, batch_first=True), tc.nn.LastTimeStep())
        >>> model(tc.tensor([[3, 5, 0], [7, 0, 0]])).shape
        trainctl.Size([2, 8])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = 0,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False, device=None,
                 dtype=None):
        if padding_idx is None:
            raise ValueError("PackedEmbedding needs a padding_idx: the id that marks padding")
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                         scale_grad_by_freq, sparse, device=device, dtype=dtype)

    def forward(self, input: Tensor) -> PackedSequence:
        if input.ndim != 2:
            raise ValueError(f"PackedEmbedding expects padded ids (N, T), got shape "
                             f"{tuple(input.shape)}")
        embedded = super().forward(input)
        if backend.is_meta(input.array):  # shapes only: every row counts as full
            return pack_padded_sequence(embedded, [input.shape[1]] * input.shape[0],
                                        batch_first=True)
        real = numpy.asarray(backend.to_device(input.array, backend.CPU)) != self.padding_idx
        if (real[:, 1:] & ~real[:, :-1]).any():
            raise ValueError("PackedEmbedding: padding must come after the tokens (a token "
                             "follows padding; use padding: post)")
        lengths = real.sum(axis=1)
        if (lengths == 0).any():
            raise ValueError("PackedEmbedding: a row has no token besides padding")
        return pack_padded_sequence(embedded, lengths.astype(numpy.int64), batch_first=True,
                                    enforce_sorted=False)
