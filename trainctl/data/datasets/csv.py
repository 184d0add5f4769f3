"""``CSVDataset``: a table of numbers (plus target columns) read with the standard ``csv`` module.

Parsing is strict: a file that cannot be read (missing, a folder, no permission, not UTF-8, empty),
a row with the wrong number of fields, an empty cell, a feature that is not a number, or a NaN/inf
(``nan``, ``inf``, or a value beyond float32's range such as ``1e39``) raises a :class:`DataError`
naming the file, the line and the column; ``allow_nonfinite=True`` keeps NaN/inf values.

Everything that turns raw rows into model inputs (feature columns and their order, standardisation
statistics, classes, target scaling) is :meth:`CSVDataset.preprocessing_state`, a JSON-able dict;
:meth:`CSVDataset.from_state` applies it to a new file without recomputing anything, so a model
can answer on new rows without its training data.

A column of free text (``text="review"``, or ``text={column: review, max_len: 40, ...}``, see
``csv_text.py``) is read as padded token ids instead: ``x`` is int64 ``(max_len,)`` for an
``Embedding``, the vocabulary is built on the training rows and stored in the preprocessing
state, and ``lengths`` holds each row's number of real tokens.
"""

from __future__ import annotations

import os

import numpy

from ...core.errors import DataError
from .base import ArrayDataset
from .csv_parse import Table, column_index, label, read_table, short, to_float
from .csv_text import checked_text_state, encode_texts, fit_vocabulary, text_options, text_state
from .tabular import (
    apply_stats,
    as_stats,
    check_binary_classes,
    check_zero_one,
    encode_labels,
    fit_stats,
    stats_arrays,
)

TASKS = ("classification", "binary", "regression", "multilabel")
_CLASS_TASKS = ("classification", "binary")


def _check_options(task, delimiter, standardize_target) -> None:
    if task not in TASKS:
        raise DataError(f"CSVDataset: task must be one of {', '.join(TASKS)}; got {task!r}")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n":
        raise DataError(f"CSVDataset: delimiter must be one character (not a quote or a "
                        f"newline), got {delimiter!r}")
    if standardize_target and task != "regression":
        raise DataError(f"CSVDataset: standardize_target is for task 'regression', not {task!r}")


def _as_list(spec) -> list:
    if spec is None:
        return []
    return list(spec) if isinstance(spec, (list, tuple)) else [spec]


class CSVDataset(ArrayDataset):
    """Rows of a CSV file: feature columns -> float32 ``x``, target column(s) -> ``y``.

    Args:
        path: the CSV file.
        target: target column by name (needs a header) or 0-based index; a list for several
            targets (``regression``, ``multilabel``); None for a file without targets (samples
            are then ``(x,)``).
        features: feature columns (names or indices); default: every column but the target(s).
        header: whether the first row holds column names.
        delimiter: field separator.
        task: what the target column(s) hold, and so the target's dtype and shape per sample:

            - ``classification``: one label column -> int64 class index ``()``; labels map to
              ``0..K-1`` in sorted order (numerically when every label is a number).
            - ``binary``: one label column with exactly two classes (``0/1``, ``no/yes``,
              ``B/M``; sorted as above, or in the order of ``classes``; index 1 is the positive
              class) -> float32 ``(1,)``, so a batch is ``(N, 1)`` like a one-logit model's
              output for ``BCEWithLogitsLoss``.
            - ``regression``: numbers -> float32 ``(n_targets,)``.
            - ``multilabel``: one 0/1 column per label -> float32 ``(n_targets,)``.
        standardize: scale features to zero mean, unit variance.
        classes: the class list of the training split (classification, binary), so val/test and
            new data use the same indices.
        stats: ``{"mean": [...], "std": [...]}`` of the training split for standardising.
        reference: the training split (a ``CSVDataset`` or the path of its file, read with the same
            options) whose ``classes``, ``stats`` and ``target_stats`` this split reuses.
        transform, target_transform: applied to each ``x`` / ``y`` (or batch).
        allow_nonfinite: keep NaN/inf features and targets (and numeric ``nan``/``inf`` class
            labels); by default the first one is a :class:`DataError` naming its line and column.
        standardize_target: (regression) scale targets to zero mean, unit variance;
            :meth:`inverse_target` undoes it for predictions and metrics.
        target_stats: the training split's target statistics (like ``stats``).
        text: a column of free text as the input, by name or index, or a dict with ``column``
            and any of ``max_len`` (64), ``tokenizer`` (``whitespace``, ``words``, ``char``),
            ``max_vocab``, ``min_freq`` (1), ``padding`` (``post`` or ``pre``), ``lowercase``
            (true), ``vocab`` (a stored one). ``x`` is then int64 ``(max_len,)`` token ids
            (``<pad>`` 0, ``<unk>`` 1), with no numeric features.

    Statistics are computed from every row when not given; :meth:`fit` recomputes them from the
    training rows only (after a split). Statistics that were given (``stats``, ``target_stats``
    or ``reference``) are never recomputed.

    Attributes:
        classes, class_to_idx, num_classes: the label mapping (classification, binary; else None).
        stats, target_stats: the statistics used (None when not standardising).
        vocab, lengths, text: with a text column, its :class:`Vocabulary`, each row's number of
            real tokens, and its stored options (else None).
        feature_names, target_names: the columns' names (or their indices without a header).

    Example:
        >>> train = CSVDataset("train.csv", target="species",  # doctest: +SKIP
        ...                    standardize=True)
        >>> val = CSVDataset("val.csv", target="species",  # doctest: +SKIP
        ...                  standardize=True, reference=train)
        >>> state = train.preprocessing_state()  # doctest: +SKIP
        >>> new = CSVDataset.from_state("new.csv", state)  # doctest: +SKIP
    """

    def __init__(self, path, target, features=None, header: bool = True, delimiter: str = ",",
                 task: str = "classification", standardize: bool = False, classes=None,
                 stats=None, reference=None, transform=None, target_transform=None,
                 allow_nonfinite: bool = False, standardize_target: bool = False,
                 target_stats=None, text=None):
        path = os.fspath(path)
        _check_options(task, delimiter, standardize_target)
        text_opts = text_options(text, path)
        if text_opts is not None and (features is not None or standardize):
            raise DataError(f"{path}: with a text column the text is the input: leave out "
                            "features and standardize")
        if reference is not None:
            if not isinstance(reference, CSVDataset):
                reference = CSVDataset(reference, target, features, header, delimiter, task,
                                       standardize, allow_nonfinite=allow_nonfinite,
                                       standardize_target=standardize_target, text=text)
            classes = reference.classes if classes is None else classes
            stats = reference.stats if stats is None else stats
            target_stats = reference.target_stats if target_stats is None else target_stats
            if text_opts is not None and text_opts["vocab"] is None and reference.text:
                text_opts["vocab"] = reference.vocab
        table = read_table(path, delimiter, header)
        targets = _as_list(target)
        t_cols = [column_index(t, table.names, table.width, path, table.header_line, "target")
                  for t in targets]
        if task in _CLASS_TASKS and len(t_cols) > 1:
            raise DataError(f"{path}: task {task!r} takes one target column, got {targets}")
        text_col = None
        if text_opts is not None:
            text_col = column_index(text_opts["column"], table.names, table.width, path,
                                    table.header_line, "text")
            if text_col in t_cols:
                raise DataError(f"{path}: column {label(text_col, table.names)} is both the "
                                "text and the target")
            f_cols = []
        elif features is None:
            f_cols = [c for c in range(table.width) if c not in t_cols]
        else:
            f_cols = [column_index(f, table.names, table.width, path, table.header_line,
                                   "feature") for f in _as_list(features)]
        both = [c for c in f_cols if c in t_cols]
        if both:
            raise DataError(f"{path}: column {label(both[0], table.names)} is both a feature and "
                            "the target")
        if not f_cols and text_col is None:
            raise DataError(f"{path}: no feature columns left besides the target")
        names = table.names
        if names:  # a name must find its column again in a new file (from_state)
            first = {}
            for c in f_cols + t_cols + ([] if text_col is None else [text_col]):
                if first.setdefault(names[c], c) != c:
                    raise DataError(f"{path}:{table.header_line}: columns {first[names[c]] + 1} "
                                    f"and {c + 1} are both named {short(names[c])}; rename one")
        self._build(path, table, f_cols, t_cols,
                    [names[c] for c in t_cols] if names else t_cols, delimiter, task,
                    standardize, classes, stats, standardize_target, target_stats,
                    allow_nonfinite, transform, target_transform, (text_col, text_opts))

    def _build(self, path: str, table: Table, f_cols: list[int], t_cols: list[int],
               target_names: list, delimiter: str, task: str, standardize: bool, classes,
               stats, standardize_target: bool, target_stats, allow_nonfinite: bool,
               transform, target_transform, text=(None, None)) -> None:
        """Read the columns and set every attribute (shared by ``__init__`` and ``from_state``)."""
        names = table.names
        self.path, self.task, self.delimiter, self.header = path, task, delimiter, bool(names)
        self.feature_names = [names[c] for c in f_cols] if names else list(f_cols)
        self.target_names = list(target_names)
        self.n_columns = table.width
        self.stats = self.target_stats = None
        self.classes = self.class_to_idx = self.num_classes = None
        self._raw_x = self._raw_y = self._labels = None  # raw values kept only for fit()
        self.vocab = self.lengths = self.text = self._texts = None
        if text[1] is not None:
            x = self._read_text(table, text[0], text[1], path)
        else:
            x = to_float(table, f_cols, path, allow_nonfinite)
        if standardize and text[1] is None:
            if stats is None:
                stats, self._raw_x = fit_stats(x), x
            mean, std = stats_arrays(stats, x.shape[1], path)
            self.stats, x = as_stats(mean, std), apply_stats(x, mean, std)
        y = None
        if task in _CLASS_TASKS:
            if t_cols:
                classes, self._labels = encode_labels(table, t_cols[0], classes, path,
                                                      allow_nonfinite)
                if task == "binary":
                    check_binary_classes(classes, t_cols[0], table, path)
                    y = self._labels.astype(numpy.float32).reshape(-1, 1)
                else:
                    y = self._labels
            if classes is not None:
                self._set_classes(classes)
        elif t_cols:
            # multilabel: NaN/inf are read, then refused as "not 0 or 1"
            y = to_float(table, t_cols, path, allow_nonfinite or task == "multilabel")
            if task == "multilabel":
                check_zero_one(y, t_cols, table, path)
        if standardize_target:
            if target_stats is None and y is not None:
                target_stats, self._raw_y = fit_stats(y), y
            if target_stats is not None:
                mean, std = stats_arrays(target_stats, len(self.target_names), path,
                                         "target standardisation")
                self.target_stats = as_stats(mean, std)
                if y is not None:
                    y = apply_stats(y, mean, std)
        super().__init__(x, y, transform, target_transform)

    def _read_text(self, table: Table, col: int, opts: dict, path: str) -> numpy.ndarray:
        """The text column as padded ids; the vocabulary is fitted here unless given (and
        again by :meth:`fit` on the training rows only)."""
        from .text import Vocabulary

        texts = [row[col] for row in table.rows]
        vocab = opts["vocab"]
        if vocab is None:
            vocab, self._texts = fit_vocabulary(texts, opts), texts
        elif not isinstance(vocab, Vocabulary):
            vocab = checked_text_state({**opts, "column": col, "vocab": vocab}, path)["vocab"]
        self._text_opts = opts
        self._text_column = table.names[col] if table.names else col
        self._set_text(texts, vocab)
        return self._text_ids

    def _set_text(self, texts: list[str], vocab) -> None:
        self._text_ids, self.lengths = encode_texts(texts, vocab, self._text_opts)
        self.vocab = vocab
        self.text = text_state(self._text_opts, vocab, self._text_column)

    def _set_classes(self, classes) -> None:
        if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
            raise DataError(f"{self.path}: classes must be a list of labels, got "
                            f"{classes!r:.80}")
        classes = [str(c) for c in classes]
        if self.task == "binary" and len(classes) != 2:
            raise DataError(f"{self.path}: task 'binary' needs exactly 2 classes, got "
                            f"{len(classes)}: {classes[:10]}")
        self.classes = classes
        self.class_to_idx = {c: i for i, c in enumerate(classes)}
        self.num_classes = len(classes)

    # ------------------------------------------------------------------ training-split statistics
    def fit(self, indices) -> CSVDataset:
        """Recompute the statistics from the rows ``indices`` only and re-standardise every row.

        Call it with the training part after a split, so validation rows do not leak into the
        statistics. Statistics that were given (``stats``/``target_stats``/``reference``) or
        standardisation that is off are left alone. Returns the dataset.

        Example:
            >>> ds = CSVDataset("all.csv", target="y", standardize=True)  # doctest: +SKIP
            >>> train, val = val_split(ds, 0.2)  # doctest: +SKIP
            >>> ds.fit(train.indices)  # doctest: +SKIP
        """
        if self._raw_x is None and self._raw_y is None and self._texts is None:
            return self
        rows = self._rows(indices)
        if self._texts is not None:  # the vocabulary of the training rows, every row re-encoded
            vocab = fit_vocabulary([self._texts[r] for r in rows], self._text_opts)
            self._set_text(self._texts, vocab)
            self.data = self._text_ids
        if self._raw_x is not None:
            mean, std = stats_arrays(fit_stats(self._raw_x[rows]), self._raw_x.shape[1],
                                     self.path)
            self.stats, self.data = as_stats(mean, std), apply_stats(self._raw_x, mean, std)
        if self._raw_y is not None:
            mean, std = stats_arrays(fit_stats(self._raw_y[rows]), self._raw_y.shape[1],
                                     self.path, "target standardisation")
            self.target_stats = as_stats(mean, std)
            self.targets = apply_stats(self._raw_y, mean, std)
        return self

    def _rows(self, indices) -> numpy.ndarray:
        from ..dataset import Subset

        if isinstance(indices, Subset) and indices.dataset is self:
            indices = indices.indices
        if hasattr(indices, "numpy") and callable(indices.numpy):
            indices = indices.numpy()
        rows = numpy.asarray(indices).reshape(-1)
        if rows.size == 0:
            raise DataError(f"{self.path}: fit() needs at least one row")
        if rows.dtype.kind not in "iu":
            raise DataError(f"{self.path}: fit() takes row indices (integers), got "
                            f"{rows.dtype} values")
        bad = (rows < 0) | (rows >= len(self))
        if bad.any():
            raise DataError(f"{self.path}: fit(): row index {int(rows[bad][0])} out of range for "
                            f"{len(self)} rows")
        return rows.astype(numpy.int64, copy=False)

    def labels(self) -> numpy.ndarray:
        """Each row's class index (int64), for stratified splits, class weights and samplers.

        Example:
            >>> CSVDataset("iris.csv", target="species").labels()[:3]  # doctest: +SKIP
            array([0, 0, 1])
        """
        if self.task not in _CLASS_TASKS:
            raise DataError(f"{self.path}: labels() needs task 'classification' or 'binary'; "
                            f"this dataset's task is {self.task!r}")
        if self._labels is None:
            raise DataError(f"{self.path}: the dataset has no target column, so no labels")
        return self._labels.copy()

    def inverse_target(self, array):
        """Undo ``standardize_target`` on targets or predictions (``y * std + mean``).

        ``array``'s last axis holds the targets (a Tensor gives a Tensor, anything else a NumPy
        array); without target standardisation it is returned unchanged.

        Example:
            >>> ds = CSVDataset("house.csv", target="price", task="regression",  # doctest: +SKIP
            ...                 standardize_target=True)
            >>> ds.inverse_target(model(x))  # doctest: +SKIP
        """
        if self.target_stats is None:
            return array
        from ...autograd.tensor import Tensor
        from ...core.backend import get_array_module

        is_tensor = isinstance(array, Tensor)
        a = array.array if is_tensor else numpy.asarray(array)
        n = len(self.target_stats["mean"])
        if a.ndim == 0 or (n != 1 and a.shape[-1] != n):
            raise DataError(f"{self.path}: inverse_target expects a last axis of {n} targets, got "
                            f"shape {tuple(a.shape)}")
        xp = get_array_module(a)
        mean = xp.asarray(self.target_stats["mean"], dtype=xp.float64)
        std = xp.asarray(self.target_stats["std"], dtype=xp.float64)
        out = (a * std + mean).astype(a.dtype if a.dtype.kind == "f" else xp.float32)
        return Tensor._wrap(out) if is_tensor else out

    # ------------------------------------------------------------------ stored with a model
    def preprocessing_state(self) -> dict:
        """What turns raw rows into inputs and outputs into answers, as a JSON-able dict.

        Keys: ``type``, ``task``, ``features`` and ``target`` (names, or indices without a
        header), ``classes``, ``stats``, ``target_stats`` (None when unused), ``delimiter``,
        ``header``, ``n_columns`` (the file's width, to match columns by position without a
        header) and ``text`` (the text column's options and vocabulary, or None).
        :meth:`from_state` reads a new file with it.
        """
        def copy(stats):
            return None if stats is None else {k: list(v) for k, v in stats.items()}

        return {"type": "CSVDataset", "task": self.task, "features": list(self.feature_names),
                "target": list(self.target_names),
                "classes": None if self.classes is None else list(self.classes),
                "stats": copy(self.stats), "target_stats": copy(self.target_stats),
                "delimiter": self.delimiter, "header": self.header, "n_columns": self.n_columns,
                "text": None if self.text is None else dict(self.text)}

    @classmethod
    def from_state(cls, path, state: dict, require_target: bool = False,
                   allow_nonfinite: bool = False) -> CSVDataset:
        """A dataset of a NEW file, preprocessed exactly as the one ``state`` came from.

        The stored feature columns are taken by name when there is a header (in the stored
        order; other columns are ignored), else by position (a headerless file may have all the
        training columns or all but the target ones). The stored ``stats``, ``target_stats`` and
        ``classes`` are applied, never recomputed. The target column may be missing and is
        ignored unless ``require_target`` (then samples are ``(x, y)`` and a label that is not
        one of the classes is an error naming its line); otherwise samples are ``(x,)``.

        Example:
            >>> state = CSVDataset("train.csv", target="y", standardize=True  # doctest: +SKIP
            ...                    ).preprocessing_state()
            >>> x, = CSVDataset.from_state("new.csv", state)[0]  # doctest: +SKIP
        """
        path = os.fspath(path)
        s = _checked_state(state)
        text = checked_text_state(s["text"], path) if s["text"] is not None else None
        # the text column is found like a feature column, and comes last
        located = {**s, "features": s["features"] + ([text["column"]] if text else [])}
        table = read_table(path, s["delimiter"], s["header"])
        if s["header"]:
            f_cols = [column_index(f, table.names, table.width, path, table.header_line,
                                   "feature") for f in located["features"]]
            t_cols = [column_index(t, table.names, table.width, path, table.header_line,
                                   "target") for t in s["target"]] if require_target else []
        else:
            f_cols, t_cols = _positions(located, table.width, path, require_target)
        text_col = f_cols.pop() if text else None
        self = cls.__new__(cls)
        self._build(path, table, f_cols, t_cols, s["target"], s["delimiter"], s["task"],
                    s["stats"] is not None, s["classes"], s["stats"],
                    s["target_stats"] is not None, s["target_stats"], allow_nonfinite, None, None,
                    (text_col, text))
        return self


def _checked_state(state) -> dict:
    """``state`` with its types checked; a DataError names the first bad key."""
    def bad(key, want):
        got = state.get(key) if isinstance(state, dict) else state
        return DataError(f"CSVDataset.from_state: preprocessing state {key!r} must be {want}, "
                         f"got {got!r:.80}")

    if not isinstance(state, dict) or state.get("type", "CSVDataset") != "CSVDataset":
        raise bad("type", "'CSVDataset' (a dict from CSVDataset.preprocessing_state())")
    s = {"classes": None, "stats": None, "target_stats": None, "delimiter": ",", "header": True,
         "n_columns": None, "target": [], "text": None, **state}
    if s.get("task") not in TASKS:
        raise bad("task", f"one of {', '.join(TASKS)}")
    if not isinstance(s["header"], bool):
        raise bad("header", "true or false")
    kind = str if s["header"] else int
    for key in ("features", "target"):
        cols = s.get(key)
        if (not isinstance(cols, list) or (key == "features" and not cols and not s["text"])
                or not all(isinstance(c, kind) and not isinstance(c, bool) for c in cols)):
            raise bad(key, f"a list of column {'names' if s['header'] else 'indices'}")
    for key in ("stats", "target_stats"):
        if s[key] is not None and not isinstance(s[key], dict):
            raise bad(key, "{'mean': [...], 'std': [...]} or None")
    if s["classes"] is not None and not isinstance(s["classes"], list):
        raise bad("classes", "a list of labels or None")
    n = s["n_columns"]
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise bad("n_columns", "a positive integer or None")
    return s


def _positions(s: dict, width: int, path: str, require_target: bool):
    """Headerless ``from_state``: feature and target columns of a file ``width`` wide.

    The file has either every training column (targets included, positions as stored) or every
    one but the targets (the others keep their order, so their positions shift).
    """
    features, targets, n = s["features"], s["target"], s["n_columns"]
    full = n is None or width == n
    if not full and width != n - len(targets):
        raise DataError(f"{path}: {width} columns, but the model was trained on {n} columns "
                        f"({n - len(targets)} without the target); without a header, columns "
                        "are matched by position")
    if full:
        f_cols = [column_index(c, None, width, path, role="feature") for c in features]
        if require_target:
            return f_cols, [column_index(c, None, width, path, role="target") for c in targets]
        return f_cols, []
    if require_target:
        raise DataError(f"{path}: no target column: the file has {width} columns; with the "
                        f"target (column {targets[0] + 1} in training) it would have {n}")
    shifted = [c - sum(t < c for t in targets) for c in features]
    return [column_index(c, None, width, path, role="feature") for c in shifted], []
