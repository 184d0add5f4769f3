"""Fault injection: a run hit by SIGINT (once, twice), SIGTERM, kill -9 in the middle of a
checkpoint write, a full disk, a file-size limit, a read-only or impossible run root, or a second
run into its directory says so in one line and an exit code, keeps everything it saved before,
and resumes to final weights and metrics bit-identical to a run that never stopped, or is refused
clearly.

The faulty runs are subprocesses of :data:`DRIVER`, which patches the fault in at an exact step
or write and then calls the real ``trainctl`` entry point; the resumes are the real CLI too.
The config is the same everywhere, so every run ends like :func:`reference`, one run that was
never stopped.
"""

import errno
import json
import os
import random
import resource
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy
import pytest

from tests.runs import ROOT, SPIRALS
from trainctl.training import train
from trainctl.training.checkpoint import load_checkpoint
from trainctl.training.run_dir import run_status

STEPS_PER_EPOCH, EPOCHS = 6, 4  # SPIRALS: 90 training samples in batches of 16
# `last` at every epoch's end (not every 30 s): the faults hit the checkpoint of a given epoch.
CONFIG = SPIRALS + "checkpoint: {last_every_s: 0}\n"
STEPS = STEPS_PER_EPOCH * EPOCHS

# Runs `trainctl <argv[2:]>` with the faults of the JSON spec in argv[1]:
#   pause_at: N             after optimizer step N, print "PAUSED N" and wait for a line on stdin
#                           (the test signals the process from outside meanwhile)
#   signal_at: N, signal    after optimizer step N, send the process that signal
#   fsync_fault: {name, nth, fault}  at the nth fsync of a temp file of checkpoints/<name>
#                           (bytes written, not yet renamed into place): "kill" is kill -9,
#                           "ENOSPC" fails as a full disk does
#   read_only: {prefix, errno}  creating or writing anything under prefix fails with that errno
#   no_plots: skip the PNGs (they take most of a tiny run's time and are not under test)
DRIVER = r"""
import builtins, errno, json, os, signal, sys

spec = json.loads(sys.argv[1])

from trainctl.training import plots
from trainctl.training.trainer import Trainer

if spec.get("no_plots"):
    plots.plot_run = lambda run_dir, rows, **options: []

real_step = Trainer._optimizer_step

def optimizer_step(self):
    real_step(self)
    if self.global_step == spec.get("pause_at"):
        print(f"PAUSED {self.global_step}", flush=True)
        sys.stdin.readline()
    if self.global_step == spec.get("signal_at"):
        os.kill(os.getpid(), getattr(signal, spec["signal"]))

Trainer._optimizer_step = optimizer_step

fault = spec.get("fsync_fault")
if fault:
    real_fsync, seen = os.fsync, []

    def fsync(fd):
        name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
        if name.startswith(f".{fault['name']}.tmp-"):
            seen.append(name)
            if len(seen) == fault["nth"]:
                if fault["fault"] == "kill":
                    os.kill(os.getpid(), signal.SIGKILL)
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as fsync raises it
        return real_fsync(fd)

    os.fsync = fsync

read_only = spec.get("read_only")
if read_only:
    code = getattr(errno, read_only["errno"])

    def refuse(path):
        if os.path.abspath(os.fsdecode(path)).startswith(read_only["prefix"]):
            raise OSError(code, os.strerror(code), os.fsdecode(path))

    real_mkdir, real_open, real_builtin_open = os.mkdir, os.open, builtins.open
    writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def mkdir(path, *args, **kwargs):
        refuse(path)
        return real_mkdir(path, *args, **kwargs)

    def os_open(path, flags, *args, **kwargs):
        if flags & writes:
            refuse(path)
        return real_open(path, flags, *args, **kwargs)

    def builtin_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)) and set(mode) & set("wax+"):
            refuse(file)
        return real_builtin_open(file, mode, *args, **kwargs)

    os.mkdir, os.open, builtins.open = mkdir, os_open, builtin_open

from trainctl.cli import main

main(sys.argv[2:])
"""

pytestmark = pytest.mark.skipif(sys.platform != "linux",
                                reason="POSIX signals and limits, and /proc/self/fd")

ENV = {**{k: v for k, v in os.environ.items() if k != "TRAINCTL_DEBUG"},
       "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


class Faulty:
    """A ``trainctl`` subprocess run by :data:`DRIVER`, killed if it hangs."""

    def __init__(self, cwd: Path, spec: dict, *args, preexec_fn=None):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", DRIVER, json.dumps(spec), *map(str, args)], cwd=cwd, env=ENV,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=preexec_fn)
        self.watchdog = threading.Timer(60, self.proc.kill)
        self.watchdog.daemon = True
        self.watchdog.start()
        self.out, self.err = [], []

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_for(self, stream: str, text: str) -> None:
        """Read ``stream`` ("out"/"err") up to the line containing ``text``."""
        pipe, lines = (self.proc.stdout, self.out) if stream == "out" else (self.proc.stderr,
                                                                             self.err)
        for line in pipe:
            lines.append(line)
            if text in line:
                return
        self.finish()
        pytest.fail(f"the run ended (exit {self.proc.returncode}) before printing {text!r}:\n"
                    f"{''.join(self.out)}{''.join(self.err)}")

    def send(self, sig) -> None:
        self.proc.send_signal(sig)

    def go_on(self) -> None:
        """Let a run paused by ``pause_at`` continue."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass

    def finish(self) -> tuple[int, str, str]:
        try:
            out, err = self.proc.communicate(timeout=60)
        finally:
            self.watchdog.cancel()
            self.proc.kill()
        return self.proc.returncode, "".join(self.out) + out, "".join(self.err) + err


def run_faulty(cwd, spec, *args, **kwargs) -> tuple[int, str, str]:
    return Faulty(cwd, spec, *args, **kwargs).finish()


def metric_rows(run: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "time"} for r in rows]


def rows_up_to(rows: list[dict], step: int) -> list[dict]:
    """The rows a run stopped after ``step`` has logged (what a checkpoint there keeps)."""
    return [r for r in rows if r["step"] <= step]


def checkpoint(run: Path, name: str = "last") -> dict:
    return load_checkpoint(run / "checkpoints" / f"{name}.safetensors")


def summary_of(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


def temp_files(run: Path) -> list[Path]:
    return sorted(run.glob(".*.tmp-*")) + sorted(run.glob("checkpoints/.*.tmp-*"))


def snapshot(run: Path) -> dict:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file()}


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text and "internal error" not in text, text


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The same config trained without a fault: what every resumed run must end as."""
    folder = tmp_path_factory.mktemp("reference")
    (folder / "cfg.yaml").write_text(CONFIG)
    summary = train(folder / "cfg.yaml", run_dir=folder / "run", quiet=True,
                    echo=lambda message, err=False: None)
    assert summary["status"] == "completed" and summary["steps"] == STEPS
    return folder / "run"


def assert_ends_like(run: Path, reference: Path) -> None:
    """``run`` finished with the reference run's final weights (bit for bit) and metrics."""
    assert summary_of(run)["status"] == run_status(run) == "completed"
    got, want = checkpoint(run), checkpoint(reference)
    assert got["trainer"]["global_step"] == want["trainer"]["global_step"] == STEPS
    assert got["model"].keys() == want["model"].keys()
    for key, value in want["model"].items():
        assert numpy.array_equal(got["model"][key].numpy(), value.numpy()), key
    assert metric_rows(run) == metric_rows(reference)
    assert not (run / ".lock").exists() and temp_files(run) == []


def resume(invoke, run: Path, reference: Path) -> None:
    """``trainctl train --resume RUN`` (no config) finishes the run like the reference."""
    code, out, err = invoke("train", "--resume", run, "--quiet")
    assert code == 0, err
    assert out.startswith(f"resuming from {run}/checkpoints/")
    assert f"completed: {EPOCHS} epochs, {STEPS} steps" in out
    assert_ends_like(run, reference)


def assert_interrupted(run: Path, err: str, step: int, reference: Path) -> None:
    """What one Ctrl-C (or SIGTERM) after ``step`` leaves: three lines on stderr, a
    checkpoint at that step, the metrics logged so far, summary.json 'interrupted'."""
    last = run / "checkpoints" / "last.safetensors"
    epoch = step // STEPS_PER_EPOCH  # epochs completed
    assert [line for line in err.splitlines() if line] == [
        "stopping after this step and saving a checkpoint (press Ctrl-C again to stop at once)",
        f"interrupted: saved {last} (epoch {epoch}, step {step})",
        f"resume with: trainctl train --resume {run}",
    ]
    state = checkpoint(run)
    assert (state["trainer"]["global_step"], state["trainer"]["epoch"]) == (step, epoch)
    if epoch:
        assert checkpoint(run, "best")["trainer"]["epoch"] <= epoch
    summary = summary_of(run)
    assert summary["status"] == run_status(run) == "interrupted" and summary["error"] is None
    assert summary["newest_checkpoint"] == str(last) and summary["steps"] == step
    assert metric_rows(run) == rows_up_to(metric_rows(reference), step)
    assert not (run / ".lock").exists() and temp_files(run) == []


# ---------------------------------------------------------------------------- signals

# Ctrl-C after these steps: the first step (before any checkpoint), an epoch end (the interrupt
# then comes after that epoch's validation and checkpoints), the very last step, and one step
# drawn at random (seeded) inside each later epoch.
_draw = random.Random(13)
SIGINT_STEPS = [1, STEPS_PER_EPOCH, STEPS] + [
    _draw.randrange(e * STEPS_PER_EPOCH + 1, (e + 1) * STEPS_PER_EPOCH) for e in range(1, EPOCHS)]


@pytest.mark.parametrize("step", SIGINT_STEPS)
def test_one_sigint_at_any_step_saves_and_resumes_bit_identically(tmp_path, write_config,
                                                                  invoke, reference, step):
    run = tmp_path / "r"
    code, out, err = run_faulty(tmp_path, {"signal_at": step, "signal": "SIGINT",
                                           "no_plots": True},
                                "train", write_config(CONFIG), "--quiet", "--run-dir", run)
    assert code == 130, err
    no_traceback(out, err)
    assert_interrupted(run, err, step, reference)
    resume(invoke, run, reference)


def test_sigterm_stops_like_one_sigint(tmp_path, write_config, invoke, reference):
    """A real SIGTERM from outside, while the run is paused after step 15 (mid-epoch 3)."""
    run = tmp_path / "r"
    faulty = Faulty(tmp_path, {"pause_at": 15, "no_plots": True},
                    "train", write_config(CONFIG), "--quiet", "--run-dir", run)
    faulty.wait_for("out", "PAUSED 15")
    faulty.send(signal.SIGTERM)
    faulty.wait_for("err", "stopping after this step")
    faulty.go_on()
    code, out, err = faulty.finish()
    assert code == 130, err
    no_traceback(out, err)
    assert_interrupted(run, err, 15, reference)
    resume(invoke, run, reference)


@pytest.mark.parametrize("step", [3, 9])
def test_two_sigints_stop_at_once_keeping_what_was_saved(tmp_path, write_config, invoke,
                                                         reference, step):
    """The second Ctrl-C stops without saving. After step 9 the checkpoint of epoch 1 is kept
    and the resumed run re-does steps 7-9 exactly; after step 3 nothing was saved yet, and
    resuming is refused with the reason."""
    run = tmp_path / "r"
    faulty = Faulty(tmp_path, {"pause_at": step, "no_plots": True},
                    "train", write_config(CONFIG), "--quiet", "--run-dir", run)
    faulty.wait_for("out", f"PAUSED {step}")
    before = snapshot(run / "checkpoints") if (run / "checkpoints").exists() else {}
    faulty.send(signal.SIGINT)
    faulty.wait_for("err", "stopping after this step")  # the first one was handled
    faulty.send(signal.SIGINT)
    code, out, err = faulty.finish()
    assert code == 130, err
    no_traceback(out, err)
    summary = summary_of(run)
    resume_lines = ([f"resume with: trainctl train --resume {run}"] if step >= STEPS_PER_EPOCH
                    else [])
    assert [line for line in err.splitlines() if line] == [
        "stopping after this step and saving a checkpoint (press Ctrl-C again to stop at once)",
        summary["error"], *resume_lines, "interrupted"]
    assert summary["status"] == run_status(run) == "interrupted"
    assert summary["error"].startswith("stopped at once by a second interrupt; ")
    saved = snapshot(run / "checkpoints") if (run / "checkpoints").exists() else {}
    assert saved == before  # nothing written after the first interrupt, nothing lost
    if step < STEPS_PER_EPOCH:
        assert saved == {} and summary["newest_checkpoint"] is None
        assert summary["error"].endswith("no checkpoint was written by this run")
        code, _, err = invoke("train", "--resume", run, "--quiet")
        assert code == 2
        assert err == (f"error: {run}: no checkpoints/last.safetensors or "
                       "checkpoints/interrupted.safetensors to resume from\n")
        assert not (run / ".lock").exists()
        return
    newest = summary["newest_checkpoint"]  # best: it is written after last at an epoch end
    assert newest == str(run / "checkpoints" / "best.safetensors")
    assert summary["error"].endswith(f"the newest good checkpoint is {newest} "
                                     f"(step {STEPS_PER_EPOCH})")
    assert checkpoint(run)["trainer"]["global_step"] == STEPS_PER_EPOCH
    assert checkpoint(run, "best")["trainer"]["global_step"] == STEPS_PER_EPOCH
    # The steps logged after the checkpoint are on disk too; the resume drops and re-does them.
    assert metric_rows(run) == rows_up_to(metric_rows(reference), step)
    resume(invoke, run, reference)


# ---------------------------------------------------------------------------- kill -9

@pytest.mark.parametrize("name", ["last", "best"])
def test_kill_9_during_a_checkpoint_write(tmp_path, write_config, invoke, reference, name):
    """kill -9 while epoch 2's checkpoint is written (its bytes in the temp file, not yet
    renamed): the older checkpoint is whole, the run reads as failed, and the resume takes over
    the dead run's lock, removes its temp file and ends bit-identical."""
    run = tmp_path / "r"
    faulty = Faulty(tmp_path, {"fsync_fault": {"name": f"{name}.safetensors", "nth": 2,
                                               "fault": "kill"}, "no_plots": True},
                    "train", write_config(CONFIG), "--quiet", "--run-dir", run)
    code, out, err = faulty.finish()
    assert code == -signal.SIGKILL, err
    assert err == ""
    epoch_lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert epoch_lines[-1].startswith("epoch 1/4 ")  # epoch 2's comes after saving
    tmp = run / "checkpoints" / f".{name}.safetensors.tmp-{faulty.pid}"
    assert temp_files(run) == [tmp] and tmp.stat().st_size > 0
    assert (run / ".lock").read_text() == str(faulty.pid)
    summary = summary_of(run)
    assert summary["status"] == "running" and summary["pid"] == faulty.pid
    assert run_status(run) == "failed"  # its process is gone
    # The checkpoint being written is still the previous one; the other is as it was.
    assert checkpoint(run, name)["trainer"]["global_step"] == STEPS_PER_EPOCH
    other = "best" if name == "last" else "last"
    assert checkpoint(run, other)["trainer"]["global_step"] == (
        STEPS_PER_EPOCH if name == "last" else 2 * STEPS_PER_EPOCH)
    resume(invoke, run, reference)


# ---------------------------------------------------------------------------- full disk, limits

def test_full_disk_during_a_checkpoint_write(tmp_path, write_config, invoke, reference):
    """ENOSPC from the fsync of epoch 2's last.safetensors: one line naming the checkpoint,
    exit 2, summary.json 'failed', epoch 1's checkpoint whole, no temp file left."""
    run = tmp_path / "r"
    last = run / "checkpoints" / "last.safetensors"
    code, out, err = run_faulty(tmp_path, {"fsync_fault": {"name": "last.safetensors", "nth": 2,
                                                           "fault": "ENOSPC"},
                                           "no_plots": True},
                                "train", write_config(CONFIG), "--quiet", "--run-dir", run)
    assert code == 2
    assert err == f"error: {last}: No space left on device\n"
    no_traceback(out)
    summary = summary_of(run)
    assert summary["status"] == run_status(run) == "failed"
    assert "No space left on device" in summary["error"] and str(last) in summary["error"]
    assert checkpoint(run)["trainer"]["global_step"] == STEPS_PER_EPOCH
    assert temp_files(run) == [] and not (run / ".lock").exists()
    resume(invoke, run, reference)


def test_file_size_limit_during_a_checkpoint_write(tmp_path, write_config, invoke, reference):
    """A real RLIMIT_FSIZE that the small files fit under but a checkpoint does not: the
    resumed run fails at its first checkpoint with EFBIG, in one line, keeping the checkpoints
    of the first two epochs byte for byte; without the limit the run then ends bit-identical."""
    small = max((reference / name).stat().st_size
                for name in ("config.yaml", "summary.json", "metrics.jsonl", "metrics.csv"))
    big = (reference / "checkpoints" / "last.safetensors").stat().st_size
    limit = (small + big) // 2
    assert small + 512 < limit < big

    run = tmp_path / "r"
    code, _, err = run_faulty(tmp_path, {"signal_at": 2 * STEPS_PER_EPOCH, "signal": "SIGINT",
                                         "no_plots": True},
                              "train", write_config(CONFIG), "--quiet", "--run-dir", run)
    assert code == 130, err
    saved = snapshot(run / "checkpoints")
    assert set(saved) == {"last.safetensors", "best.safetensors"}

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    last = run / "checkpoints" / "last.safetensors"
    code, out, err = run_faulty(tmp_path, {}, "train", "--resume", run, "--quiet",
                                preexec_fn=limit_file_size)  # the plots are drawn, and fail too
    assert code == 2
    # The last line, exactly; anything before it could only be matplotlib warning that its font
    # cache is not writable (it is not, above the limit, if it was not built yet).
    assert err.endswith(f"error: {last}: File too large\n") and err.count("error") == 1
    no_traceback(out, err)
    summary = summary_of(run)
    assert summary["status"] == run_status(run) == "failed"
    assert "File too large" in summary["error"]
    assert snapshot(run / "checkpoints") == saved
    assert temp_files(run) == [] and not (run / ".lock").exists()
    resume(invoke, run, reference)


# ---------------------------------------------------------------------------- read-only roots

@pytest.mark.parametrize("code_name", ["EROFS", "EACCES"])
def test_a_read_only_runs_root_is_refused_and_nothing_is_created(tmp_path, write_config,
                                                                  code_name):
    root = tmp_path / "ro"
    root.mkdir()
    code, out, err = run_faulty(
        tmp_path, {"read_only": {"prefix": str(root), "errno": code_name}},
        "train", write_config(CONFIG), "--quiet", "--runs-root", root)
    assert code == 2
    reason = os.strerror(getattr(errno, code_name))
    assert err == f"error: {root / 'tiny_spirals'}: {reason}\n"
    assert out == ""
    assert list(root.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg.yaml", "ro"]


def test_a_read_only_run_dir_refuses_resume_and_is_left_as_it_was(tmp_path, write_config,
                                                                  invoke, reference):
    run = tmp_path / "r"
    code, _, err = run_faulty(tmp_path, {"signal_at": 8, "signal": "SIGINT", "no_plots": True},
                              "train", write_config(CONFIG), "--quiet", "--run-dir", run)
    assert code == 130, err
    before = snapshot(run)
    code, out, err = run_faulty(tmp_path, {"read_only": {"prefix": str(run), "errno": "EROFS"}},
                                "train", "--resume", run, "--quiet")
    assert code == 2
    assert err == f"error: {run / '.lock'}: Read-only file system\n"
    assert snapshot(run) == before
    resume(invoke, run, reference)  # once the disk is writable again


def test_a_runs_root_or_run_dir_below_a_file_is_refused(tmp_path, write_config, invoke):
    """Real, not simulated (as root, permissions do not stop writes, but a file does)."""
    cfg = write_config(CONFIG)
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    for option, value, refused in (("--runs-root", afile / "runs", afile / "runs/tiny_spirals"),
                                   ("--run-dir", afile / "r", afile / "r")):
        code, out, err = invoke("train", cfg, "--quiet", option, value)
        assert code == 2
        assert err == f"error: {refused}: Not a directory\n"
    code, out, err = invoke("train", cfg, "--quiet", "--runs-root", afile)
    assert code == 2
    assert f"'{afile}' is a file" in err and "Traceback" not in err
    with pytest.raises(NotADirectoryError):
        train(cfg, runs_root=afile, quiet=True)
    assert afile.read_text() == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "cfg.yaml"]


# ---------------------------------------------------------------------------- a second run

def test_a_second_run_into_a_busy_run_dir_is_refused(tmp_path, write_config, invoke,
                                                     reference):
    """While a run is alive (paused after step 8, holding the lock), a resume of it and a new
    run into its directory are refused, naming the pid; the first run then ends as if alone."""
    run = tmp_path / "r"
    cfg = write_config(CONFIG)
    first = Faulty(tmp_path, {"pause_at": 8, "no_plots": True},
                   "train", cfg, "--quiet", "--run-dir", run)
    try:
        first.wait_for("out", "PAUSED 8")
        before = snapshot(run)
        assert (run / ".lock").read_text() == str(first.pid)
        code, out, err = invoke("train", "--resume", run, "--quiet")
        assert code == 2
        assert err == (f"error: {run}: another training (pid {first.pid}) is writing into this "
                       "run directory; wait for it or choose another --run-dir\n")
        code, _, err = invoke("train", cfg, "--quiet", "--run-dir", run)
        assert code == 2 and "not empty" in err and "Traceback" not in err
        assert snapshot(run) == before
        assert run_status(run) == "running"
    finally:
        first.go_on()
    code, out, err = first.finish()
    assert code == 0, err
    assert_ends_like(run, reference)
