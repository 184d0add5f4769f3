"""A text column in ``CSVDataset``: vocabulary of the training rows, padding, lengths, state."""

import numpy
import pytest

import trainctl as tc
from tests.runs import ROOT
from trainctl.data import CSVDataset, DataLoader
from trainctl.data.datasets import csv_text

CSV = """review,label
"A great film, truly great",pos
terrible acting and a dull plot,neg
great fun,pos
dull,neg
,neg
"""


def _csv(tmp_path, text=CSV, name="r.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_text_column_gives_padded_ids_lengths_and_classes(tmp_path):
    ds = CSVDataset(_csv(tmp_path), target="label", text={"column": "review", "max_len": 4})
    assert ds.vocab.tokens[:3] == ["<pad>", "<unk>", "great"]  # most frequent first
    assert ds.data.dtype == numpy.int64 and ds.data.shape == (5, 4)
    assert ds.lengths.tolist() == [4, 4, 2, 1, 1]  # cut to max_len; an empty cell is one <unk>
    assert ds.data[2].tolist() == [2, ds.vocab.index["fun"], 0, 0]
    assert ds.data[4].tolist() == [1, 0, 0, 0]
    assert ds.classes == ["neg", "pos"] and ds.feature_names == []
    x, y = next(iter(DataLoader(ds, batch_size=5)))
    assert x.dtype == tc.int64 and x.shape == (5, 4) and y.tolist() == [1, 0, 1, 0, 0]
    pre = CSVDataset(_csv(tmp_path), target="label", text={"column": "review", "max_len": 4,
                                                           "padding": "pre"})
    assert pre.data[2].tolist() == [0, 0, 2, pre.vocab.index["fun"]]


def test_vocabulary_comes_from_the_training_rows_only(tmp_path):
    ds = CSVDataset(_csv(tmp_path), target="label", text="review")
    assert "terrible" in ds.vocab.tokens
    ds.fit([0, 2])  # the training part of a split
    assert "terrible" not in ds.vocab.tokens and ds.vocab.tokens[2] == "great"
    assert ds.data[1, 0] == 1  # 'terrible' is now <unk> in the held-out row
    assert ds.preprocessing_state()["text"]["vocab"]["tokens"] == ds.vocab.tokens


def test_tokenizers_case_and_limits(tmp_path):
    words = CSVDataset(_csv(tmp_path), target="label",
                       text={"column": "review", "tokenizer": "words", "lowercase": False,
                             "max_vocab": 5})
    # by frequency, then alphabetically ("," sorts first); case is kept, so GREAT is unknown
    assert words.vocab.tokens == ["<pad>", "<unk>", "great", "dull", ","]
    assert words.vocab.encode("great GREAT,").tolist() == [2, 1, 4]
    chars = CSVDataset(_csv(tmp_path), target="label", text={"column": 0, "tokenizer": "char"})
    assert chars.vocab.decode(chars.data[3][:chars.lengths[3]]) == "dull"


def test_state_reads_new_files_by_name_and_by_position(tmp_path):
    train = CSVDataset(_csv(tmp_path), target="label", text={"column": "review", "max_len": 6})
    state = train.preprocessing_state()
    new = CSVDataset.from_state(_csv(tmp_path, "id,review\n7,dull fun\n", "new.csv"), state)
    assert new.data.tolist() == [[train.vocab.index["dull"], train.vocab.index["fun"],
                                  0, 0, 0, 0]]
    assert len(new[0]) == 1  # no target asked for
    raw = CSV.split("\n", 1)[1]
    headerless = CSVDataset(_csv(tmp_path, raw, "h.csv"), target=1, header=False,
                            text={"column": 0, "max_len": 6})
    hstate = headerless.preprocessing_state()
    again = CSVDataset.from_state(_csv(tmp_path, "fun great\n", "h2.csv"), hstate)
    assert again.data[0, :2].tolist() == [headerless.vocab.index["fun"],
                                          headerless.vocab.index["great"]]
    ref = CSVDataset(_csv(tmp_path, "review,label\nzebra fun,pos\n", "v.csv"), target="label",
                     text="review", reference=train)
    assert ref.vocab.tokens == train.vocab.tokens and ref.data[0, 0] == 1


@pytest.mark.parametrize("text,match", [
    ({"column": "review", "max_len": 0}, "text max_len must be a positive integer"),
    ({"column": "review", "padding": "left"}, "text padding must be post or pre"),
    ({"column": "review", "tokenizer": "bpe"}, "text tokenizer must be whitespace, words or"),
    ({"column": "review", "maxlen": 3}, "unknown text option 'maxlen'"),
    ({"max_len": 3}, "text needs a column"),
    ("label", "is both the text and the target"),
    ("reviews", "no text column named 'reviews'; did you mean 'review'"),
])
def test_bad_text_options(tmp_path, text, match):
    with pytest.raises(tc.DataError, match=match):
        CSVDataset(_csv(tmp_path), target="label", text=text)
    with pytest.raises(tc.DataError, match="leave out features and standardize"):
        CSVDataset(_csv(tmp_path), target="label", text="review", features=["review"])


def test_malformed_stored_text_state(tmp_path):
    state = CSVDataset(_csv(tmp_path), target="label", text="review").preprocessing_state()
    for bad in ("x", {**state["text"], "vocab": {"tokenizer": "whitespace", "tokens": ["a"]}},
                {**state["text"], "max_len": -1}):
        with pytest.raises(tc.DataError):
            CSVDataset.from_state(_csv(tmp_path), {**state, "text": bad})


def test_helpers_doctest():
    import doctest

    result = doctest.testmod(csv_text)
    assert result.attempted and not result.failed


def test_shipped_reviews_file():
    ds = CSVDataset(ROOT / "configs" / "data" / "reviews.csv", target="sentiment",
                    text={"column": "review", "tokenizer": "words", "max_len": 16,
                          "max_vocab": 64})
    assert len(ds) == 1200 and len(ds.vocab) <= 64 and ds.lengths.max() <= 16
