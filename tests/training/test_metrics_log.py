"""read_metrics keeps only well-formed rows, so plot-lr of a run with a foreign or damaged
metrics.jsonl draws what is good or says there is nothing: never a KeyError or TypeError."""

import json

import pytest

from trainctl.core.errors import ConfigError
from trainctl.training.lr_plot import recorded_lr_curves
from trainctl.training.metrics_log import is_metrics_row, read_metrics

GOOD = [{"kind": "step", "epoch": 0, "step": 1, "time": 0.1, "train/loss": 2.0, "lr": 0.1},
        {"kind": "epoch", "epoch": 1, "step": 2, "time": 0.2, "lr": 0.05, "val/loss": None}]

BAD = [
    [1, 2, 3],
    "just a string",
    None,
    {"kind": "step", "step": 3},
    {"kind": "epoch", "epoch": 1},
    {"kind": "other", "epoch": 1, "step": 3},
    {"epoch": 1, "step": 3, "lr": 0.1},
    {"kind": "step", "epoch": "1", "step": 3},
    {"kind": "step", "epoch": 1, "step": 3.5},
    {"kind": "step", "epoch": 1, "step": -3},
    {"kind": "step", "epoch": True, "step": 3},
    {"kind": "step", "epoch": 1, "step": 3, "lr": [0.1]},
    {"kind": "step", "epoch": 1, "step": 3, "lr": {"a": 1}},
    {"kind": "step", "epoch": 1, "step": 3, "lr": "0.1"},
    {"kind": "step", "epoch": 1, "step": 3, "lr": False},
]


def write_lines(path, lines):
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def test_only_well_formed_rows_are_kept(tmp_path):
    lines = [json.dumps(r).encode() for r in BAD + GOOD[:1]]
    lines += [b'{"kind": "step", "epo', b"\xff\xfe not utf-8", b"[" * 100000, b"", b"NaN",
              json.dumps(GOOD[1]).encode(), b'{"kind": "step", "epoch": 1, "step": 1' + b"0" * 5000
              + b"}"]
    assert read_metrics(write_lines(tmp_path / "metrics.jsonl", lines)) == GOOD
    assert not any(is_metrics_row(r) for r in BAD)


def test_missing_or_folder_is_empty(tmp_path):
    assert read_metrics(tmp_path / "nope.jsonl") == []
    (tmp_path / "dir.jsonl").mkdir()
    assert read_metrics(tmp_path / "dir.jsonl") == []


def test_non_finite_numbers_are_numbers(tmp_path):
    path = write_lines(tmp_path / "m.jsonl", [b'{"kind": "epoch", "epoch": 1, "step": 2, '
                                             b'"train/loss": NaN, "lr": Infinity}'])
    assert read_metrics(path)[0]["lr"] == float("inf")


@pytest.mark.parametrize("lines", [
    [json.dumps(r).encode() for r in BAD],
    [b"\x00\x01\x02", b"<html>not metrics</html>"],
    [json.dumps([{"kind": "step"}]).encode()],
])
def test_plot_lr_of_a_foreign_metrics_file_says_there_is_nothing(tmp_path, lines):
    write_lines(tmp_path / "metrics.jsonl", lines)
    with pytest.raises(ConfigError, match="has not logged any learning rate yet"):
        recorded_lr_curves(tmp_path)


def test_plot_lr_of_a_partly_damaged_file_draws_the_good_rows(tmp_path):
    lines = [json.dumps(r).encode() for r in GOOD[:1] + BAD + GOOD[1:]]
    write_lines(tmp_path / "metrics.jsonl", lines)
    (curve,) = recorded_lr_curves(tmp_path)
    assert curve["lrs"] == [0.1, 0.05] and curve["steps"] == [0.5, 1.0]
