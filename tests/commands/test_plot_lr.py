"""`trainctl plot-lr`: previews of every shipped config, overlays, and recorded runs."""

import re
from pathlib import Path

import pytest

from trainctl.config import load_config
from trainctl.config.lr_preview import schedule_curves

ROOT = Path(__file__).resolve().parents[2]


def preview_config(path, epochs, steps_per_epoch):
    return schedule_curves(load_config(path), epochs, steps_per_epoch)


CONFIGS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "configs").rglob("*.yaml"))


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
