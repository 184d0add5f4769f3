"""What a sweep leaves behind: its trials as rows, the best config as a YAML file ready to train,
and Optuna's charts (optimization history, parameter importances, parallel coordinates,
slices) as PNG, in ``<runs_root>/<name>/sweep-<study>/``.

Example:
    >>> result = sweep_report("configs/spirals_mlp.yaml", "spirals_mlp",
    ...                       "sqlite:///runs/spirals_mlp/sweep.db",
    ...                       "runs/spirals_mlp/sweep-spirals_mlp")  # doctest: +SKIP
    >>> [row["state"] for row in result["trials"]]  # doctest: +SKIP
    ['completed', 'pruned', 'completed', 'failed']
"""

from __future__ import annotations

import datetime
import math
import os
import warnings
from pathlib import Path

import yaml

from ..config import load_config
from ..config.changes import override_mapping
from ..core.errors import ConfigError
from .plot_style import write_figure
from .sweep_study import open_existing_study
from .tables import write_columns

STATES = {"COMPLETE": "completed", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running",
          "WAITING": "queued"}
# Optuna's matplotlib charts: file name -> function name in optuna.visualization.matplotlib.
CHARTS = {"history": "plot_optimization_history", "importance": "plot_param_importances",
          "parallel": "plot_parallel_coordinate", "slice": "plot_slice"}


def trial_rows(study) -> list[dict]:
    """One plain dict per trial: number, state, value, params, duration (s), run_dir, error."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        state = STATES.get(t.state.name, t.state.name.lower())
        if state == "failed" and t.user_attrs.get("interrupted"):
            state = "interrupted"
        seconds = None
        if t.datetime_start is not None and t.datetime_complete is not None:
            seconds = round((t.datetime_complete - t.datetime_start).total_seconds(), 2)
        rows.append({"number": t.number, "state": state, "value": t.value,
                     "params": dict(t.params), "duration_s": seconds,
                     "run_dir": t.user_attrs.get("run_dir"),
                     "overrides": t.user_attrs.get("overrides", []),
                     "error": t.user_attrs.get("error")})
    return rows


def sweep_report(config, study_name: str, storage: str, sweep_dir, objective: str | None = None,
                 direction: str | None = None, echo=None) -> dict:
    """Read the study and write its report files; returns ``{"trials": rows, "best": row or
    None, "best_config": path or None, "plots": [paths], "trials_csv": path, "objective",
    "direction", "study", "sweep_dir"}``."""
    study = open_existing_study(study_name, storage)
    info = study.user_attrs.get("trainctl", {})
    objective = objective or info.get("objective", "value")
    direction = direction or study.direction.name.lower()
    sweep_dir = Path(sweep_dir)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    rows = trial_rows(study)
    completed = [r for r in rows if r["state"] == "completed"]
    best = None
    if completed:
        pick = max if direction == "maximize" else min
        best = pick(completed, key=lambda r: r["value"])
    csv_path = _write_trials_csv(rows, sweep_dir / "trials.csv")
    best_config = None
    if best is not None:
        best_config = write_best_config(config, best, sweep_dir / "best.yaml", study_name,
                                        objective)
    plots = draw_charts(study, sweep_dir, objective, skipped=[])
    return {"study": study_name, "sweep_dir": sweep_dir, "objective": objective,
            "direction": direction, "trials": rows, "best": best, "best_config": best_config,
            "plots": plots, "trials_csv": csv_path}


def _write_trials_csv(rows: list[dict], path: Path) -> Path:
    keys = sorted({k for r in rows for k in r["params"]})
    columns = {"trial": [r["number"] for r in rows], "state": [r["state"] for r in rows],
               "value": ["" if r["value"] is None else r["value"] for r in rows],
               "duration_s": ["" if r["duration_s"] is None else r["duration_s"] for r in rows]}
    for key in keys:
        columns[key] = [r["params"].get(key, "") for r in rows]
    columns["run_dir"] = [r["run_dir"] or "" for r in rows]
    return write_columns(path, columns)


def write_best_config(config, best: dict, path: Path, study_name: str, objective: str) -> Path:
    """``best.yaml``: the original config as ``base:`` and the best trial's overrides on top,
    checked to load to exactly the config the trial ran (see
    :func:`~trainctl.config.changes.override_mapping`)."""
    source = Path(config)
    changed = override_mapping(source, best["overrides"])
    value = best["value"]
    header = (f"# trainctl sweep: the best trial of study {study_name!r} (trial "
              f"{best['number']}, {objective} {value:.6g}), written "
              f"{datetime.datetime.now():%Y-%m-%d %H:%M}\n"
              f"# train it with: trainctl train {path}\n")
    base = _base_path(source, path)
    body = yaml.safe_dump(changed, sort_keys=False, default_flow_style=None)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{header}base: {base}\n{body}")
    os.replace(tmp, path)
    if dict(load_config(path)) != dict(load_config(source, best["overrides"])):
        raise ConfigError(f"{path}: does not load to the config trial {best['number']} ran "
                          "(a bug in trainctl: please report it)")
    return path


def _base_path(source: Path, path: Path) -> str:
    """``source`` as ``path``'s ``base:``: relative when both are under the working folder (the
    project moves as a whole), else absolute."""
    cwd = Path.cwd().resolve()
    src, here = source.resolve(), path.parent.resolve()
    if src.is_relative_to(cwd) and here.is_relative_to(cwd):
        return os.path.relpath(src, here)
    return str(src)


def draw_charts(study, sweep_dir: Path, objective: str, skipped: list) -> list[Path]:
    """Optuna's matplotlib charts as PNG; a chart Optuna cannot draw yet (importances need two
    completed trials) is left out, and its reason appended to ``skipped``."""
    from optuna.trial import TrialState

    from . import plot_style

    plt = plot_style.pyplot()
    import matplotlib
    import optuna.visualization.matplotlib as charts

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    written = []
    for name, function in CHARTS.items():
        if len(done) < (2 if name in ("importance", "parallel") else 1):
            skipped.append(f"{name}: needs more completed trials")
            continue
        # Optuna sets its own style: keep it to this chart; its warnings (importances equal on a
        # flat objective, tight_layout) are about the chart, not the sweep
        with matplotlib.rc_context(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                axes = getattr(charts, function)(study, target_name=objective)
            except (ValueError, RuntimeError, ZeroDivisionError) as e:
                skipped.append(f"{name}: {e}")
                plt.close("all")
                continue
            fig = (axes.flat[0] if hasattr(axes, "flat") else axes).figure
            if not hasattr(axes, "flat"):  # one chart: trainctl's size (the slice grid and its
                fig.set_size_inches(8.0, 5.0)  # color bar keep Optuna's own layout)
            out = sweep_dir / f"{name}.png"
            write_figure(fig, out, dpi=100, bbox_inches="tight", format="png")
            plt.close(fig)
            written.append(out)
    return written


def best_line(result: dict) -> str:
    """One line on the best trial, or why there is none."""
    best = result["best"]
    if best is None:
        return "no completed trial yet"
    value = best["value"]
    text = f"{value:.6g}" if isinstance(value, float) and math.isfinite(value) else str(value)
    return f"best: trial {best['number']}, {result['objective']} {text}"
