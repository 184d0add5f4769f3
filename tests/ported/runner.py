"""Run a PyTorch-style program under trainctl by rewriting its ``torch`` imports.

The rewrite is deliberately small and explicit, one import line at a time:

=================================  ===========================================
``import torch``                   ``import trainctl as torch``
``import torch as th``             ``import trainctl as th``
``import torch.nn.functional as F``  ``import trainctl.nn.functional as F``
``import torch.nn``                ``import trainctl.nn; import trainctl as torch``
``from torch import nn, optim``    ``from trainctl import nn, optim``
``from torch.utils.data import X``   ``from trainctl.utils.data import X``
=================================  ===========================================

Nothing else in the program changes. ``torchvision`` and other packages are left alone
(``\\btorch\\b`` does not match them). Usage: ``python -m tests.ported.runner PROGRAM.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).resolve().parent / "programs"

_IMPORT = re.compile(r"^(?P<indent>\s*)import\s+torch(?P<sub>(\.\w+)*)(\s+as\s+(?P<alias>\w+))?"
                     r"\s*(?P<comment>#.*)?$")
_FROM = re.compile(r"^(?P<indent>\s*)from\s+torch(?P<sub>(\.\w+)*)\s+import\s+(?P<names>.+)$")
_ANY = re.compile(r"^\s*(import|from)\s+.*\btorch\b")


def rewrite_imports(source: str) -> str:
    """``source`` with every ``torch`` import turned into the same ``trainctl`` import.

    Raises:
        ValueError: an import line names torch in a form this rewrite does not handle
            (e.g. ``import numpy, torch``), so a program never silently keeps a torch import.
    """
    out = []
    for number, line in enumerate(source.splitlines(), 1):
        m = _IMPORT.match(line)
        if m:
            indent, sub, alias = m["indent"], m["sub"], m["alias"]
            if alias:
                line = f"{indent}import trainctl{sub} as {alias}"
            elif sub:
                line = f"{indent}import trainctl{sub}; import trainctl as torch"
            else:
                line = f"{indent}import trainctl as torch"
            if m["comment"]:
                line += "  " + m["comment"]
        elif (m := _FROM.match(line)) is not None:
            line = f"{m['indent']}from trainctl{m['sub']} import {m['names']}"
        elif _ANY.match(line):
            raise ValueError(f"line {number}: cannot rewrite this torch import: {line.strip()!r}")
        out.append(line)
    return "\n".join(out) + "\n"


def run_program(path: Path, cwd: Path, framework: str = "trainctl",
                python: str | None = None, extra_path: list[str] = (),
                timeout: float = 300) -> str:
    """Run ``path`` in a fresh interpreter with ``cwd`` as working directory; return stdout.

    ``framework="trainctl"`` runs the rewritten source with ``python`` (default: this
    interpreter); ``"torch"`` runs the file unchanged with ``python`` (one that has torch).
    ``extra_path`` folders go at the END of ``sys.path`` (e.g. where matplotlib is installed,
    when the torch interpreter lacks it), so they never shadow the interpreter's own packages.

    Raises:
        AssertionError: the program exited non-zero (the message holds its stderr).
    """
    source = Path(path).read_text()
    if framework == "trainctl":
        source, python = rewrite_imports(source), python or sys.executable
    elif framework != "torch":
        raise ValueError(f"framework must be 'trainctl' or 'torch', got {framework!r}")
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    if framework == "trainctl":
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    script = Path(cwd) / Path(path).name
    script.write_text(source)
    boot = (f"import runpy, sys; sys.path.extend({list(map(str, extra_path))!r}); "
            f"sys.argv = [{script.name!r}]; runpy.run_path({script.name!r}, run_name='__main__')")
    proc = subprocess.run([python, "-c", boot], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"{Path(path).name} failed under {framework} "
                             f"(exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc.stdout


# ----------------------------------------------------------------------------- comparing outputs

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf")


_GRAD_FN = re.compile(r"<\w*Backward\w*(?: object at 0x[0-9a-fA-F]+)?>")
_ADDRESS = re.compile(r" object at 0x[0-9a-fA-F]+>")
_SUFFIX_LINE = re.compile(r",\n +((?:grad_fn|requires_grad|dtype|device|size)=)")


def normalise(text: str) -> str:
    """Remove what differs by design between the frameworks' printouts.

    ``trainctl.Size``/``trainctl.float64`` print as ``torch.``'s, and a ``grad_fn`` prints as
    ``<Backward>``: trainctl names its nodes after its own ops (``<GetItemBackward>`` where torch
    says ``<SliceBackward0 object at 0x...>``), so only the presence of a grad_fn is compared.
    Because those names differ in length, a tensor's suffixes (``grad_fn=``, ``dtype=``...) may
    break onto their own line in one framework and not the other: they are joined back. Other
    objects' addresses (``<AccumulateGrad object at 0x...>``, a custom Function's node) differ
    from run to run and print as ``0x0``, as in the golden files.
    """
    text = _GRAD_FN.sub("<Backward>", re.sub(r"\btrainctl\.", "torch.", text))
    text = _ADDRESS.sub(" object at 0x0>", text)
    return _SUFFIX_LINE.sub(r", \1", text)


def compare_outputs(got: str, want: str, rtol: float = 0.0, atol: float = 0.0) -> list[str]:
    """Line-by-line differences between two program outputs (empty when they agree).

    Text between numbers must be identical; numbers agree within ``atol + rtol * |want|``
    (with both tolerances 0 the outputs must be identical character for character).
    """
    got, want = normalise(got).splitlines(), normalise(want).splitlines()
    problems = []
    if len(got) != len(want):
        problems.append(f"{len(got)} lines printed, {len(want)} expected")
    for number, (g, w) in enumerate(zip(got, want), 1):
        if g == w:
            continue
        if rtol == 0 and atol == 0:
            problems.append(f"line {number}: got {g!r}, want {w!r}")
            continue
        g_text, w_text = _NUMBER.split(g), _NUMBER.split(w)
        g_nums, w_nums = _NUMBER.findall(g), _NUMBER.findall(w)
        ok = g_text == w_text and len(g_nums) == len(w_nums) and all(
            _close(a, b, rtol, atol) for a, b in zip(g_nums, w_nums)
        )
        if not ok:
            problems.append(f"line {number}: got {g!r}, want {w!r}")
    return problems


def _close(got: str, want: str, rtol: float, atol: float) -> bool:
    if got == want:
        return True
    a, b = float(got), float(want)
    return abs(a - b) <= atol + rtol * abs(b)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        sys.stdout.write(run_program(Path(sys.argv[1]).resolve(), Path(tmp)))
