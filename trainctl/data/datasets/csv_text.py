"""A text column of a CSV file as padded token ids: the options, the vocabulary, the encoding.

``CSVDataset(..., text="review")`` or ``text={column: review, max_len: 40, ...}`` reads one
column of free text: each cell is lower-cased (unless ``lowercase: false``), cut into tokens
(``whitespace``: split at whitespace; ``words``: words and punctuation marks apart;
``char``: characters), mapped to ids through a vocabulary built on the
training rows (id 0 ``<pad>``, id 1 ``<unk>`` for tokens it does not hold), cut to ``max_len``
and padded with 0 after the tokens (``padding: post``) or before them (``padding: pre``, so a
recurrent layer's last step is a real token). Each row's number of real tokens is kept in the
dataset's ``lengths``; in a batch the padding carries it, and ``nn.PackedEmbedding`` packs the
embedded rows by it for a recurrent layer.

Example:
    >>> opts = text_options({"column": "review", "max_len": 4}, "r.csv")
    >>> vocab = fit_vocabulary(["good film", "bad film"], opts)
    >>> vocab.tokens
    ['<pad>', '<unk>', 'film', 'bad', 'good']
    >>> ids, lengths = encode_texts(["good film", "awful"], vocab, opts)
    >>> ids.tolist(), lengths.tolist()
    ([[4, 2, 0, 0], [1, 0, 0, 0]], [2, 1])
"""

from __future__ import annotations

import numpy

from ...core.errors import DataError
from .text import UNK, Vocabulary

PAD = "<pad>"
DEFAULTS = {"column": None, "max_len": 64, "tokenizer": "whitespace", "max_vocab": None,
            "min_freq": 1, "padding": "post", "lowercase": True, "vocab": None}


def text_options(spec, path: str) -> dict | None:
    """The text column's options, defaults filled in and checked (None without one)."""
    if spec is None:
        return None
    opts = dict(DEFAULTS)
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(DEFAULTS))
        if unknown:
            raise DataError(f"{path}: unknown text option {unknown[0]!r}; text takes: "
                            f"{', '.join(DEFAULTS)}")
        opts.update(spec)
    else:
        opts["column"] = spec
    if opts["column"] is None:
        raise DataError(f"{path}: text needs a column (its name, or its index)")
    for key in ("max_len", "min_freq") + (("max_vocab",) if opts["max_vocab"] is not None else ()):
        value = opts[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise DataError(f"{path}: text {key} must be a positive integer, got {value!r}")
    if opts["tokenizer"] not in ("whitespace", "words", "char"):
        raise DataError(f"{path}: text tokenizer must be whitespace, words or char, got "
                        f"{opts['tokenizer']!r}")
    if opts["padding"] not in ("post", "pre"):
        raise DataError(f"{path}: text padding must be post or pre, got {opts['padding']!r}")
    if not isinstance(opts["lowercase"], bool):
        raise DataError(f"{path}: text lowercase must be true or false")
    return opts


def _clean(texts: list[str], opts: dict) -> list[str]:
    return [t.lower() for t in texts] if opts["lowercase"] else texts


def fit_vocabulary(texts: list[str], opts: dict) -> Vocabulary:
    """The vocabulary of ``texts`` (the training rows): ``<pad>``, ``<unk>``, then the tokens."""
    return Vocabulary.fit(_clean(texts, opts), opts["tokenizer"], opts["max_vocab"],
                          opts["min_freq"], specials=(PAD, UNK))


def encode_texts(texts: list[str], vocab: Vocabulary, opts: dict):
    """``(ids, lengths)``: int64 ``(rows, max_len)`` padded ids and int64 real-token counts. An
    empty cell is one ``<unk>``, so every row has at least one token (a packed sequence and
    a mean over time need one)."""
    max_len = opts["max_len"]
    ids = numpy.zeros((len(texts), max_len), dtype=numpy.int64)
    lengths = numpy.empty(len(texts), dtype=numpy.int64)
    pre = opts["padding"] == "pre"
    for r, text in enumerate(_clean(texts, opts)):
        row = vocab.encode(text)[:max_len]
        if len(row) == 0:
            row = numpy.array([vocab.unk])
        lengths[r] = len(row)
        if pre:
            ids[r, max_len - len(row):] = row
        else:
            ids[r, :len(row)] = row
    return ids, lengths


def text_state(opts: dict, vocab: Vocabulary, column) -> dict:
    """The options and vocabulary as stored in ``preprocessing_state()["text"]``."""
    return {**{k: opts[k] for k in ("max_len", "tokenizer", "padding", "lowercase")},
            "column": column, "vocab": vocab.state()}


def checked_text_state(state, path: str) -> dict:
    """A stored ``text`` state checked: its options and a vocabulary that starts with the
    padding and unknown tokens."""
    if not isinstance(state, dict):
        raise DataError(f"{path}: malformed text state {state!r:.80}")
    vocab = Vocabulary.from_state(state.get("vocab"))
    if vocab.tokens is None or vocab.tokens[:2] != [PAD, UNK]:
        raise DataError(f"{path}: malformed text state: the vocabulary must start with "
                        f"{PAD} and {UNK}")
    opts = text_options({k: v for k, v in state.items() if k != "vocab"}, path)
    return {**opts, "vocab": vocab}
