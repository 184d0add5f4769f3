"""``make bench``: every benchmark, each in a process of its own, into ``bench/results.md``.

Cases (one module each, all with a ``run(argv) -> dict``):

- ``models``: MLP 784-512-512-10 step at batch 64 and 256, LeNet-5 step at batch 64;
- ``linreg``: the seed's linear-regression step (pure framework overhead);
- ``data_loader``: DataLoader batches/s over 60,000 x 784 uint8;
- ``end_to_end``: an epoch through the real ``trainctl train`` (quiet and with the live display)
  against the bare step, peak RSS, memory over 10 epochs;
- ``startup``: ``trainctl --help``, ``import trainctl``;
- ``ops``: per-op overhead on small tensors (details only);
- ``graph``: graph mode's trace time, memory over 10,000 replays, traces in an epoch;
- ``sequence``: LSTM and TransformerEncoderLayer training steps (issue 19);
- ``distributed``: allreduce time against bucket size next to MPI's point-to-point figure,
  MLP samples/s at 1 and 2 ranks, DDP's overlap (issue 18; runs ``mpiexec -n 2`` itself).

trainctl, the hand-written NumPy floor and PyTorch (when ``import torch`` works: ``pip install
torch==2.13.0`` for a CPU build, or ``PYTHONPATH=. /path/to/torch-env/bin/python bench/run.py``)
run interleaved inside each case's process with the same thread count (2). The runner re-starts
itself with that environment (``common.bench_env``: thread counts set, ``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` removed), prints the tables and writes them, with the machine's
description, to ``bench/results.md``. Usage: ``python bench/run.py [CASE ...] [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import ROOT, UNSET, bench_env, fmt_ratio, fmt_time, machine_description  # noqa: E402

CASES = ("models", "linreg", "data_loader", "end_to_end", "startup", "ops", "graph",
         "sequence", "distributed")
QUICK = {  # smoke-test sizes: numbers too noisy to read, but every path runs
    "models": ["--steps", "50"], "linreg": ["--steps", "600"], "data_loader": ["--epochs", "2"],
    "end_to_end": ["--rounds", "1", "--memory-epochs", "3"], "startup": ["--repeats", "3"],
    "ops": [], "graph": ["--replays", "500"],
    "sequence": ["--steps", "10", "--block", "5"],
    "distributed": ["--quick"],
}
NEEDS_CLI = ("end_to_end", "startup")
CLI_DEPS = "click, yaml, rich, matplotlib"
_CHILD = "TRAINCTL_BENCH_ENV"  # set once the runner runs in the benchmark environment


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _can_import(python: str, modules: str) -> bool:
    return subprocess.run([python, "-c", f"import {modules}"], capture_output=True).returncode == 0


def python_for(name: str) -> str:
    """The interpreter of a case: this one, except that the cases that run trainctl's command
    line need its dependencies (click, yaml, rich, matplotlib); a torch-only environment lacks
    them, and then the project's ``.venv`` runs those cases (they have no PyTorch column)."""
    if name not in NEEDS_CLI or _can_import(sys.executable, CLI_DEPS):
        return sys.executable
    venv = ROOT / ".venv" / "bin" / "python"
    if venv.exists() and _can_import(str(venv), CLI_DEPS):
        return str(venv)
    return sys.executable  # fails with the missing module's name in the report


def run_case(name: str, argv: list[str]) -> dict:
    """Run one case in a fresh process; its result dict (or the error it died with)."""
    python = python_for(name)
    with tempfile.TemporaryDirectory(prefix="trainctl-bench-") as tmp:
        out = pathlib.Path(tmp) / "result.json"
        cmd = [python, str(HERE / "run.py"), "--case", name, "--json", str(out), "--"]
        start = time.perf_counter()
        proc = subprocess.run(cmd + argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
        took = time.perf_counter() - start
        if proc.returncode != 0 or not out.exists():
            return {"error": proc.stdout[-3000:], "seconds": took}
        result = json.loads(out.read_text())
    result["seconds"] = took
    if python != sys.executable:
        result.setdefault("notes", []).append(f"{name} ran with {python} ({CLI_DEPS} are not "
                                              f"importable in {sys.executable}).")
    return result


def _cell(r: dict, key: str) -> str:
    value = r.get(key)
    if value is None:
        return "-"
    return fmt_time(value) if r["kind"] == "time" else f"{value:,.0f} {r['unit']}"


def _time_ratio(r: dict, other: str) -> str:
    """trainctl/other in time per step or per item (> 1: trainctl slower)."""
    a, b = r.get("trainctl"), r.get(other)
    if r["kind"] == "rate":
        a, b = b, a  # time per item is 1 / rate
    return fmt_ratio(a, b)


def render(results: dict, torch_version, removed: dict) -> str:
    lines = ["# trainctl benchmarks", "", machine_description(torch_version, removed), "",
             "## Results (medians; ratios are time per step or per item, > 1: trainctl slower)",
             "", "| case | trainctl | NumPy | PyTorch | trainctl/NumPy | trainctl/PyTorch |",
             "|---|---:|---:|---:|---:|---:|"]
    graph_rows = []
    for res in results.values():
        for r in res.get("rows", []):
            lines.append(f"| {r['case']} | {_cell(r, 'trainctl')} | {_cell(r, 'numpy')} | "
                         f"{_cell(r, 'pytorch')} | {_time_ratio(r, 'numpy')} | "
                         f"{_time_ratio(r, 'pytorch')} |")
            if r.get("graph") is not None:
                graph_rows.append(r)
    if graph_rows:
        lines += ["", "## Graph mode (issue 17: the same step traced once, replayed)", "",
                  "| case | eager | graph | NumPy | PyTorch | torch.compile | graph/NumPy | "
                  "graph/PyTorch | eager/graph |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in graph_rows:
            lines.append(f"| {r['case']} | {_cell(r, 'trainctl')} | {_cell(r, 'graph')} | "
                         f"{_cell(r, 'numpy')} | {_cell(r, 'pytorch')} | "
                         f"{_cell(r, 'torch.compile')} | {fmt_ratio(r['graph'], r['numpy'])} | "
                         f"{fmt_ratio(r['graph'], r.get('pytorch'))} | "
                         f"{fmt_ratio(r['trainctl'], r['graph'])} |")
    lines += ["", "## Targets (issues 8 and 17)", "", "| target | measured | met |",
              "|---|---|:-:|"]
    for res in results.values():
        for t in res.get("targets", []):
            met = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
            lines.append(f"| {t['target']} | {t['value']} | {met} |")
    lines += ["", "## Notes", ""]
    for name, res in results.items():
        for note in res.get("notes", []):
            lines.append(f"- {note}")
        if "error" in res:
            lines.append(f"- {name}: FAILED\n\n```\n{res['error'].strip()}\n```")
        else:
            lines.append(f"- {name}: ran in {res['seconds']:.0f} s.")
    for res in results.values():
        if res.get("details"):
            lines += ["", res["details"]]
    return "\n".join(lines) + "\n"


def _reexec_in_bench_env() -> None:
    """Start over with the benchmark environment, remembering what it removed."""
    removed = {n: os.environ[n] for n in UNSET if n in os.environ}
    env = bench_env()
    env[_CHILD] = json.dumps(removed)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", metavar="CASE",
                        help=f"cases to run (default: all of {', '.join(CASES)})")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "results.md")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case here
    parser.add_argument("--json", type=pathlib.Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:  # a child: run the case in this process, hand the result back as JSON
        result = _load(args.case).run(extra)
        args.json.write_text(json.dumps(result))
        return
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    if _CHILD not in os.environ:
        _reexec_in_bench_env()
    removed = json.loads(os.environ[_CHILD])
    torch_version = None
    if importlib.util.find_spec("torch") is not None:
        torch_version = subprocess.run(
            [sys.executable, "-c", "import torch; print(torch.__version__)"],
            capture_output=True, text=True, env=bench_env()).stdout.strip() or None
    results = {}
    for name in args.cases or CASES:
        print(f"running {name} ...", flush=True)
        results[name] = res = run_case(name, QUICK[name] if args.quick else [])
        if "error" in res:
            print(f"{name} FAILED:\n{res['error']}", flush=True)
    report = render(results, torch_version, removed)
    print("\n" + report)
    args.out.write_text(report)
    print(f"wrote {args.out}")
    if any("error" in r for r in results.values()):
        raise SystemExit(f"failed: {', '.join(n for n, r in results.items() if 'error' in r)}")


if __name__ == "__main__":
    main()
