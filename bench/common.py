"""Shared pieces of the benchmarks: the environment they run in, interleaved timing, tables.

Every case runs in a process of its own (see ``run.py``), started with :func:`bench_env`: the
same BLAS/OpenMP thread count for NumPy's OpenBLAS and PyTorch, and without
``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE``, which some machines here set and which make a
current NumPy pick a slower kernel. Tests and CI never change them; only these processes do.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import io
import os
import pathlib
import platform
import statistics
import sys
import time

THREADS = 2
UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
ROOT = pathlib.Path(__file__).resolve().parent.parent


def bench_env(threads: int = THREADS, base=None) -> dict:
    """The environment of a benchmark process: fixed thread counts, the BLAS overrides removed,
    and the repository importable (for a Python that has torch but not trainctl installed)."""
    env = dict(os.environ if base is None else base)
    for name in UNSET:
        env.pop(name, None)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    path = env.get("PYTHONPATH", "")
    if str(ROOT) not in path.split(os.pathsep):
        env["PYTHONPATH"] = str(ROOT) + (os.pathsep + path if path else "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


# ------------------------------------------------------------------------------ the machine


def cpu_model() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _openblas_library():
    """The OpenBLAS library NumPy loaded, opened with ctypes (None if not OpenBLAS)."""
    try:
        maps = pathlib.Path("/proc/self/maps").read_text()
    except OSError:
        return None, ""
    for line in maps.splitlines():
        path = line.split()[-1] if len(line.split()) >= 6 else ""
        if "openblas" in os.path.basename(path).lower():
            try:
                return ctypes.CDLL(path), path
            except OSError:
                return None, path
    return None, ""


def _openblas_call(lib, name: str, restype):
    for prefix, suffix in (("", ""), ("scipy_", "64_"), ("scipy_", ""), ("", "64_")):
        fn = getattr(lib, f"{prefix}openblas_{name}{suffix}", None)
        if fn is not None:
            fn.restype = restype
            return fn()
    return None


def blas_info() -> str:
    """NumPy's BLAS: library, version, the kernel (core type) it runs and its thread count."""
    import numpy

    numpy.ones((2, 2)) @ numpy.ones((2, 2))  # make sure the library is loaded
    lib, path = _openblas_library()
    if lib is not None:
        core = _openblas_call(lib, "get_corename", ctypes.c_char_p)
        config = _openblas_call(lib, "get_config", ctypes.c_char_p)
        threads = _openblas_call(lib, "get_num_threads", ctypes.c_int)
        return (f"OpenBLAS ({os.path.basename(path)}), kernel {(core or b'?').decode()}, "
                f"{threads} threads; config: {(config or b'?').decode().strip()}")
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            config = numpy.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:  # an unexpected NumPy layout is not worth failing the bench over
        return "unknown"


def load_average() -> str:
    try:
        return pathlib.Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


def machine_description(torch_version: str | None, removed: dict) -> str:
    """Markdown lines on the machine; ``removed``: the variables the runner unset."""
    import numpy

    unset = ", ".join(f"{n}={v!r}" for n, v in removed.items())
    lines = [
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores ({platform.machine()}), "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, NumPy {numpy.__version__}; "
        f"PyTorch {torch_version or 'not installed (pip install torch==2.13.0 for the column)'}",
        f"- NumPy BLAS: {blas_info()}",
        f"- Threads: {THREADS} for NumPy's OpenBLAS and for PyTorch (OPENBLAS_NUM_THREADS, "
        f"OMP_NUM_THREADS, torch.set_num_threads); "
        + (f"unset for the benchmark processes: {unset}" if unset else
           "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE not set"),
        f"- Run: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"load average {load_average()} at the start",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ PyTorch


def load_torch(threads: int = THREADS):
    """``torch`` with ``threads`` threads, or None when it is not importable."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def torch_compiled(torch, step):
    """``torch.compile(step)`` after one call that compiles it, or None where torch.compile
    does not work here (no C compiler, an unsupported Python...)."""
    try:
        compiled = torch.compile(step)
        compiled()
        return compiled
    except Exception:  # any failure means "no column", not a failed benchmark
        return None


# ------------------------------------------------------------------------------ timing


def interleave(runs: dict, steps: int, block: int = 25, settle: float = 0.2,
               alone: tuple = ("torch.compile",)) -> dict:
    """Seconds per call of each function in ``runs``, timed in rotating blocks.

    Each block first calls the function untimed for ``settle`` seconds, then times ``block``
    calls; blocks rotate over the functions until each has ``steps`` timings. Blocks, not single
    calls, because idle BLAS/OpenMP worker threads keep spinning for a while after their last
    product (OpenBLAS ~0.1 s, PyTorch's OpenMP briefly too): alternating single calls lets one
    runtime's spinning threads steal the cores from the next, which on 2 cores doubled some
    timings. Rotating blocks spreads slow drifts of the machine over every function alike.

    The functions named in ``alone`` are timed after the others, by themselves: the OpenMP
    threads of ``torch.compile``'s kernels kept spinning past any settle time and slowed every
    other function of the linreg bench by ~1.7x (its NumPy step: 6.3 -> 11 µs), which made the
    ratios against NumPy look better than they are.
    """
    later = {name: runs[name] for name in alone if name in runs}
    if later:
        times = interleave({k: v for k, v in runs.items() if k not in later}, steps, block,
                           settle, alone=())
        return {**times, **interleave(later, steps, block, settle, alone=())}
    times = {name: [] for name in runs}
    clock = time.perf_counter
    while min(len(v) for v in times.values()) < steps:
        for name, fn in runs.items():
            end = clock() + settle
            while clock() < end:
                fn()
            out = times[name]
            for _ in range(block):
                start = clock()
                fn()
                out.append(clock() - start)
    return times


def median(values) -> float:
    return statistics.median(values)


def fmt_time(seconds: float | None) -> str:
    """A duration in the unit that suits it (µs below 1 ms, else ms)."""
    if seconds is None:
        return "-"
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def fmt_ratio(a, b) -> str:
    return "-" if a is None or b is None or not b else f"{a / b:.2f}"


def row(impl_times: dict, label: str, unit: str = "time") -> dict:
    """A result row: medians per implementation (seconds, or a rate when ``unit`` is a rate)."""
    return {"case": label, "unit": unit, **{k: v for k, v in impl_times.items()}}


def env_summary() -> dict:
    """What a case process reports about itself (checked by the runner)."""
    import numpy

    return {"python": sys.executable, "numpy": numpy.__version__,
            "unset_ok": not any(n in os.environ for n in UNSET)}
