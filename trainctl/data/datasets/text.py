"""``TextFile``: a plain text file as (input, next-token target) windows, for language models.

The text is cut into tokens (``char``: characters; ``whitespace``: split at whitespace;
``words``: runs of letters and digits, and each punctuation mark on its own; ``bpe``: byte-level
BPE trained on the file with the ``tokenizers`` library, the optional ``text`` extra), the tokens
become ids through a vocabulary, and sample ``i`` is the window
``ids[i * stride : i * stride + seq_len]`` with the same window one token later as its target,
both int64 ``(seq_len,)``.

The vocabulary is :meth:`TextFile.preprocessing_state`, a JSON-able dict that a run stores in its
checkpoint; :class:`Vocabulary` turns it back into ``encode``/``decode`` for ``trainctl
generate``. A file that is missing, empty, binary (NUL bytes), not UTF-8, larger than
``max_bytes`` or too short for one window is a :class:`DataError` naming the file.

Example:
    >>> ds = TextFile("corpus.txt", seq_len=64)  # doctest: +SKIP
    >>> x, y = ds[0]  # doctest: +SKIP
    >>> ds.vocab.decode(x.tolist())[:20]  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
from collections import Counter

import numpy

from ...autograd.tensor import Tensor
from ...core.errors import DataError
from ..dataset import Dataset
from .checks import decode_utf8, os_error

TOKENIZERS = ("char", "whitespace", "words", "bpe")
_WORDS = re.compile(r"\w+|[^\w\s]")  # "words": runs of letters/digits, each punctuation mark
UNK = "<unk>"
MAX_BYTES = 64 * 2**20


def read_text(path: str, max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of ``path`` (a BOM dropped), or a DataError: missing, unreadable, larger
    than ``max_bytes``, binary (a NUL byte), not UTF-8, or holding only whitespace.

    Example:
        >>> read_text("missing.txt")
        Traceback (most recent call last):
        ...
        trainctl.core.errors.DataError: text file not found: missing.txt
    """
    try:
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)  # never more than the limit in memory
    except OSError as e:
        raise os_error(path, e, "text") from None
    if len(raw) > max_bytes:
        raise DataError(f"{path}: larger than max_bytes={max_bytes} bytes; pass a larger "
                        "max_bytes to read it")
    nul = raw.find(b"\0")
    if nul >= 0:
        raise DataError(f"{path}: a NUL byte at offset {nul}: this is a binary file, not text")
    text = decode_utf8(raw, path)
    if not text.strip():
        raise DataError(f"{path}: the file is empty (no text)")
    return text


class Vocabulary:
    """Tokens <-> ids: ``encode(text)`` and ``decode(ids)`` for one tokenizer.

    ``char`` and ``whitespace`` vocabularies are a token list whose id 0 is ``<unk>`` (tokens
    not in the list); ``bpe`` keeps the trained ``tokenizers`` model as its JSON text. Built by
    :meth:`fit` from a text, or by :meth:`from_state` from :meth:`state`.

    Example:
        >>> v = Vocabulary.fit("hello world", "char")
        >>> v.tokens[:4], len(v)
        (['<unk>', ' ', 'd', 'e'], 9)
        >>> v.decode(v.encode("hold"))
        'hold'
    """

    def __init__(self, tokenizer: str, tokens: list[str] | None = None, bpe: str | None = None):
        if tokenizer not in TOKENIZERS:
            raise DataError(f"TextFile: tokenizer must be one of {', '.join(TOKENIZERS)}, got "
                            f"{tokenizer!r}")
        self.tokenizer, self.tokens, self.bpe = tokenizer, tokens, None
        if tokenizer == "bpe":
            self.bpe = _bpe_from_json(bpe)
            self.tokens = None
            self._json = bpe
        else:
            self.index = {t: i for i, t in enumerate(tokens)}
            self.unk = self.index.get(UNK, 0)  # id 0, or 1 after a <pad> (text columns)

    @classmethod
    def fit(cls, text, tokenizer: str = "char", max_vocab: int | None = None,
            min_freq: int = 1, specials: tuple[str, ...] = (UNK,)) -> Vocabulary:
        """The vocabulary of ``text`` (a string, or a list of strings counted together): its
        tokens by frequency (then alphabetically for ``whitespace``; characters in code-point
        order) after the ``specials``, at most ``max_vocab`` ids in all, each token seen
        ``min_freq`` times or more. ``bpe`` trains ``max_vocab`` ids (default 1000)."""
        texts = [text] if isinstance(text, str) else text
        if tokenizer == "bpe":
            return cls("bpe", bpe=_train_bpe("".join(texts), max_vocab or 1000, min_freq))
        if tokenizer not in TOKENIZERS:
            raise DataError(f"TextFile: tokenizer must be one of {', '.join(TOKENIZERS)}, got "
                            f"{tokenizer!r}")
        counts = Counter()
        for t in texts:
            counts.update(_split(t, tokenizer))
        kept = sorted((t for t, n in counts.items() if n >= min_freq and t not in specials),
                      key=lambda t: (-counts[t], t))
        if max_vocab is not None:
            kept = kept[:max(0, max_vocab - len(specials))]
        if tokenizer == "char":
            kept.sort()  # readable: ' ', '!', ..., 'a', 'b', ...
        return cls(tokenizer, [*specials, *kept])

    def __len__(self) -> int:
        return self.bpe.get_vocab_size() if self.bpe is not None else len(self.tokens)

    def encode(self, text: str) -> numpy.ndarray:
        """The ids of ``text`` (int64); a token not in the vocabulary is ``<unk>``."""
        if self.bpe is not None:
            # line by line keeps the Rust tokenizer's memory small; newlines stay in the text
            lines = text.splitlines(keepends=True)
            ids = [i for enc in self.bpe.encode_batch(lines) for i in enc.ids]
            return numpy.asarray(ids, dtype=numpy.int64)
        pieces = _split(text, self.tokenizer)
        get, unk = self.index.get, self.unk
        return numpy.fromiter((get(t, unk) for t in pieces), dtype=numpy.int64,
                              count=len(pieces))

    def decode(self, ids) -> str:
        """The text of ``ids`` (characters joined; words joined by spaces; BPE decoded)."""
        ids = [int(i) for i in ids]
        if self.bpe is not None:
            return self.bpe.decode(ids)
        bad = [i for i in ids if not 0 <= i < len(self.tokens)]
        if bad:
            raise DataError(f"token id {bad[0]} is out of range for a vocabulary of "
                            f"{len(self.tokens)} tokens")
        sep = "" if self.tokenizer == "char" else " "
        return sep.join(self.tokens[i] for i in ids)

    def state(self) -> dict:
        """A JSON-able dict :meth:`from_state` turns back into this vocabulary."""
        if self.bpe is not None:
            return {"tokenizer": "bpe", "tokens": None, "bpe": self._json}
        return {"tokenizer": self.tokenizer, "tokens": list(self.tokens), "bpe": None}

    @classmethod
    def from_state(cls, state) -> Vocabulary:
        """The vocabulary a :meth:`state` dict (from a checkpoint) describes; a DataError names
        what is malformed."""
        if not isinstance(state, dict) or state.get("tokenizer") not in TOKENIZERS:
            raise DataError(f"malformed vocabulary: expected a dict with a tokenizer of "
                            f"{', '.join(TOKENIZERS)}, got {state!r:.80}")
        if state["tokenizer"] == "bpe":
            if not isinstance(state.get("bpe"), str):
                raise DataError("malformed vocabulary: a bpe vocabulary needs its tokenizer JSON")
            return cls("bpe", bpe=state["bpe"])
        tokens = state.get("tokens")
        if (not isinstance(tokens, list) or not tokens
                or not all(isinstance(t, str) for t in tokens) or len(set(tokens)) != len(tokens)):
            raise DataError("malformed vocabulary: tokens must be a non-empty list of distinct "
                            "strings")
        return cls(state["tokenizer"], tokens)


def _split(text: str, tokenizer: str):
    if tokenizer == "char":
        return text
    return text.split() if tokenizer == "whitespace" else _WORDS.findall(text)


def _tokenizers():
    try:
        import tokenizers
    except ImportError:
        raise DataError("tokenizer 'bpe' needs the tokenizers package: pip install "
                        "'trainctl[text]'") from None
    return tokenizers


def _train_bpe(text: str, vocab_size: int, min_freq: int) -> str:
    tk = _tokenizers()
    tokenizer = tk.Tokenizer(tk.models.BPE())
    tokenizer.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = tk.decoders.ByteLevel()
    trainer = tk.trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_freq,
                                     initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet(),
                                     show_progress=False)
    tokenizer.train_from_iterator(text.splitlines(keepends=True), trainer)
    return tokenizer.to_str()


def _bpe_from_json(text):
    tk = _tokenizers()
    try:
        return tk.Tokenizer.from_str(text)
    except Exception as e:  # the Rust side raises its own Exception type for any bad JSON
        raise DataError(f"malformed bpe vocabulary: {str(e)[:200]}") from None


def _positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise DataError(f"TextFile: {name} must be a positive integer, got {value!r}")
    return value


class TextFile(Dataset):
    """A text file as next-token windows: ``(ids[s:s+seq_len], ids[s+1:s+seq_len+1])``.

    Args:
        path: a UTF-8 text file.
        seq_len: tokens per sample.
        stride: tokens between the starts of consecutive samples (default ``seq_len``:
            windows side by side; smaller values overlap them).
        tokenizer: ``char``, ``whitespace``, ``words`` or ``bpe`` (needs
            ``pip install 'trainctl[text]'``).
        max_vocab: at most this many ids, ``<unk>`` included (the rarest tokens become
            ``<unk>``); for ``bpe`` the size to train (default 1000).
        min_freq: tokens seen fewer times become ``<unk>`` (for ``bpe``: the fewest times a
            pair is seen to be merged).
        span: ``[start, end]``: the fractions of the file's tokens this split reads, e.g.
            ``[0.0, 0.9]`` for training and ``[0.9, 1.0]`` for validation. The vocabulary is
            always built from the whole file (or given), so both splits share it.
        vocab: a stored vocabulary (``preprocessing_state()["vocab"]`` of another TextFile)
            instead of one built from this file.
        reference: the training split (a ``TextFile`` or the path of its file, read with the
            same tokenizer options) whose vocabulary this one uses.
        max_bytes: files larger than this are refused (64 MiB by default).

    Attributes:
        vocab: the :class:`Vocabulary`; ``num_classes``/``vocab_size``: its size (what a
            model's embedding and output layer need).
        ids: the token ids of the span (uint16 or int32).

    Example:
        >>> train = TextFile("tiny.txt", seq_len=32, span=[0.0, 0.9])  # doctest: +SKIP
        >>> val = TextFile("tiny.txt", seq_len=32, span=[0.9, 1.0])  # doctest: +SKIP
        >>> train.vocab_size == val.vocab_size  # doctest: +SKIP
        True
    """

    # A held-out split of a run (data.val / data.test) takes the training split's vocabulary
    # unless it names its own (see trainctl.training.setup.inherited_options).
    inherits = ("vocab",)

    def __init__(self, path, seq_len: int = 64, stride: int | None = None,
                 tokenizer: str = "char", max_vocab: int | None = None, min_freq: int = 1,
                 span=(0.0, 1.0), vocab: dict | None = None, reference=None,
                 max_bytes: int = MAX_BYTES):
        path = os.fspath(path)
        self.path = path
        self.seq_len = _positive("seq_len", seq_len)
        self.stride = _positive("stride", seq_len if stride is None else stride)
        _positive("max_bytes", max_bytes)
        if max_vocab is not None and _positive("max_vocab", max_vocab) < 2:
            raise DataError(f"TextFile: max_vocab must be at least 2 (<unk> and one token), got "
                            f"{max_vocab}")
        start, end = _span(span)
        text = read_text(path, max_bytes)
        if reference is not None:
            if not isinstance(reference, TextFile):
                reference = TextFile(reference, seq_len, stride, tokenizer, max_vocab, min_freq,
                                     max_bytes=max_bytes)
            vocab = reference.vocab.state()
        if vocab is not None:
            self.vocab = Vocabulary.from_state(vocab)
        else:
            self.vocab = Vocabulary.fit(text, tokenizer, max_vocab, min_freq)
        ids = self.vocab.encode(text)
        ids = ids[int(round(start * len(ids))):int(round(end * len(ids)))]
        need = self.seq_len + 1
        if len(ids) < need:
            raise DataError(f"{path}: {len(ids)} tokens in span [{start}, {end}], but one sample "
                            f"needs seq_len + 1 = {need}; use a smaller seq_len or more text")
        # the smallest id type that holds the vocabulary: a 64 MiB file of characters stays
        # 128 MiB of ids, not 512 MiB of int64
        self.ids = ids.astype(numpy.uint16 if len(self.vocab) <= 2**16 else numpy.int32)
        self.num_classes = self.vocab_size = len(self.vocab)
        self.tokenizer = self.vocab.tokenizer

    def __len__(self) -> int:
        return (len(self.ids) - 1 - self.seq_len) // self.stride + 1

    def _windows(self, indices: numpy.ndarray):
        starts = indices.astype(numpy.int64) * self.stride
        rows = starts[:, None] + numpy.arange(self.seq_len + 1)
        w = self.ids[rows].astype(numpy.int64)
        return w[:, :-1], w[:, 1:]

    def __getitem__(self, index):
        index = int(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} is out of range for {len(self)} samples")
        x, y = self._windows(numpy.array([index]))
        return Tensor._wrap(x[0]), Tensor._wrap(y[0])

    def get_batch(self, indices) -> list:
        """The collated batch of ``indices``: (N, seq_len) inputs and targets, one gather."""
        x, y = self._windows(numpy.asarray(indices, dtype=numpy.int64))
        return [Tensor._wrap(x), Tensor._wrap(y)]

    def preprocessing_state(self) -> dict:
        """What generation needs from the training data, as a JSON-able dict: ``type``,
        ``vocab`` (:meth:`Vocabulary.state`), ``seq_len`` (the context the model trained on).

        Example:
            >>> state = TextFile("tiny.txt", seq_len=32).preprocessing_state()  # doctest: +SKIP
            >>> Vocabulary.from_state(state["vocab"]).decode([5, 6])  # doctest: +SKIP
        """
        return {"type": "TextFile", "vocab": self.vocab.state(), "seq_len": self.seq_len,
                "tokenizer": self.tokenizer}


def _span(span) -> tuple[float, float]:
    try:
        start, end = (float(v) for v in span)
    except (TypeError, ValueError):
        raise DataError(f"TextFile: span must be [start, end] fractions, got {span!r}") from None
    if not 0.0 <= start < end <= 1.0:
        raise DataError(f"TextFile: span must satisfy 0 <= start < end <= 1, got {list(span)}")
    return start, end
