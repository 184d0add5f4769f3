"""``make bench``: run every benchmark and write their tables to ``bench/results.md``.

Runs ``bench/ops.py`` (per-op overhead), then ``bench/models.py`` and ``bench/data_loader.py``
when they exist, each through its ``main()``. Whatever they print is shown and also collected,
under a short description of the machine (CPU, cores, NumPy and its BLAS), into
``bench/results.md``. ``python bench/run.py ops`` runs only the named benchmarks.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import io
import os
import pathlib
import platform
import sys

HERE = pathlib.Path(__file__).parent
BENCHMARKS = ("ops", "models", "data_loader")


class _Tee(io.TextIOBase):
    """Writes to the terminal and keeps a copy."""

    def __init__(self, stream):
        self.stream, self.copy = stream, io.StringIO()

    def write(self, text):
        self.stream.write(text)
        self.copy.write(text)
        return len(text)

    def flush(self):
        self.stream.flush()


def cpu_model() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> str:
    """The BLAS NumPy uses, from threadpoolctl when installed, else NumPy's build config."""
    try:
        from threadpoolctl import threadpool_info

        libs = [f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
                for i in threadpool_info() if i.get("user_api") == "blas"]
        if libs:
            return ", ".join(libs)
    except ImportError:
        pass
    import numpy

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            config = numpy.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:  # older NumPy or an unexpected layout: not worth failing the bench over
        return "unknown"


def load_average() -> str:
    """The 1-minute load average: above the core count, the timings are noisy."""
    try:
        return pathlib.Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


def machine_description() -> str:
    import numpy

    return "\n".join([
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores ({platform.machine()})",
        f"- Python {platform.python_version()}, NumPy {numpy.__version__}, BLAS: {blas_info()}",
        f"- Run: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"load average {load_average()} at the start",
    ])


def load(name: str):
    path = HERE / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(names=None) -> None:
    names = list(names or BENCHMARKS)
    sections, failed = [], []
    argv = sys.argv
    for name in names:
        path = HERE / f"{name}.py"
        if not path.exists():
            continue
        tee = _Tee(sys.stdout)
        sys.argv = [str(path)]  # a benchmark that parses options sees none
        try:
            with contextlib.redirect_stdout(tee):
                load(name).main()
        except Exception as exc:  # keep the other benchmarks' results, report at the end
            failed.append(name)
            tee.copy.write(f"\n{name}: FAILED with {type(exc).__name__}: {exc}\n")
        finally:
            sys.argv = argv
        sections.append(tee.copy.getvalue().strip())
    report = ["# trainctl benchmarks", "", machine_description(), ""] + [
        s + "\n" for s in sections if s
    ]
    (HERE / "results.md").write_text("\n".join(report))
    print(f"\nwrote {HERE / 'results.md'}")
    if failed:
        raise SystemExit(f"benchmarks failed: {', '.join(failed)}")


if __name__ == "__main__":
    main(sys.argv[1:])
