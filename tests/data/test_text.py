"""``TextFile`` (language-model windows, vocabularies) and ``SyntheticSequences``."""

import numpy
import pytest

import trainctl as tc
from tests.runs import ROOT
from trainctl.data import DataLoader, SyntheticSequences, TextFile, Vocabulary

SONNETS = ROOT / "configs" / "data" / "sonnets.txt"
TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n"


def _file(tmp_path, data, name="t.txt"):
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(p)


def test_char_windows_are_next_character_targets(tmp_path):
    ds = TextFile(_file(tmp_path, TEXT), seq_len=5, stride=3)
    assert len(ds) == (len(TEXT) - 1 - 5) // 3 + 1
    assert ds.vocab.tokens[0] == "<unk>" and ds.vocab_size == ds.num_classes == len(set(TEXT)) + 1
    for i in (0, 4, len(ds) - 1):
        x, y = ds[i]
        assert x.dtype == tc.int64 and x.shape == (5,)
        assert ds.vocab.decode(x.tolist()) == TEXT[3 * i:3 * i + 5]
        assert ds.vocab.decode(y.tolist()) == TEXT[3 * i + 1:3 * i + 6]
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    np_x = numpy.stack([ds[i][0].numpy() for i in range(4)])
    numpy.testing.assert_array_equal(x.numpy(), np_x)
    assert y.shape == (4, 5)


def test_whitespace_vocabulary_frequency_limits_and_unknown_words(tmp_path):
    ds = TextFile(_file(tmp_path, TEXT), seq_len=3, tokenizer="whitespace", max_vocab=4)
    # the three most frequent words, then <unk> for the rest
    assert ds.vocab.tokens == ["<unk>", "the", "on", "sat"]
    assert ds.vocab.encode("the zebra sat").tolist() == [1, 0, 3]
    assert ds.vocab.decode([1, 3]) == "the sat"
    rare = TextFile(_file(tmp_path, TEXT), seq_len=3, tokenizer="whitespace", min_freq=2)
    assert set(rare.vocab.tokens) == {"<unk>", "the", "sat", "on"}


def test_span_splits_share_the_vocabulary(tmp_path):
    path = _file(tmp_path, TEXT * 4)
    train = TextFile(path, seq_len=8, span=[0.0, 0.75])
    val = TextFile(path, seq_len=8, span=[0.75, 1.0])
    assert train.vocab.tokens == val.vocab.tokens
    assert len(train.ids) + len(val.ids) == len(TEXT * 4)
    assert val.vocab.decode(val.ids[:10]) == (TEXT * 4)[len(train.ids):len(train.ids) + 10]


def test_reference_and_stored_vocabulary_are_reused(tmp_path):
    train = TextFile(_file(tmp_path, TEXT), seq_len=4)
    other = _file(tmp_path, "the zoo!\nthe cat", "other.txt")
    for val in (TextFile(other, seq_len=4, reference=train),
                TextFile(other, seq_len=4, vocab=train.preprocessing_state()["vocab"])):
        assert val.vocab.tokens == train.vocab.tokens
        assert val.ids[4] == 0  # 'z' is not in the training text: <unk>


def test_preprocessing_state_round_trips(tmp_path):
    ds = TextFile(_file(tmp_path, TEXT), seq_len=6)
    state = ds.preprocessing_state()
    assert state["type"] == "TextFile" and state["seq_len"] == 6
    vocab = Vocabulary.from_state(state["vocab"])
    assert vocab.decode(vocab.encode("the mat")) == "the mat"


def test_bpe_through_tokenizers(tmp_path):
    pytest.importorskip("tokenizers")
    ds = TextFile(str(SONNETS), seq_len=16, tokenizer="bpe", max_vocab=300)
    assert ds.vocab_size == 300
    text = SONNETS.read_text()[:200]
    assert ds.vocab.decode(ds.vocab.encode(text)) == text  # byte-level: lossless
    again = Vocabulary.from_state(ds.preprocessing_state()["vocab"])
    assert again.encode(text).tolist() == ds.vocab.encode(text).tolist()
    assert len(again.encode(text)) < len(text)  # merges make fewer tokens than characters


def test_bad_vocabulary_states_are_data_errors():
    for state in (None, {"tokenizer": "morse"}, {"tokenizer": "char", "tokens": ["a", "a"]},
                  {"tokenizer": "char", "tokens": []}, {"tokenizer": "bpe", "bpe": None}):
        with pytest.raises(tc.DataError, match="malformed vocabulary"):
            Vocabulary.from_state(state)
    pytest.importorskip("tokenizers")
    with pytest.raises(tc.DataError, match="malformed bpe vocabulary"):
        Vocabulary.from_state({"tokenizer": "bpe", "bpe": "{not json"})


@pytest.mark.parametrize("data,match", [
    (b"", r"t\.txt: the file is empty"),
    (b" \n\t\n", r"t\.txt: the file is empty"),
    (b"abc\x00def", r"t\.txt: a NUL byte at offset 3: this is a binary file"),
    (b"line one\nbad \xff byte", r"t\.txt:2: not UTF-8 text \(byte 0xff at offset 13\)"),
    (b"abc", r"t\.txt: 3 tokens in span \[0\.0, 1\.0\], but one sample needs seq_len \+ 1 = 9"),
])
def test_bad_text_files_are_one_line_data_errors(tmp_path, data, match):
    with pytest.raises(tc.DataError, match=match) as e:
        TextFile(_file(tmp_path, data), seq_len=8)
    assert "\n" not in str(e.value)


def test_unreadable_and_oversized_files(tmp_path, deny):
    with pytest.raises(tc.DataError, match=r"text file not found: .*nope\.txt"):
        TextFile(tmp_path / "nope.txt")
    with pytest.raises(tc.DataError, match=r"is a folder, expected a text file"):
        TextFile(tmp_path)
    with pytest.raises(tc.DataError, match=r"larger than max_bytes=10 bytes"):
        TextFile(_file(tmp_path, "x" * 11), seq_len=2, max_bytes=10)
    with pytest.raises(tc.DataError, match="permission denied"):
        TextFile(deny(_file(tmp_path, TEXT, "locked.txt")))


@pytest.mark.parametrize("kwargs,match", [
    ({"seq_len": 0}, "seq_len must be a positive integer"),
    ({"stride": -1}, "stride must be a positive integer"),
    ({"tokenizer": "sentences"}, "tokenizer must be one of char, whitespace, words, bpe"),
    ({"span": [0.5, 0.2]}, r"span must satisfy 0 <= start < end <= 1"),
    ({"span": "all"}, r"span must be \[start, end\] fractions"),
    ({"max_vocab": 1}, "max_vocab must be at least 2"),
])
def test_bad_options(tmp_path, kwargs, match):
    with pytest.raises(tc.DataError, match=match):
        TextFile(_file(tmp_path, TEXT), **kwargs)


def test_random_bytes_end_in_a_dataset_or_a_data_error(tmp_path):
    rng = numpy.random.default_rng(0)
    for i in range(50):
        data = rng.integers(0, 256, size=int(rng.integers(0, 200)), dtype=numpy.uint8).tobytes()
        try:
            ds = TextFile(_file(tmp_path, data, f"r{i}.txt"), seq_len=4)
        except tc.DataError:
            continue
        assert len(ds) >= 1 and int(ds.ids.max()) < ds.vocab_size


# ----------------------------------------------------------------------------- sequence tasks


@pytest.mark.parametrize("task", ["copy", "reverse", "sort"])
def test_sequence_tasks(task):
    ds = SyntheticSequences(task, n_samples=20, length=6, n_symbols=5, seed=3)
    assert ds.data.shape == ds.targets.shape == (20, 6) and ds.data.max() < 5
    expected = {"copy": ds.data, "reverse": ds.data[:, ::-1],
                "sort": numpy.sort(ds.data, axis=1)}[task]
    numpy.testing.assert_array_equal(ds.targets, expected)
    again = SyntheticSequences(task, n_samples=20, length=6, n_symbols=5, seed=3)
    numpy.testing.assert_array_equal(again.data, ds.data)


def test_addition_of_digit_strings():
    ds = SyntheticSequences("add", n_samples=50, length=3, seed=0)
    assert ds.vocab_size == 11 and ds.num_classes == 10 and ds.seq_len == 7
    for i in range(50):
        question, answer = ds.render(i).split(" -> ")
        a, b = question.split("+")
        assert int(a) + int(b) == int(answer) and len(answer) == 4
    assert (ds.targets[:, 4:] == -100).all()


def test_sequence_task_options_are_checked():
    with pytest.raises(tc.DataError, match="task must be one of copy, reverse, sort, add"):
        SyntheticSequences("rotate")
    with pytest.raises(tc.DataError, match="length must be a positive integer"):
        SyntheticSequences(length=0)
    with pytest.raises(tc.DataError, match="add takes at most 17 digits"):
        SyntheticSequences("add", length=18)


def test_words_tokenizer_splits_punctuation(tmp_path):
    ds = TextFile(_file(tmp_path, "Hello, world! Hello again."), seq_len=2, tokenizer="words")
    assert ds.vocab.tokens == ["<unk>", "Hello", "!", ",", ".", "again", "world"]
    assert ds.vocab.decode(ds.vocab.encode("world, again!")) == "world , again !"
