"""The Optuna side of a sweep: opening its storage and study, and which trials count.

Nothing imports Optuna until a function here runs; :func:`require_optuna` gives the one-line
error naming the extra when it is missing.

Example:
    >>> storage_text("postgresql://me:secret@db.lan/sweeps")
    'postgresql://me:***@db.lan/sweeps'
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import warnings
from pathlib import Path

from ..core.errors import ConfigError

# Optuna's heartbeat: a trial whose process stops beating this long is failed and run again
# (a process killed without a word, on any machine of the study).
HEARTBEAT_S = 30
GRACE_S = 120


def require_optuna():
    """The optuna module, or a one-line ConfigError naming the extra that brings it."""
    try:
        import optuna
    except ImportError:
        raise ConfigError("trainctl sweep needs optuna, which is not installed: "
                          "pip install 'trainctl[sweep]'") from None
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # trainctl prints the trials itself
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def storage_text(url: str) -> str:
    """The storage as printed: a SQLite file's path, a database URL without its password."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        with contextlib.suppress(ValueError):
            path = path.relative_to(Path.cwd())
        return str(path)
    head, sep, tail = url.partition("@")
    if sep and ":" in head.partition("://")[2]:
        scheme, _, user = head.partition("://")
        return f"{scheme}://{user.partition(':')[0]}:***@{tail}"
    return url


def storage_for(url: str, attempts: int = 5):
    """Optuna's RDB storage for ``url``, with heartbeats (a killed process's trial runs again).

    Two processes opening a new database at once race to create its tables (one of them gets a
    UNIQUE constraint or "table exists" error); the loser tries again after a moment, when the
    tables exist. A database that stays unreachable fails after a few seconds."""
    require_optuna()
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    for attempt in range(attempts):
        try:
            return RDBStorage(url, engine_kwargs=engine, heartbeat_interval=HEARTBEAT_S,
                              grace_period=GRACE_S,
                              heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(2))
        except (ImportError, ValueError) as e:  # no such dialect or driver: trying again is vain
            problem = str(e).splitlines()[0] if str(e) else type(e).__name__
            break
        except Exception as e:  # noqa: BLE001  (SQLAlchemy's own errors: a race, a bad host)
            problem = f"{type(e).__name__}: {str(e).splitlines()[0]}"
            time.sleep(0.2 * (attempt + 1))
    raise ConfigError(f"--storage {storage_text(url)}: cannot open it: {problem}")


def open_study(plan, space, base):
    """Create the study, or load it after checking it was started with this space, objective,
    sampler and config (``base``, resolved with the sweep's --set: comments do not count)."""
    optuna = require_optuna()
    storage = storage_for(plan.storage)
    study = optuna.create_study(storage=storage, study_name=plan.study,
                                direction=plan.direction, load_if_exists=True)
    config = hashlib.sha256(json.dumps(dict(base), sort_keys=True, default=str).encode())
    want = {"space": space.digest(), "objective": plan.objective, "sampler": plan.sampler,
            "config": config.hexdigest()[:16]}
    had = study.user_attrs.get("trainctl")
    if had is None:
        study.set_user_attr("trainctl", {**want, "config_file": plan.config,
                                         "space_file": plan.space})
    else:
        changed = [k for k in want if had.get(k) != want[k]]
        if changed or study.direction.name.lower() != plan.direction:
            what = ", ".join(changed) or "direction"
            raise ConfigError(
                f"study {plan.study!r} in {storage_text(plan.storage)} was started with another "
                f"{what}: continue it with its config, --set and space "
                f"({had.get('config_file')}, {had.get('space_file')}), or give a new --study NAME")
    return study


def counts(trial) -> bool:
    """Whether a trial counts towards the study's total: finished (completed, pruned, failed
    with an error of its own) or running. Interrupted trials do not: they run again."""
    from optuna.trial import TrialState

    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING):
        return True
    return trial.state == TrialState.FAIL and "error" in trial.user_attrs


def requeue_interrupted(study) -> int:
    """Queue once more the trials Ctrl-C stopped (same parameters); returns how many."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    retried = {t.user_attrs.get("retry_of") for t in trials}
    n = 0
    for t in trials:
        if t.state == TrialState.FAIL and t.user_attrs.get("interrupted") \
                and t.number not in retried:
            study.enqueue_trial(t.params, user_attrs={"retry_of": t.number})
            n += 1
    return n




def open_existing_study(name: str, storage: str):
    """Load a study that exists; a ConfigError listing the studies there when it does not."""
    optuna = require_optuna()
    opened = storage_for(storage)
    try:
        return optuna.load_study(study_name=name, storage=opened)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(opened)]
        raise ConfigError(f"no study {name!r} in {storage_text(storage)}"
                          + (f" (it has {', '.join(names)})" if names else " (it has none)")
                          ) from None
