"""`trainctl runs` and `trainctl runs diff` over real tiny runs, a broken one and foreign files."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runs import SPIRALS
from trainctl.commands.runs import short_keys
from trainctl.core.errors import ConfigError
from trainctl.training import runs_diff, runs_table, train
from trainctl.training.runs import parse_filter, sort_rows


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """runs/ with three tiny_spirals runs (lr 0.01, 0.05, 0.05 for 2 epochs), one other
    name, a run with a damaged summary.json, and files that are not runs."""
    base = tmp_path_factory.mktemp("runs_cmd")
    config = base / "cfg.yaml"
    config.write_text(SPIRALS)
    runs = base / "runs"
    dirs = {}
    for label, overrides in (("a", []), ("b", ["optimizer.lr=0.05"]),
                             ("c", ["optimizer.lr=0.05", "train.epochs=2"]),
                             ("other", ["name=other_net"])):
        summary = train(config, overrides=overrides, quiet=True, runs_root=runs,
                        echo=lambda *a, **k: None)
        dirs[label] = summary["run_dir"]
    broken = runs / "tiny_spirals" / "20200101-000000"
    broken.mkdir()
    (broken / "summary.json").write_text("{not json")
    (runs / "notes.txt").write_text("not a run")
    (runs / "empty_name" / "not_a_run").mkdir(parents=True)
    return runs, dirs


def rel(path, runs):
    return Path(path).relative_to(runs).as_posix()


def test_rows_hold_status_metrics_and_the_config_differences(root):
    runs, dirs = root
    rows = runs_table(runs)
    by_run = {r["run"]: r for r in rows}
    assert len(rows) == 5  # four runs and the broken one; the foreign files are skipped
    a, b, c = (by_run[rel(dirs[k], runs)] for k in "abc")
    assert [a["status"], b["status"], c["status"]] == ["completed"] * 3
    assert (a["epochs"], c["epochs"]) == (4, 2)
    assert a["monitor"] == "val/loss" and a["best"] == pytest.approx(min(
        json.loads(line)["val/loss"] for line in
        (runs / a["run"] / "metrics.jsonl").read_text().splitlines()
        if json.loads(line).get("kind") == "epoch"))
    assert set(a["final"]) >= {"val/loss", "val/accuracy", "train/loss"}
    # Against the most common value of each key among the tiny_spirals runs:
    assert a["changes"] == {"optimizer.lr": 0.01}
    assert b["changes"] == {}
    assert c["changes"] == {"train.epochs": 2}
    other = by_run[rel(dirs["other"], runs)]
    assert other["name"] == "other_net" and other["changes"] == {}  # alone under its name
    broken = by_run["tiny_spirals/20200101-000000"]
    assert broken["status"] == "unreadable" and "summary.json: not valid JSON" in broken["error"]
    assert rows[0] is broken  # oldest first: its folder name is its date
    assert broken["date"] == "2020-01-01T00:00:00"


def test_sort_and_filter(root):
    runs, dirs = root
    by_acc = runs_table(runs, sort="-val/accuracy", filters=["status=completed"])
    values = [r["final"]["val/accuracy"] for r in by_acc]
    assert values == sorted(values, reverse=True) and len(by_acc) == 4
    assert [r["epochs"] for r in runs_table(runs, sort="epochs")][:2] == [2, 4]
    assert runs_table(runs, sort="epochs")[-1]["status"] == "unreadable"  # no value: last
    fast = runs_table(runs, filters=["optimizer.lr>=0.05", "name=tiny*"])
    assert {r["run"] for r in fast} == {rel(dirs["b"], runs), rel(dirs["c"], runs)}
    assert [r["run"] for r in runs_table(runs, filters=["train.epochs!=4",
                                                        "status=completed"])] == \
        [rel(dirs["c"], runs)]
    assert {r["name"] for r in runs_table(runs, filters=["name!=tiny_spirals"])} == {"other_net"}


def test_filters_are_parsed_not_evaluated():
    assert parse_filter("val/accuracy>0.9")({"final": {"val/accuracy": 0.95}, "config": None})
    assert not parse_filter("val/accuracy<=0.9")({"final": {"val/accuracy": 0.95},
                                                  "config": None})
    for bad in ("__import__('os')", "val/accuracy>", "status=>x", "x>abc"):
        with pytest.raises(ConfigError, match="--filter"):
            parse_filter(bad)
    rows = [{"final": {"m": v}, "config": None} for v in (2.0, None, 1.0)]
    assert [r["final"]["m"] for r in sort_rows(rows, "m")] == [1.0, 2.0, None]


def test_unknown_sort_or_filter_keys_are_refused_with_a_suggestion(root):
    runs, _ = root
    with pytest.raises(ConfigError, match="did you mean 'val/accuracy'"):
        runs_table(runs, sort="val/acuracy")
    with pytest.raises(ConfigError, match="no run has 'optimzer.lr'"):
        runs_table(runs, filters=["optimzer.lr=0.1"])


def test_the_table_at_80_columns(root, cli, monkeypatch):
    runs, dirs = root
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = cli("runs", runs)
    assert code == 0, err
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
    for text in ("tiny_spirals  (4 runs)", "other_net  (1 run)", "completed", "unreadable",
                 "val/", "loss", "accuracy", "lr=0.01", "epochs=2", "summary.json",
                 "5 runs under"):
        assert text in out, text
    assert dirs["c"].rsplit("/", 1)[-1] in out  # the folder, to name it in `runs diff`
    assert out.index("other_net") < out.index("tiny_spirals")  # one table per name, by name
    code, out, _ = cli("runs", runs, "--sort", "-val/accuracy", "--filter", "status=completed")
    assert code == 0 and "unreadable" not in out and "4 runs" in out
    code, _, err = cli("runs", runs, "--filter", "nonsense")
    assert code == 2 and "expected KEY OP VALUE" in err
    code, _, err = cli("runs", runs / "missing")
    assert code == 2 and "no such folder" in err


def test_changed_keys_are_shown_by_their_shortest_unambiguous_ending():
    assert short_keys({"optimizer.lr", "train.epochs", "model.sizes.1", "model.sizes.2",
                       "data.train.seed", "seed"}) == {
        "optimizer.lr": "lr", "train.epochs": "epochs", "model.sizes.1": "sizes.1",
        "model.sizes.2": "sizes.2", "data.train.seed": "train.seed", "seed": "seed"}


def test_json_rows(root, cli):
    runs, dirs = root
    code, out, _ = cli("runs", runs, "--json", "--filter", "status=completed", "--sort",
                       "time_s")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 4 and all("config" not in r for r in rows)
    assert {r["run"] for r in rows} == {rel(d, runs) for d in dirs.values()}
    times = [r["time_s"] for r in rows]
    assert times == sorted(times)


def test_a_run_that_died_while_running_is_listed_as_failed(root, tmp_path):
    runs, dirs = root
    copy = tmp_path / "runs" / "tiny_spirals" / "20300101-000000"
    shutil.copytree(dirs["a"], copy)
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)
    summary = json.loads((copy / "summary.json").read_text())
    # Killed before its last summary: no final metrics there, the metrics log has them.
    (copy / "summary.json").write_text(json.dumps({**summary, "status": "running", "pid": dead,
                                                   "final": {}, "epochs": 0}))
    [row] = runs_table(tmp_path / "runs")
    assert row["status"] == "failed" and row["epochs"] == 4
    assert row["final"] == {k: v for k, v in summary["final"].items() if "/" in k}


def test_diff_shows_config_and_metric_differences(root, cli, monkeypatch):
    runs, dirs = root
    a, c = rel(dirs["a"], runs), rel(dirs["c"], runs)
    diff = runs_diff(a, c, root=runs)
    assert diff["config"] == [["optimizer.lr", 0.01, 0.05], ["train.epochs", 4, 2]]
    metrics = {m: (x, y) for m, x, y in diff["metrics"]}
    assert metrics["epochs"] == (4, 2)
    assert metrics["val/loss"][0] == diff["a"]["final"]["val/loss"]
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = cli("runs", "diff", a, c, "--root", runs)
    assert code == 0, err
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
    for text in ("optimizer.lr", "0.01", "0.05", "train.epochs", "best val/loss", "val/accuracy",
                 "b - a", "-2"):
        assert text in out, text
    code, out, _ = cli("runs", "diff", dirs["a"], "tiny_spirals", "--root", runs, "--json")
    assert code == 0 and json.loads(out)["b"]["run"] == rel(dirs["c"], runs)  # newest of name
    code, _, err = cli("runs", "diff", a, "nope", "--root", runs)
    assert code == 2 and "nope: not a run directory" in err


def test_help_describes_both_forms():
    out = subprocess.run([sys.executable, "-m", "trainctl.cli", "runs", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "Example" in out and "--sort KEY" in out and "diff" in out and "--filter" in out
