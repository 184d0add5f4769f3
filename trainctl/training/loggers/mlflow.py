"""MLflow tracking, with the client of mlflow-skinny (``pip install 'trainctl[mlflow]'``).

Enable it with ``logging: [csv, mlflow]`` (or ``{type: mlflow, tracking_uri: ..., experiment:
...}``); by default runs go to a local ``mlruns/`` folder in the runs root, which ``mlflow ui
--backend-store-uri runs/mlruns`` shows.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from ...config.registry import register
from ...core.errors import TrainctlError
from .base import Logger, flatten_config, require

# trainctl's run status -> MLflow's.
STATUS = {"completed": "FINISHED", "pruned": "FINISHED", "interrupted": "KILLED",
          "failed": "FAILED"}
# Characters MLflow allows in a param or metric name; others become "_".
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_\-. /]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


@register("callback", "mlflow")
class MLflowLogger(Logger):
    """Tracks the run in MLflow: one MLflow run per trainctl run, continued on resume.

    It logs the flattened config as params (``optimizer.lr``, ``model.layers.0.type``, ...), the
    metrics with the run's global step as MLflow's step (``train/loss_step`` and ``lr`` every
    ``train.log_every`` steps, every epoch metric and ``epoch`` at each epoch's end; sent once
    per epoch), and at the end the run's files as artifacts: ``checkpoints/`` (unless
    ``log_checkpoints`` is false), the plots under ``plots/``, ``report.html``, ``config.yaml``,
    ``summary.json`` and ``metrics.csv``; then it closes the MLflow run as FINISHED, KILLED
    (interrupted) or FAILED. The MLflow run id is kept in the checkpoints, so ``--resume``
    continues the same MLflow run. MLflow keeps every value it was sent: the steps between a
    resumed checkpoint and the interruption appear twice in a metric's history (the later value
    is the one the resumed run computed).

    Args:
        tracking_uri: a folder (the file store) or any MLflow tracking URI; default
            ``<runs root>/mlruns``. For a folder, MLflow 3's opt-out of its file-store refusal
            (``MLFLOW_ALLOW_FILE_STORE``) is set unless the environment already sets it.
        experiment: the MLflow experiment; default the config's ``name``.
        run_name: default the run directory's name (its timestamp).
        log_checkpoints: copy the checkpoints into the artifact store at the end.

    Example:
        >>> from mlflow.tracking import MlflowClient  # doctest: +SKIP
        >>> client = MlflowClient("file:///abs/runs/mlruns")  # doctest: +SKIP
        >>> client.get_metric_history(run_id, "val/loss")  # doctest: +SKIP
    """

    def __init__(self, tracking_uri: str | None = None, experiment: str | None = None,
                 run_name: str | None = None, log_checkpoints: bool = True):
        require("mlflow", "mlflow", "mlflow-skinny", "mlflow")
        super().__init__()
        self.tracking_uri, self.experiment, self.run_name = tracking_uri, experiment, run_name
        self.log_checkpoints = log_checkpoints
        self.run_id = ""  # "" until the MLflow run exists (a string: checkpoints check types)
        self.client = None
        self.pending: list = []  # metrics not sent yet (mlflow.entities.Metric)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "run_id": self.run_id}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.run_id = state.get("run_id") or ""

    def uri(self) -> str:
        """The tracking URI: ``tracking_uri`` (a folder becomes a ``file:`` URI) or
        ``<runs root>/mlruns``."""
        if self.tracking_uri is not None and _SCHEME.match(self.tracking_uri):
            return self.tracking_uri
        if self.tracking_uri is not None:
            folder = Path(self.tracking_uri)
        elif self.runs_root is not None:
            folder = self.runs_root / "mlruns"
        elif self.run_dir is not None:
            folder = self.run_dir.parent.parent / "mlruns"  # <root>/<name>/<timestamp>
        else:
            folder = Path("mlruns")
        return folder.resolve().as_uri()

    def bind(self, *args, **kwargs) -> MLflowLogger:
        super().bind(*args, **kwargs)
        self.connect()  # MLflow takes a second to import: not inside the run's timed part
        return self

    def connect(self) -> None:
        """Open the MLflow client (once)."""
        if self.client is not None:
            return
        from mlflow.tracking import MlflowClient

        uri = self.uri()
        if uri.startswith("file:"):
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        self.client = MlflowClient(tracking_uri=uri)

    def on_fit_start(self, trainer):
        self.connect()
        if self.run_id and self._run_exists(self.run_id):
            self.client.update_run(self.run_id, status="RUNNING")
            self._log_params(resumed=True)
            return
        name = self.experiment or self.config.get("name") or "trainctl"
        experiment = self.client.get_experiment_by_name(name)
        experiment_id = (experiment.experiment_id if experiment is not None
                         else self.client.create_experiment(name))
        tags = {"trainctl.run_dir": str(self.run_dir)} if self.run_dir is not None else {}
        run = self.client.create_run(
            experiment_id, run_name=self.run_name or (self.run_dir.name if self.run_dir else None),
            tags=tags)
        self.run_id = run.info.run_id
        self._log_params(resumed=False)

    def _run_exists(self, run_id: str) -> bool:
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_run(run_id)
        except MlflowException:
            return False
        return True

    def _log_params(self, resumed: bool) -> None:
        from mlflow.entities import Param, RunTag

        params = {_name(k): str(v) for k, v in flatten_config(self.config).items()}
        tags = []
        if resumed:
            # MLflow params cannot change: a value changed on resume is kept as a tag.
            before = self.client.get_run(self.run_id).data.params
            tags = [RunTag(f"changed_on_resume.{k}", v) for k, v in params.items()
                    if k in before and before[k] != v]
            params = {k: v for k, v in params.items() if k not in before}
        items = [Param(k, v) for k, v in params.items()]
        for i in range(0, max(len(items), len(tags)), 100):  # MLflow's batch limit
            self.client.log_batch(self.run_id, params=items[i:i + 100], tags=tags[i:i + 100])

    def _add(self, values: dict, step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.pending += [Metric(_name(k), float(v), now, step) for k, v in values.items()]

    def log_step(self, step, values):
        self._add({("train/loss_step" if k == "train/loss" else k): v
                   for k, v in values.items()}, step)

    def log_epoch(self, trainer, metrics):
        self._add(metrics, trainer.global_step)
        self.flush()

    def flush(self) -> None:
        """Send the metrics logged since the last flush."""
        if self.client is None or not self.pending:
            return
        pending, self.pending = self.pending, []
        for i in range(0, len(pending), 1000):  # MLflow's batch limit
            self.client.log_batch(self.run_id, metrics=pending[i:i + 1000])

    def on_fit_end(self, trainer):
        self.flush()

    def on_interrupt(self, trainer):
        self.flush()

    def on_exception(self, trainer, exception):
        self.flush()

    def close(self):
        self.flush()

    def on_run_end(self, run_dir, summary):
        if self.client is None or not self.run_id:  # the run failed before training began
            return
        self.flush()
        run_dir = Path(run_dir)
        files = [(p, None) for p in (run_dir / n for n in
                                     ("config.yaml", "summary.json", "metrics.csv", "report.html"))
                 if p.is_file()]
        files += [(p, "plots") for p in sorted(run_dir.iterdir())
                  if p.suffix in PLOT_SUFFIXES and p.is_file()]
        if self.log_checkpoints:
            files += [(p, "checkpoints")
                      for p in sorted((run_dir / "checkpoints").glob("*.safetensors"))]
        try:
            for path, folder in files:
                self.client.log_artifact(self.run_id, str(path), folder)
        except OSError as e:
            raise TrainctlError(f"mlflow: could not store {e.filename}: {e.strerror}") from None
        finally:
            self.client.set_terminated(self.run_id, STATUS.get(summary.get("status"), "FAILED"))


def _name(key: str) -> str:
    return _NOT_ALLOWED.sub("_", key)[:250]
