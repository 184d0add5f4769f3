"""Run directories: ``runs/<name>/<timestamp>/``, the ``latest`` link, the lock, and finding the
run or checkpoint to continue.

Two trainings never write into one directory at once: a run holds ``.lock`` (with its pid) while
it trains. A lock left by a process that no longer exists is stale and is taken over.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from pathlib import Path

from ..core.errors import ConfigError
from .checkpoint import find_checkpoint

LOCK_NAME = ".lock"


def new_run_dir(root: Path, name: str) -> Path:
    """A fresh ``root/name/<timestamp>`` (never an existing one)."""
    base = Path(root) / name
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for i in range(1000):
        candidate = base / (stamp if i == 0 else f"{stamp}-{i}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise ConfigError(f"{base}: could not create a new run directory")


def point_latest(run_dir: Path) -> None:
    """Point ``<run_dir>/../latest`` at ``run_dir`` (a relative symlink, swapped atomically)."""
    if run_dir.is_symlink():  # given as .../latest: point at what it names, never at itself
        run_dir = run_dir.parent / os.readlink(run_dir)
    link = run_dir.parent / "latest"
    tmp = run_dir.parent / f".latest.tmp-{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run_dir.name)
        os.replace(tmp, link)
    except OSError:
        tmp.unlink(missing_ok=True)


def latest_run(root: Path, name: str | None = None) -> Path | None:
    """The newest run: of ``name``, or of any name under ``root``."""
    root = Path(root)
    if name is not None:
        link = root / name / "latest"
        if link.is_dir():
            return link.resolve()
        runs = [p for p in (root / name).glob("*") if p.is_dir() and not p.is_symlink()]
    else:
        runs = [p for p in root.glob("*/*") if p.is_dir() and not p.is_symlink()]
    runs = [p for p in runs if (p / "config.yaml").exists()]
    return max(runs, key=lambda p: p.stat().st_mtime) if runs else None


def choose_run_dir(run_dir, resume_dir: Path | None, root: Path, name: str) -> Path:
    """Where a run writes: ``run_dir`` if given (it must be empty unless resuming into it), else
    the directory of the run being resumed, else a new ``root/name/<timestamp>``."""
    if run_dir is not None:
        target = Path(run_dir)
        busy = target.exists() and any(target.iterdir())
        if busy and resume_dir is None:
            raise ConfigError(f"--run-dir {target}: the directory is not empty; trainctl never "
                              "writes over an earlier run (use --resume to continue it)")
        target.mkdir(parents=True, exist_ok=True)
        return target
    if resume_dir is not None:
        return resume_dir
    return new_run_dir(root, name)


def resume_checkpoint(resume: str, root: Path, name: str | None) -> Path:
    """The checkpoint ``--resume`` means: ``auto`` (the newest run called ``name`` under
    ``root``), a run directory (its newest resumable checkpoint) or a checkpoint file."""
    if resume == "auto":
        if name is None:
            raise ConfigError("--resume auto needs the config, to know the run's name; or give "
                              "the run directory: --resume runs/<name>/<timestamp>")
        run = latest_run(root, name)
        if run is None:
            raise ConfigError(f"--resume auto: no earlier run named {name!r} under "
                              f"{root}/ to resume")
        return resumable_checkpoint(run)
    path = Path(resume)
    if path.is_dir() and ((path / "checkpoints").is_dir() or (path / "config.yaml").is_file()):
        return resumable_checkpoint(path)
    return find_checkpoint(path)


RESUMABLE = ("last.safetensors", "interrupted.safetensors")


def resumable_checkpoint(run: Path) -> Path:
    """The newest of a run's ``last`` and ``interrupted`` checkpoints."""
    found = [run / "checkpoints" / name for name in RESUMABLE
             if (run / "checkpoints" / name).is_file()]
    if not found:
        raise ConfigError(f"{run}: no checkpoints/last.safetensors or "
                          "checkpoints/interrupted.safetensors to resume from")
    return max(found, key=lambda p: p.stat().st_mtime_ns)


def run_dir_of(checkpoint: Path) -> Path | None:
    """The run directory a checkpoint file belongs to (``<run>/checkpoints/x.safetensors``),
    through the ``latest`` link to the run it names (a run is written under its own name)."""
    candidate = Path(checkpoint).parent.parent
    if candidate.is_symlink():
        candidate = candidate.parent / os.readlink(candidate)
    return candidate if (candidate / "config.yaml").exists() else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp_files(run_dir: Path) -> list[Path]:
    """Delete the temp files (``.<name>.tmp-<pid>``) that a killed writer left in ``run_dir`` and
    its ``checkpoints/``; a file whose writer is still alive is left alone."""
    removed = []
    for folder in (Path(run_dir), Path(run_dir) / "checkpoints"):
        for tmp in folder.glob(".*.tmp-*"):
            pid = tmp.name.rpartition(".tmp-")[2]
            if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
    return removed


class RunLock:
    """Exclusive use of a run directory while training writes into it."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOCK_NAME
        self.held = False

    def acquire(self) -> RunLock:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    pid = int(self.path.read_text().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and pid != os.getpid() and _pid_alive(pid):
                    raise ConfigError(
                        f"{self.path.parent}: another training (pid {pid}) is writing into this "
                        "run directory; wait for it or choose another --run-dir"
                    ) from None
                self.path.unlink(missing_ok=True)  # stale: its process is gone
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            self.held = True
            remove_stale_temp_files(self.path.parent)
            return self
        raise ConfigError(f"{self.path.parent}: could not lock the run directory")

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False


@contextlib.contextmanager
def naming(path):
    """Give an OSError that does not say which file it is about the ``path`` being written.

    A failed ``write``, ``fsync`` or ``close`` (a full disk, a file-size limit) raises an OSError
    without a file name; the CLI's one-line error should still say which file could not be
    written.
    """
    try:
        yield
    except OSError as e:
        if e.filename is None and e.errno is not None:
            raise OSError(e.errno, e.strerror, str(path)) from e
        raise


def run_status(run_dir: Path) -> str | None:
    """A run's status from its ``summary.json`` (None without one). A run that says ``running``
    but whose process is gone died without a word (killed, or a disk too full to write even the
    summary): ``failed``."""
    import json

    try:
        summary = json.loads((Path(run_dir) / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    status = summary.get("status") if isinstance(summary, dict) else None
    pid = summary.get("pid") if isinstance(summary, dict) else None
    if status == "running" and isinstance(pid, int) and pid != os.getpid() and \
            not _pid_alive(pid):
        return "failed"
    return status if isinstance(status, str) else None
