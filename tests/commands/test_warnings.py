"""The command line shows Python warnings as one line each: ``warning: <message>``."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_graph_fallback_is_one_warning_line_without_library_source(tmp_path):
    # reviews_gru packs its sequences (lengths read into Python): graph mode runs it eagerly
    done = subprocess.run(
        [sys.executable, "-m", "trainctl.cli", "train", str(ROOT / "configs" / "reviews_gru.yaml"),
         "--graph", "--quiet", "--set", "train.epochs=1", "--run-dir", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert any(line.startswith("warning: graph mode: the training step runs eagerly")
               for line in lines), lines
    assert "UserWarning" not in done.stderr and "trainer.py" not in done.stderr
