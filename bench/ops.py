"""Per-op overhead of the autograd engine on small tensors.

Each op runs ``N`` times on (8, 8) float32 tensors (fan-out from the same inputs), so the numbers
are dominated by the Python work around the array maths: wrapping, graph recording, the backward
walk. Columns, in µs of CPU time per op (best of several runs):

- ``numpy``: the bare NumPy expression (the floor);
- ``fwd``: the op under ``no_grad`` (no graph);
- ``fwd+graph``: the op on inputs that require grad (the graph is recorded);
- ``fwd+bwd``: recorded forward plus its share of one ``autograd.grad`` call over all ``N``
  outputs (so gradient accumulation into the shared inputs is included).

Where ``torch`` is importable the same code runs on it for comparison (with the benchmarks'
thread count, though these tensors are too small to use threads):
``PYTHONPATH=. /path/to/torch-python bench/ops.py``. The seed's linear regression step is timed
in ``linreg.py``.
"""

from __future__ import annotations

import os
import sys
import time

import numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import THREADS, load_torch  # noqa: E402

N = 100  # ops per timed call
SHAPE = (8, 8)


def best_time(fn, min_seconds: float = 0.1, repeats: int = 7) -> float:
    """CPU seconds per call of ``fn``: the best of ``repeats`` runs of enough calls to last a
    while. Process time, not wall time, so other programs on a busy machine disturb it less."""
    clock = time.process_time
    number = 1
    while True:
        start = clock()
        for _ in range(number):
            fn()
        elapsed = clock() - start
        if elapsed >= min_seconds / 10 or number >= 1 << 20:
            break
        number *= 4
    number = max(1, int(number * (min_seconds / 10) / max(elapsed, 1e-9)))
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        for _ in range(number):
            fn()
        best = min(best, (clock() - start) / number)
    return best


# name -> (expression on module objects, expression on numpy arrays)
OPS = {
    "add": (lambda m, x, w: x + w, lambda x, w: x + w),
    "mul": (lambda m, x, w: x * w, lambda x, w: x * w),
    "exp": (lambda m, x, w: x.exp(), lambda x, w: numpy.exp(x)),
    "tanh": (lambda m, x, w: x.tanh(), lambda x, w: numpy.tanh(x)),
    "relu": (lambda m, x, w: x.relu(), lambda x, w: numpy.maximum(x, 0)),
    "sum": (lambda m, x, w: x.sum(), lambda x, w: x.sum()),
    "matmul": (lambda m, x, w: x @ w, lambda x, w: x @ w),
    "getitem": (lambda m, x, w: x[1:5], lambda x, w: x[1:5]),
}


def time_op(m, expr):
    """(fwd, fwd+graph, fwd+bwd) in seconds per op for library module ``m`` (trainctl or torch)."""
    rng = numpy.random.default_rng(0)
    x0 = rng.standard_normal(SHAPE).astype(numpy.float32)
    w0 = rng.standard_normal(SHAPE).astype(numpy.float32)
    x, w = m.tensor(x0), m.tensor(w0)
    xg, wg = m.tensor(x0, requires_grad=True), m.tensor(w0, requires_grad=True)

    def forward_plain():
        with m.no_grad():
            for _ in range(N):
                expr(m, x, w)

    def forward_graph():
        for _ in range(N):
            expr(m, xg, wg)

    seed = m.ones_like(expr(m, xg, wg))

    def forward_backward():
        outs = [expr(m, xg, wg) for _ in range(N)]
        m.autograd.grad(outs, [xg, wg], grad_outputs=[seed] * N, allow_unused=True)

    return (best_time(forward_plain) / N, best_time(forward_graph) / N,
            best_time(forward_backward) / N)


def time_numpy(expr) -> float:
    rng = numpy.random.default_rng(0)
    x = rng.standard_normal(SHAPE).astype(numpy.float32)
    w = rng.standard_normal(SHAPE).astype(numpy.float32)

    def run():
        for _ in range(N):
            expr(x, w)

    return best_time(run) / N


def run(argv=None) -> dict:
    """The per-op table as details for the runner (no summary rows or targets)."""
    return {"rows": [], "targets": [], "notes": [], "details": table()}


def main() -> None:
    print(table())


def table() -> str:
    """Run the benchmark and return its markdown table."""
    import trainctl as tc

    torch = load_torch(THREADS)
    header = "| op (8x8 float32) | numpy | fwd | fwd+graph | fwd+bwd |"
    rule = "|---|---:|---:|---:|---:|"
    if torch is not None:
        header += " torch fwd | torch fwd+bwd |"
        rule += "---:|---:|"
    lines = [
        "## Per-op overhead (µs per op; bench/ops.py)",
        "",
        header,
        rule,
    ]
    for name, (expr, np_expr) in OPS.items():
        fwd, graph, both = time_op(tc, expr)
        row = (f"| {name} | {time_numpy(np_expr) * 1e6:.2f} | {fwd * 1e6:.2f} | "
               f"{graph * 1e6:.2f} | {both * 1e6:.2f} |")
        if torch is not None:
            t_fwd, _, t_both = time_op(torch, expr)
            row += f" {t_fwd * 1e6:.2f} | {t_both * 1e6:.2f} |"
        lines.append(row)
    lines.append("")
    lines.append(
        f"fwd+bwd: forward recorded plus a share of one autograd.grad over {N} outputs (best "
        "of 7 runs, CPU time)."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
