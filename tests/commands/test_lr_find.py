"""`trainctl lr-find`: the LR range test on the spirals config (its suggestion lands near the LR
it trains well with), early stop on divergence, `--apply`, param groups, and what it writes."""

import json
import shutil
from pathlib import Path

import pytest

from trainctl.config import load_config
from trainctl.training import lr_find
from trainctl.training.lr_find import lr_schedule, smooth

ROOT = Path(__file__).resolve().parents[2]
# configs/spirals_mlp.yaml trains to >= 95% validation accuracy with Adam at lr 0.01 (its own
# setting; checked by training it): a good suggestion is within a factor 30 of it.
KNOWN_GOOD_LR = 0.01


@pytest.fixture
def spirals(tmp_path, monkeypatch):
    """The shipped spirals config (synthetic data, nothing to download) in tmp_path."""
    monkeypatch.chdir(tmp_path)
    return Path(shutil.copy(ROOT / "configs" / "spirals_mlp.yaml", tmp_path / "spirals.yaml"))


def test_suggestion_near_the_known_good_lr(spirals, cli):
    code, text, err = cli("lr-find", spirals, "--min", "1e-6", "--max", "10", "--steps", "60")
    assert code == 0, err
    out_dir = next((spirals.parent / "runs" / "spirals_mlp").glob("lr-find-*"))
    result = json.loads((out_dir / "lr_find.json").read_text())
    suggested = result["suggested"]
    assert suggested == result["suggestion"]["steepest"]
    assert KNOWN_GOOD_LR / 30 <= suggested <= KNOWN_GOOD_LR * 30
    assert KNOWN_GOOD_LR / 30 <= result["suggestion"]["min_div_10"] <= KNOWN_GOOD_LR * 30
    assert f"suggested lr: {suggested:.3g}" in text and "min loss / 10: " in text
    assert f"wrote {out_dir / 'lr-find.png'}".replace(str(spirals.parent) + "/", "") in text
    # the results folder holds the two results only: no checkpoint, config or metrics
    assert sorted(p.name for p in out_dir.iterdir()) == ["lr-find.png", "lr_find.json"]
    assert (out_dir / "lr-find.png").stat().st_size > 5000
    assert [p.name for p in out_dir.parent.iterdir()] == [out_dir.name]
    assert len(result["lrs"]) == len(result["losses"]) == len(result["smoothed"]) == 60


def test_divergence_stops_early(spirals, cli):
    code, text, err = cli("lr-find", spirals, "--max", "1000", "--steps", "60")
    assert code == 0, err
    result = json.loads(next(spirals.parent.glob("runs/*/lr-find-*/lr_find.json")).read_text())
    assert result["steps_run"] < 60
    assert result["diverged_at"] == result["lrs"][-1]
    assert f"stopped early: loss diverged at lr {result['diverged_at']:.3g}" in text
    assert result["smoothed"][-1] > 4 * min(result["smoothed"])


def test_apply_writes_a_new_loadable_config(spirals, cli):
    original = spirals.read_text()
    code, text, err = cli("lr-find", spirals, "--min", "1e-5", "--max", "1", "--steps", "30",
                          "--apply")
    assert code == 0, err
    result = json.loads(next(spirals.parent.glob("runs/*/lr-find-*/lr_find.json")).read_text())
    applied = spirals.with_name(f"spirals.lr-{result['suggested']:g}.yaml")
    assert f"applied: {applied}" in text
    cfg = load_config(applied)
    assert cfg["optimizer"]["lr"] == result["suggested"]
    assert cfg["optimizer"]["type"] == "Adam" and cfg["model"]["sizes"] == [2, 64, 64, 3]
    assert spirals.read_text() == original
    # a second --apply with the same suggestion never overwrites the first file
    code, text, err = cli("lr-find", spirals, "--min", "1e-5", "--max", "1", "--steps", "30",
                          "--apply")
    assert code == 0, err
    assert f"applied: {applied.with_name(applied.stem + '-2.yaml')}" in text and applied.read_text()


def test_param_groups_keep_their_ratio(write_config, tmp_path):
    path = write_config("""\
        name: groups
        seed: 0
        data:
          train: {type: SyntheticClassification, kind: spirals, n_samples: 64, n_classes: 3}
          batch_size: 16
        model:
          type: Sequential
          layers:
            - {type: Linear, in_features: 2, out_features: 8}
            - {type: ReLU}
            - {type: Linear, in_features: 8, out_features: 3}
        loss: {type: CrossEntropyLoss}
        optimizer:
          type: SGD
          lr: 0.1
          momentum: 0.9
          param_groups: [{params: "*.bias", lr: 0.025}]
        """)
    result = lr_find(path, min_lr=1e-4, max_lr=1e-1, steps=12, runs_root=tmp_path / "runs",
                     apply=True)
    assert result["group_ratios"] == [1.0, 0.25]
    assert result["lrs"][0] == pytest.approx(1e-4) and result["lrs"][-1] == pytest.approx(1e-1)
    cfg = load_config(result["applied"])
    lr = cfg["optimizer"]["lr"]
    assert lr == result["suggested"]
    assert cfg["optimizer"]["param_groups"][0]["lr"] == pytest.approx(lr / 4, rel=1e-2)


def test_apply_keeps_the_overrides_the_test_ran_with(tmp_path):
    path = tmp_path / "spirals.yaml"
    path.write_text((ROOT / "configs" / "spirals_mlp.yaml").read_text())
    overrides = ["data.batch_size=32", "model.sizes.1=16", "optimizer.weight_decay=0.001"]
    result = lr_find(path, overrides, min_lr=1e-4, max_lr=1.0, steps=20,
                     runs_root=tmp_path / "runs", apply=True)
    text = result["applied"].read_text()
    assert "(included below)" in text
    cfg = load_config(result["applied"])
    want = load_config(path, [*overrides, f"optimizer.lr={result['suggested']!r}"])
    assert dict(cfg) == dict(want)  # the applied file trains what the test ran, at the new LR


def test_the_lr_grows_and_the_loss_is_smoothed():
    assert lr_schedule(1e-4, 1e-1, 4) == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1])
    assert lr_schedule(0.0, 1.0, 5, "linear") == [0.0, 0.25, 0.5, 0.75, 1.0]
    # bias-corrected: a constant loss stays that constant from the first step
    assert smooth([2.0] * 5) == pytest.approx([2.0] * 5)


@pytest.mark.parametrize("args, message", [
    (["--min", "1", "--max", "0.1"], "must be below --max"),
    (["--steps", "5"], "--steps must be at least 10"),
    (["--min", "0"], "--min must be positive"),
])
def test_bad_arguments_are_one_line_errors(spirals, cli, args, message):
    code, text, err = cli("lr-find", spirals, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (spirals.parent / "runs").exists()
