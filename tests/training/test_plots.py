"""The charts' content, read from the matplotlib objects: one color per split on every chart, x in
epochs with steps on top, best epoch and early stop marked, log scale for losses spanning decades,
an R² floor, the LR as a step function per param group, overlays distinct for any count, and
png/svg/pdf files that parse."""

import json
import math
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from matplotlib.colors import to_hex

from tests.runs import ROOT, SPIRALS
from trainctl.core.errors import ConfigError
from trainctl.training import plot_style, plots, train


def run_rows(epochs=6, spe=4, loss=lambda e: 2.0 * 0.5 ** e, lrs=(0.1,), log_every=1,
             extra=None):
    """metrics.jsonl rows as MetricsLogger writes them: a step row every ``log_every`` steps and
    an epoch row per epoch; the LR of group g in epoch e is ``lrs[g] * 0.5 ** (e - 1)``."""
    rows = []
    for e in range(1, epochs + 1):
        lr = {("lr" if len(lrs) == 1 else f"lr/{g}"): base * 0.5 ** (e - 1)
              for g, base in enumerate(lrs)}
        for s in range((e - 1) * spe + 1, e * spe + 1):
            if s % log_every == 0:
                rows.append({"kind": "step", "epoch": e - 1, "step": s, "time": 0.0,
                             "train/loss": loss(e - 1 + s / spe - (e - 1)), **lr})
        rows.append({"kind": "epoch", "epoch": e, "step": e * spe, "time": 0.0, **lr,
                     "train/loss": loss(e), "val/loss": 1.1 * loss(e),
                     "train/accuracy": min(1.0, 0.5 + 0.08 * e),
                     "val/accuracy": min(1.0, 0.45 + 0.08 * e), **(extra(e) if extra else {})})
    return rows


SUMMARY = {"name": "demo", "monitor": "val/accuracy", "best_epoch": 4, "epochs": 6,
           "stop_reason": "early stopping: val/accuracy did not improve for 2 epochs"}


@pytest.fixture
def figures():
    made = []

    def build(rows, summary=SUMMARY, **kwargs):
        figs = plots.run_figures(rows, summary, **kwargs)
        made.extend(figs.values())
        return {name: fig.axes[0] for name, fig in figs.items()}

    yield build
    plt = plot_style.pyplot()
    for fig in made:
        plt.close(fig)


def lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_a_split_has_one_color_on_every_chart(figures):
    axes = figures(run_rows())
    assert set(axes) == {"lr", "loss", "accuracy"}
    for name in ("loss", "accuracy"):
        drawn = lines(axes[name])
        for split in ("train", "val"):
            assert to_hex(drawn[split].get_color()) == plot_style.SPLIT_COLORS[split].lower()
    steps = lines(axes["loss"])["train (steps)"]
    assert to_hex(steps.get_color()) == plot_style.SPLIT_COLORS["train"].lower()
    assert steps.get_alpha() < 0.5 and steps.get_linewidth() < lines(axes["loss"])[
        "train"].get_linewidth()
    assert len(set(plot_style.SPLIT_COLORS.values())) == 3


def test_loss_chart_one_train_curve_plus_light_steps_x_in_epochs_steps_on_top(figures):
    rows = run_rows(epochs=5, spe=4)
    ax = figures(rows)["loss"]
    assert legend_texts(ax) == ["train (steps)", "train", "val",
                                "best epoch 4 (val/accuracy)", "early stop (epoch 6)"]
    drawn = lines(ax)
    assert list(drawn["train"].get_xdata()) == [1, 2, 3, 4, 5]  # epochs
    assert list(drawn["train (steps)"].get_xdata())[:4] == [0.25, 0.5, 0.75, 1.0]
    assert ax.get_xlabel() == "epoch"
    (top,) = ax.child_axes  # the secondary axis: steps = epochs x 4
    assert top.get_xlabel() == "step"
    assert top._functions[0](3.0) == pytest.approx(12.0)
    assert top._functions[1](12.0) == pytest.approx(3.0)


def test_every_title_starts_with_the_run_name(figures):
    for name, ax in figures(run_rows()).items():
        assert ax.get_title().startswith("demo: "), name
    other = figures(run_rows(), run_name="other run")
    assert all(ax.get_title().startswith("other run: ") for ax in other.values())


def test_best_epoch_and_early_stop_are_marked(figures):
    axes = figures(run_rows())
    for name in ("loss", "accuracy"):
        best = lines(axes[name])["best epoch 4 (val/accuracy)"]
        assert list(best.get_xdata()) == [4, 4]
        stop = lines(axes[name])["early stop (epoch 6)"]
        assert list(stop.get_xdata()) == [6, 6]
    # the monitored curve gets a star at its best value
    stars = [line for line in axes["accuracy"].get_lines() if line.get_marker() == "*"]
    assert [(x, y) for x, y in zip(stars[0].get_xdata(), stars[0].get_ydata())] == [
        (4, pytest.approx(0.45 + 0.32))]
    assert not [line for line in axes["loss"].get_lines() if line.get_marker() == "*"]
    calm = figures(run_rows(), dict(SUMMARY, stop_reason=None, best_epoch=None))
    assert not any(label.startswith(("best", "early")) for label in lines(calm["loss"]))


def test_log_scale_only_for_values_spanning_decades(figures):
    assert figures(run_rows(loss=lambda e: 10.0 * 0.2 ** e))["loss"].get_yscale() == "log"
    assert figures(run_rows(loss=lambda e: 1.0 + 1 / (e + 1)))["loss"].get_yscale() == "linear"
    # accuracy never goes to log, and stays inside [0, 1]
    ax = figures(run_rows())["accuracy"]
    low, high = ax.get_ylim()
    assert ax.get_yscale() == "linear" and 0.0 <= low and high <= 1.01


def test_r2_is_floored_with_a_note(figures):
    r2 = {1: -4.0, 2: -0.5, 3: 0.3, 4: 0.5, 5: 0.55, 6: 0.6}
    ax = figures(run_rows(extra=lambda e: {"train/r2": r2[e], "val/r2": r2[e] - 0.05}))["r2"]
    low, high = ax.get_ylim()
    assert low == -1.0 and 0.6 < high <= 1.05
    assert any("below -1 not shown" in t and "-4.05" in t for t in legend_texts(ax))
    calm = figures(run_rows(extra=lambda e: {"val/r2": 0.1 * e}))["r2"]
    assert calm.get_ylim()[0] == pytest.approx(0.1 - 0.025)
    assert not any("not shown" in t for t in legend_texts(calm))


def test_lr_is_a_step_function_per_param_group(figures):
    ax = figures(run_rows(epochs=3, spe=4, lrs=(0.1, 0.01), log_every=3))["lr"]
    assert legend_texts(ax) == ["param group 0", "param group 1"]
    group0 = lines(ax)["param group 0"]
    assert group0.get_drawstyle() == "steps-pre"
    # logged steps 3, 4 (epoch end), 6, 8, 9, 12: each value held back to the previous sample
    xs, ys = list(group0.get_xdata()), list(group0.get_ydata())
    assert xs == [0.0, 0.75, 1.0, 1.5, 2.0, 2.25, 3.0]
    assert ys == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    assert list(lines(ax)["param group 1"].get_ydata())[-1] == pytest.approx(0.0025)
    assert ax.get_yscale() == "linear"


def test_lr_samples_merge_step_and_epoch_rows_by_step():
    rows = run_rows(epochs=2, spe=4, log_every=1)
    steps, values = plots.lr_samples(rows, "lr")
    assert steps == list(range(1, 9)) and values == [0.1] * 4 + [0.05] * 4
    assert plots.steps_per_epoch(rows) == 4
    assert plots.lr_keys([{"lr/10": 1, "lr/2": 1, "lr/0": 1}]) == ["lr/0", "lr/2", "lr/10"]


def test_no_epoch_yet_x_in_steps(figures):
    rows = [r for r in run_rows(epochs=1) if r["kind"] == "step"]
    ax = figures(rows)["loss"]
    assert ax.get_xlabel() == "step" and not ax.child_axes


def test_overlay_styles_stay_distinct_for_any_count():
    assert len({plot_style.curve_style(i) for i in range(200)}) == 200
    curves = [{"label": f"c{i}", "lrs": [0.1, 0.05 + i / 100], "steps": [0, 1]}
              for i in range(15)]
    fig = plots.lr_curves_figure(curves, title="demo: schedules")
    try:
        ax = fig.axes[0]
        styles = {(to_hex(line.get_color()), str(line.get_linestyle()))
                  for line in ax.get_lines()}
        assert len(ax.get_lines()) == 15 and len(styles) == 15
        assert len(legend_texts(ax)) == 15 and ax.get_title() == "demo: schedules"
    finally:
        plot_style.pyplot().close(fig)


def test_equal_curves_are_drawn_once_with_both_labels(figures):
    fig = plots.lr_curves_figure([{"label": "a: group 0", "lrs": [1.0, 0.5]},
                                  {"label": "a: group 1", "lrs": [1.0, 0.5]},
                                  {"label": "b", "lrs": [1.0, 0.25]}])
    try:
        assert [line.get_label() for line in fig.axes[0].get_lines()] == [
            "a: group 0 = a: group 1", "b"]
    finally:
        plot_style.pyplot().close(fig)
    ax = figures(run_rows(lrs=(0.1, 0.1)))["lr"]
    assert legend_texts(ax) == ["param group 0 = param group 1"]


def test_per_epoch_preview_draws_its_last_epoch():
    fig = plots.lr_curves_figure([{"label": "a", "lrs": [1.0, 0.5, 0.25], "steps": [0, 1, 2],
                                   "drawstyle": "steps-post"}])
    try:
        (line,) = fig.axes[0].get_lines()
        assert list(line.get_xdata()) == [0, 1, 2, 3] and list(line.get_ydata())[-1] == 0.25
    finally:
        plot_style.pyplot().close(fig)


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_plot_run_writes_each_format_and_reads_the_summary(tmp_path, fmt):
    run = tmp_path / "demo" / "20260101-000000"
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps(SUMMARY))
    written = plots.plot_run(run, run_rows(), fmt=fmt)
    assert sorted(p.name for p in written) == sorted(f"{n}.{fmt}" for n in
                                                     ("lr", "loss", "accuracy"))
    data = (run / f"loss.{fmt}").read_bytes()
    if fmt == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    elif fmt == "pdf":
        assert data.startswith(b"%PDF") and b"%%EOF" in data[-32:]
    else:
        root = ET.fromstring(data)
        assert root.tag.endswith("svg")
        text = "".join(root.itertext())
        assert "demo: loss" in text and "best epoch 4" in text  # text kept as text


def test_plot_run_refuses_an_unknown_format(tmp_path):
    with pytest.raises(ConfigError, match="png, svg, pdf"):
        plots.plot_run(tmp_path, run_rows(), fmt="jpg")


def test_eval_charts_take_the_split_color(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(plot_style, "save", lambda fig, path, fmt=None: seen.append(fig) or path)
    plots.plot_roc([0, 0.5, 1], [0, 0.8, 1], 0.9, tmp_path / "roc.png", split="val")
    plots.plot_precision_recall([1.0, 0.8], [0.5, 1.0], 0.9, 0.4, tmp_path / "pr.png",
                                split="test")
    plots.plot_residuals([1.0, 2.0, 3.0], [1.5, 1.5, 3.5], tmp_path / "r.png", split="train")
    roc, pr, residuals = (fig.axes[0] for fig in seen)
    assert to_hex(roc.get_lines()[0].get_color()) == plot_style.SPLIT_COLORS["val"].lower()
    assert to_hex(pr.get_lines()[0].get_color()) == plot_style.SPLIT_COLORS["test"].lower()
    assert to_hex(residuals.collections[0].get_facecolor()[0]) == plot_style.SPLIT_COLORS[
        "train"].lower()
    for fig in seen:
        plot_style.pyplot().close(fig)


def test_training_writes_the_charts_in_the_configured_format(tmp_path, write_config):
    config = write_config(SPIRALS + "plots: {format: svg}\n")
    summary = train(config, run_dir=tmp_path / "run", quiet=True, runs_root=tmp_path / "runs",
                    echo=lambda *a, **k: None)
    run = tmp_path / "run"
    assert {"lr.svg", "loss.svg", "accuracy.svg"} <= {p.name for p in run.iterdir()}
    assert not list(run.glob("*.png"))
    text = "".join(ET.parse(run / "loss.svg").getroot().itertext())
    assert f"{summary['name']}: loss" in text and "best epoch" in text


def test_importing_training_does_not_import_matplotlib():
    code = "import sys, trainctl.training; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert out.strip() == "False"


def test_finite_filter_keeps_plots_of_damaged_values(figures):
    rows = run_rows()
    rows[-1]["val/loss"] = math.inf
    rows[-2]["train/loss"] = math.nan
    ax = figures(rows)["loss"]
    assert all(math.isfinite(v) for v in ax.get_ylim())


def test_a_chart_that_fails_midway_leaves_the_previous_file(tmp_path):
    from trainctl.training.plot_style import pyplot, save

    path = tmp_path / "loss.png"
    path.write_bytes(b"the previous chart")
    fig = pyplot().figure()

    def breaks(target, **kwargs):
        target.write(b"\x89PNG half a chart")
        raise KeyboardInterrupt  # stopped while the chart is written

    fig.savefig = breaks
    with pytest.raises(KeyboardInterrupt):
        save(fig, path)
    assert path.read_bytes() == b"the previous chart"
    assert [p.name for p in tmp_path.iterdir()] == ["loss.png"]
    save(pyplot().figure(), path)
    assert path.read_bytes().startswith(b"\x89PNG")
