"""The seed's linear regression trains to w ~ [2, 3] (what `make run` shows)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_linreg_example_learns_2_3():
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "linreg.py")],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "learned weights: [2.0, 3.0]" in out
