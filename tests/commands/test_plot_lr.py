"""`trainctl plot-lr`: previews of every shipped config, overlays, recorded runs, where the chart
goes (named after the config's name, under the runs root) and its format."""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from trainctl.config import load_config
from trainctl.config.lr_preview import schedule_curves

ROOT = Path(__file__).resolve().parents[2]


def preview_config(path, epochs, steps_per_epoch):
    return schedule_curves(load_config(path), epochs, steps_per_epoch)


CONFIGS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "configs").rglob("*.yaml")
                 if "sweeps" not in p.parts)  # sweep space files are not configs


@pytest.mark.parametrize("config", CONFIGS)
def test_every_config_previews_to_a_png(config, tmp_path, cli, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "lr.png"
    code, text, err = cli("plot-lr", config, "--out", out)
    assert code == 0, err
    assert out.stat().st_size > 5000
    assert f"wrote {out}" in text
    curves, _ = preview_config(config, None, None)
    groups = len(curves)
    # one summary line per curve: config name, initial/min/max/final LR
    assert len(re.findall(r": initial \S+, min \S+, max \S+, final \S+", text)) == groups


def test_param_groups_give_one_curve_each(monkeypatch):
    monkeypatch.chdir(ROOT)
    curves, _ = preview_config("configs/cifar10_cnn.yaml", None, 10)
    assert len(curves) == 2 and "params" in curves[1]["label"]
    assert len(curves[0]["lrs"]) == 15 * 10  # OneCycleLR per step: epochs x steps per epoch


def test_preview_numbers(monkeypatch):
    monkeypatch.chdir(ROOT)
    (step,), _ = preview_config("configs/schedulers/step_lr.yaml", 30, None)
    assert step["lrs"][:10] == [0.01] * 10 and step["lrs"][10] == 0.005
    assert step["milestones"] == [10, 20]
    (warm,), _ = preview_config("configs/schedulers/warmup_cosine.yaml", None, None)
    assert warm["lrs"][0] == pytest.approx(0.0001) and max(warm["lrs"]) == pytest.approx(0.01)
    assert warm["milestones"] == [5]


def test_overlay_of_several_configs(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, text, err = cli("plot-lr", "configs/schedulers/step_lr.yaml",
                           "configs/schedulers/cyclic_lr.yaml", "--epochs", "10",
                           "--log-scale", "--out", tmp_path / "both.png")
    assert code == 0, err
    assert "sched_step_lr:" in text and "sched_cyclic_lr:" in text


def test_unknown_scheduler_is_a_config_error(tmp_path, cli):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text((ROOT / "configs/spirals_mlp.yaml").read_text().replace(
        "CosineAnnealingLR", "CosineAnnealing"))
    code, _, err = cli("plot-lr", cfg)
    assert code == 2 and "did you mean 'CosineAnnealingLR'" in err


def test_no_runs_yet(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("plot-lr")
    assert code == 2 and "no runs under runs/" in err


def fake_run(root, name="demo", stamp="20260101-000000"):
    """A run directory as training leaves it: metrics.jsonl, summary.json and its own lr.png."""
    run = root / name / stamp
    run.mkdir(parents=True)
    rows = [{"kind": "step", "epoch": 0, "step": 1, "time": 0.1, "train/loss": 1.0, "lr": 0.1},
            {"kind": "epoch", "epoch": 1, "step": 2, "time": 0.2, "lr": 0.1},
            {"kind": "epoch", "epoch": 2, "step": 4, "time": 0.4, "lr": 0.05}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (run / "summary.json").write_text(json.dumps({"name": name}))
    (run / "config.yaml").write_text(f"name: {name}\n")
    (run / "lr.png").write_bytes(b"the run's own chart")
    return run


def test_default_path_is_the_config_name_under_the_runs_root(tmp_path, invoke):
    cfg = tmp_path / "whatever-file.yaml"
    cfg.write_text((ROOT / "configs/schedulers/step_lr.yaml").read_text().replace(
        "../spirals_mlp.yaml", str(ROOT / "configs/spirals_mlp.yaml")))
    code, text, err = invoke("plot-lr", cfg)
    assert code == 0, err
    out = Path("runs") / "sched_step_lr" / "lr-preview.png"
    assert f"wrote {out}\n" in text
    assert (tmp_path / out).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.png"))  # nothing in the current folder
    code, text, err = invoke("plot-lr", cfg, "--runs-root", "elsewhere", "--format", "svg")
    assert code == 0, err
    out = tmp_path / "elsewhere" / "sched_step_lr" / "lr-preview.svg"
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg") and "sched_step_lr: learning-rate schedule" in "".join(
        root.itertext())


def test_a_run_directory_gets_lr_plot_beside_its_own_lr_png(tmp_path, invoke):
    run = fake_run(tmp_path / "runs")
    for args in ((run,), ()):  # the run named, and the newest run
        code, text, err = invoke("plot-lr", *args, "--format", "pdf")
        assert code == 0, err
        assert (run / "lr-plot.pdf").read_bytes().startswith(b"%PDF")
        assert "lr-plot.pdf" in text.splitlines()[-1]
        assert (run / "lr.png").read_bytes() == b"the run's own chart"
    assert "demo/20260101-000000: initial 0.1, min 0.05, max 0.1, final 0.05 (3 points)" in text


def test_overlay_default_name_and_format_from_out(tmp_path, invoke):
    code, text, err = invoke("plot-lr", ROOT / "configs/schedulers/step_lr.yaml",
                             ROOT / "configs/schedulers/cyclic_lr.yaml", "--epochs", "5")
    assert code == 0, err
    assert (tmp_path / "runs" / "lr-preview-sched_step_lr+sched_cyclic_lr.png").exists()
    code, _, err = invoke("plot-lr", ROOT / "configs/schedulers/step_lr.yaml", "--out", "a.pdf")
    assert code == 0, err
    assert (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF")


def test_out_and_format_must_agree(tmp_path, invoke):
    code, _, err = invoke("plot-lr", ROOT / "configs/schedulers/step_lr.yaml", "--out", "a.png",
                          "--format", "svg")
    assert code == 2 and "does not end in .svg" in err
    code, _, err = invoke("plot-lr", ROOT / "configs/schedulers/step_lr.yaml", "--out", "a.jpg")
    assert code == 2 and "choose one of png, svg, pdf" in err
    assert not list(tmp_path.glob("a.*"))
