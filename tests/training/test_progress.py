"""The training display: rich rows and bars that fit 60-120 columns with whole numbers, the
header, the best epoch marked, plain lines (one per epoch), and the closing summary."""

import io
import re
from types import SimpleNamespace

import pytest
from rich.console import Console

import trainctl as tc
from tests.runs import ROOT, SPIRALS
from trainctl.config import resolve
from trainctl.config.loader import safe_load
from trainctl.training import train
from trainctl.training.callbacks import is_better
from trainctl.training.display_text import RunHeader, abbreviate, labels, number
from trainctl.training.progress import EpochTable, PlainProgress, RichProgress
from trainctl.training.report import report
from trainctl.training.setup import build_run, trainer_arguments
from trainctl.training.trainer import Trainer

HEADER = RunHeader("tiny_spirals", "configs/tiny.yaml", "cpu", 99)
CUT = re.compile(r"\d…|…\d|\d\.…")  # a number cut by rich's ellipsis
BAR = re.compile(r"^(epoch|batch) .* \d+:\d\d eta (\d+:\d\d|-:--)$")  # the times on one line


def tiny_run(callbacks, epochs=5, metrics=("accuracy",)):
    data = safe_load(SPIRALS)
    data["train"].update(epochs=epochs, metrics=list(metrics))
    cfg = resolve(data)
    trainer = Trainer(**trainer_arguments(cfg, build_run(cfg), callbacks))
    trainer.fit()
    return trainer


def screen(raw: str) -> list[str]:
    """What a terminal shows (scrollback included) after ``raw``: rich's live display moves the
    cursor up and erases lines to redraw; lines are never wrapped here, so a line wider than
    the terminal stays wider."""
    lines, row, col = [""], 0, 0
    for m in re.finditer(r"\x1b\[([0-9;?]*)([A-Za-z])|\r|\n|[^\x1b\r\n]", raw):
        if m.group(2) == "A":
            row = max(0, row - int(m.group(1) or 1))
        elif m.group(2) == "K":
            lines[row] = ""
        elif m.group(2):
            continue  # colours, cursor shown or hidden
        elif m.group(0) == "\r":
            col = 0
        elif m.group(0) == "\n":
            row, col = row + 1, 0
            lines += [""] * (row + 1 - len(lines))
        else:
            lines[row] = lines[row][:col].ljust(col) + m.group(0) + lines[row][col + 1:]
            col += 1
    while lines and not lines[-1].strip():  # the newline after the live display ends
        lines.pop()
    return [line.rstrip() for line in lines]


def improvements(history, monitor, mode):
    best, marked = None, []
    for row in history:
        if is_better(row[monitor], best, mode):
            best = row[monitor]
            marked.append(row["epoch"])
    return marked


# ------------------------------------------------------------------ names and numbers


def test_abbreviations_follow_one_table_and_one_rule():
    assert [abbreviate(n) for n in ("train/accuracy", "val/loss", "test/f1", "val/auroc",
                                    "val/balanced_accuracy", "val/average_precision",
                                    "train/topk_accuracy", "val/my_score", "val/calibration",
                                    "lr")] == [
        "tr acc", "va loss", "te f1", "va auroc", "va bal acc", "va avg prec", "tr topk acc",
        "va my score", "va cali", "lr"]
    # Two names that would look alike keep their full names.
    assert labels(["val/calibration", "val/calibrated", "val/loss"]) == {
        "val/calibration": "val/calibration", "val/calibrated": "val/calibrated",
        "val/loss": "va loss"}


@pytest.mark.parametrize("value", [0.0, 1.0, 0.06123456, -0.06123456, 0.9999, 0.99995,
                                   0.0009116, -0.00091, 1e-12, 123.456, 999.96, 9999.6,
                                   12345.6, 999999.4, 1.2345e9, -3.953, 7e-4, 2.5e-300])
def test_numbers_keep_four_digits_in_eight_characters(value):
    text = number(value)
    assert len(text) <= 8 + (value < 0), text
    assert float(text) == pytest.approx(value, rel=1e-3), text
    short = number(value, 3)
    assert len(short) <= 8 + (value < 0) and float(short) == pytest.approx(value, rel=1e-2)


# ------------------------------------------------------------------ rich display


@pytest.mark.parametrize("width", [60, 80, 120])
def test_rich_rows_fit_the_width_with_whole_numbers(width):
    console = Console(record=True, width=width, file=io.StringIO(), force_terminal=True)
    progress = RichProgress(console, header=HEADER, monitor="val/f1")  # mode: f1's own, max
    trainer = tiny_run([progress], metrics=("accuracy", "f1"))
    text = console.export_text()  # every frame the live display drew, and the rows
    lines = screen(console.file.getvalue())

    assert all(len(line) <= width for line in lines), max(lines, key=len)
    assert not CUT.search(text) and "…" not in text
    assert ("training tiny_spirals (configs/tiny.yaml) on cpu: 99 parameters, 5 epochs of 6 "
            "steps; * marks a new best val/f1 (max)") in " ".join(" ".join(lines).split())
    assert [line[:5] for line in lines[-2:]] == ["epoch", "batch"]  # the bars stay below
    assert all(BAR.match(line) for line in lines if line.startswith(("epoch ", "batch ")))
    assert progress.live is None  # stopped at the end of fit

    columns = ["tr loss", "tr acc", "tr f1", "va loss", "va acc", "va f1", "lr"]
    assert all(c in text for c in columns)
    marked = improvements(trainer.history, "val/f1", "max")
    assert marked == [1, 3, 4]  # epochs 2 and 5 are not marked
    for row in trainer.history:  # every epoch's row, its values whole, the best ones marked
        at = [i for i, line in enumerate(lines) if line.startswith(f"{row['epoch']:>2} ")]
        assert len(at) == 1, row["epoch"]
        shown = " ".join(lines[at[0]:at[0] + 2]).split()
        for name in ("train/loss", "train/accuracy", "train/f1", "val/loss", "val/accuracy"):
            assert number(row[name]) in shown, (name, shown)
        best = number(row["val/f1"]) + "*"
        assert (best in shown) == (row["epoch"] in marked), shown
        green = re.search(rf"\x1b\[1;32m *{row['epoch']} ", console.file.getvalue())
        assert bool(green) == (row["epoch"] in marked)


def test_rich_rows_wrap_by_split_and_then_into_more_lines():
    names = [f"{s}/{m}" for s in ("train", "val") for m in ("loss", "accuracy", "f1", "auroc")]
    values = {name: -0.0009116 for name in names}
    for width, lines in ((120, 1), (80, 2), (60, 3), (40, 8)):  # 40: a metric a line
        table = EpochTable(names, epochs=400, total_steps=99999, lr_groups=1, width=width)
        cells = {name: number(v) for name, v in values.items()}
        cells.update(epoch="400", step="99999", lr="9.99e-5", time="59m59s")
        row = table.row(cells, marked="val/f1")
        assert len(row) == len(table.header()) == lines, width
        assert all(len(line) <= width for line in row + table.header()), width
        assert " ".join(row).split().count("-9.116e-4") == 7
        assert "-9.116e-4*" in " ".join(row)
    # Split by split: each val value stands under its train twin.
    row = EpochTable(names, 40, 999, 1, 80).header()
    assert row[0].index("tr acc") == row[1].index("va acc")


def test_rich_display_of_a_resumed_run_knows_the_best_so_far():
    progress = RichProgress(Console(file=io.StringIO(), width=80), monitor="val/loss")
    trainer = tiny_run([progress], epochs=3)
    assert progress.best == min(r["val/loss"] for r in trainer.history)
    again = RichProgress(Console(file=io.StringIO(), width=80), monitor="val/loss")
    again.start(trainer)
    assert (again.best, again.best_epoch) == (progress.best, progress.best_epoch)


# ------------------------------------------------------------------ plain lines


def test_plain_mode_prints_one_line_per_epoch_for_150_epochs(tmp_path, capsys):
    train(ROOT / "configs" / "linreg.yaml", overrides=["train.epochs=150"], quiet=True,
          run_dir=tmp_path / "r")
    out = capsys.readouterr().out.splitlines()
    epochs = [line for line in out if line.startswith("epoch ")]
    assert [line.split()[1] for line in epochs] == [f"{i}/150" for i in range(1, 151)]
    assert not [line for line in out if line.startswith("  step")]  # log_every 10 > 1 step
    assert "best train/loss " in "\n".join(out)


def test_plain_spirals_lines_fit_80_columns_and_the_summary_names_the_metric(tmp_path, capsys):
    summary = train(ROOT / "configs" / "spirals_mlp.yaml", quiet=True, run_dir=tmp_path / "r")
    out = capsys.readouterr().out
    lines = out.splitlines()
    path = summary["best_checkpoint"]
    assert all(len(line) <= 80 for line in lines if line.strip() != path), out
    assert len([line for line in lines if line.startswith("epoch ")]) == 40
    assert lines[0].startswith("training spirals_mlp (")
    assert "4,547 parameters, 40 epochs of 38 steps" in " ".join(" ".join(lines[:3]).split())
    best = f"best val/accuracy {number(summary['best_value'])} at epoch {summary['best_epoch']}"
    assert best in out and path.endswith("best.safetensors") and path in out
    assert f"epoch {summary['best_epoch']}/40 " in out
    row = next(line for line in lines if line.startswith(f"epoch {summary['best_epoch']}/"))
    assert f"acc {number(summary['best_value'])}*" in row


def test_plain_epoch_lines_too_wide_put_the_validation_split_on_a_line_of_its_own(tmp_path,
                                                                                  capsys):
    train(ROOT / "configs" / "spirals_mlp.yaml", overrides=["train.epochs=3",
          "train.metrics=[accuracy, f1, auroc, precision]"], quiet=True,
          run_dir=tmp_path / "r")
    lines = capsys.readouterr().out.splitlines()
    at = [i for i, line in enumerate(lines) if line.startswith("epoch ")]
    assert len(at) == 3
    pad = " " * len("epoch 1/3  ")
    for i in at:
        block = [lines[i]]
        while lines[i + len(block)].startswith(pad):
            block.append(lines[i + len(block)])
        assert all(len(line) <= 80 for line in block), block
        assert block[0].split("  ")[1].startswith("tr loss ") and "auroc" in block[0]
        assert block[1].startswith(pad + "va loss ") and "prec" in block[1]
        # the LR ends the first line where it fits there, else it is a line of its own
        lr = [line for line in block if " lr " in line]
        assert len(lr) == 1 and (lr[0] is block[0] or lr[0] == block[-1] == pad + lr[0].strip())


def test_plain_mode_adds_a_line_every_log_every_steps():
    lines = []
    progress = PlainProgress("tiny", lines.append, log_every=4)
    tiny_run([progress], epochs=2)  # 6 steps an epoch
    steps = [line.split()[1] for line in lines if line.startswith("  step ")]
    assert steps == ["4/12", "8/12", "12/12"]
    assert [line.split()[1] for line in lines if line.startswith("epoch ")] == ["1/2", "2/2"]


def test_summary_names_the_metric_and_wraps_at_spaces():
    final = {f"{s}/{m}": 0.123456 for s in ("train", "val") for m in ("loss", "accuracy",
                                                                       "f1", "auroc")}
    path = "runs/x/20260101-000000/checkpoints/best.safetensors"
    summary = {"status": "completed", "stop_reason": None, "epochs": 9, "steps": 90,
               "time_s": 1.25, "final": {"epoch": 9, **final}, "monitor": "val/f1",
               "best_value": 0.9667, "best_epoch": 7, "best_checkpoint": path,
               "run_dir": "runs/x/20260101-000000"}
    lines = []
    report(summary, SimpleNamespace(model=tc.nn.Linear(8, 4)), lines.append, width=60)
    assert lines[0] == "completed: 9 epochs, 90 steps, 1.2s"
    assert lines[1:3] == ["final: tr loss 0.1235 acc 0.1235 f1 0.1235 auroc 0.1235",
                          "       va loss 0.1235 acc 0.1235 f1 0.1235 auroc 0.1235"]
    assert lines[3:5] == ["best val/f1 0.9667 at epoch 7 ->", f"  {path}"]
    assert lines[-1] == "run directory: runs/x/20260101-000000"
