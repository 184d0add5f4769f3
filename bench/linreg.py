"""The seed's linear-regression step: pure framework overhead (4x2 data, one weight vector).

``x = [[1,2],[2,3],[4,6],[3,1]]``, ``y = [[8],[13],[26],[9]]``, ``w = [[2],[1]]``; one step is
the loop body of ``examples/linreg.py``: ``loss = ((x @ w - y) ** 2).sum()``, ``w.grad = None``,
``loss.backward()``, ``w -= 0.01 * w.grad`` under ``no_grad``. The same code runs on trainctl and
on PyTorch; the NumPy floor writes the gradient out (``2 x^T (x w - y)``), checked once against
trainctl's. A second row does the step as ``configs/linreg.yaml`` builds it: ``nn.Linear(2, 1,
bias=False)``, ``MSELoss(reduction="sum")``, ``SGD(lr=0.01)`` with ``zero_grad``/``step``.
The module row also runs as a graph (``tc.compile`` of the step, issue 17) and, where it works,
``torch.compile``. Implementations are interleaved in blocks (``common.interleave``); medians
are reported.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import THREADS, fmt_time, interleave, load_torch, median, torch_compiled  # noqa: E402

X = [[1, 2], [2, 3], [4, 6], [3, 1]]
Y = [[8], [13], [26], [9]]
W0 = [[2.0], [1.0]]
LR = 0.01
MAX_US = 60  # issue 8: at most 60 µs per step
MIN_SPEEDUP = 5  # and at least 5x faster than PyTorch
GRAPH_MAX_NUMPY = 2  # issue 17: the module step as a graph, at most 2x the NumPy step


def seed_step(m):
    """The loop body of examples/linreg.py on library ``m`` (trainctl or torch)."""
    x = m.tensor(X, dtype=m.float32)
    y = m.tensor(Y, dtype=m.float32)
    w = m.tensor(W0, requires_grad=True)

    def step():
        nonlocal w
        loss = ((x @ w - y) ** 2).sum()
        w.grad = None
        loss.backward()
        with m.no_grad():
            w -= LR * w.grad
        return loss

    return step, lambda: w


def module_step(m):
    """The same regression as configs/linreg.yaml builds it: Linear, MSELoss(sum), SGD."""
    x = m.tensor(X, dtype=m.float32)
    y = m.tensor(Y, dtype=m.float32)
    model = m.nn.Linear(2, 1, bias=False)
    with m.no_grad():
        model.weight.copy_(m.tensor(W0).reshape(1, 2))
    loss_fn = m.nn.MSELoss(reduction="sum")
    opt = m.optim.SGD(model.parameters(), lr=LR)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def numpy_step():
    x = np.array(X, np.float32)
    y = np.array(Y, np.float32)
    w = np.array(W0, np.float32)

    def gradient():
        d = x @ w - y
        return (d * d).sum(), 2 * (x.T @ d)

    def step():
        nonlocal w
        loss, g = gradient()
        w -= LR * g
        return loss

    return step, gradient


def check_gradient(tc) -> float:
    """Max relative difference between trainctl's and NumPy's first gradient."""
    x, y = tc.tensor(X, dtype=tc.float32), tc.tensor(Y, dtype=tc.float32)
    w = tc.tensor(W0, requires_grad=True)
    ((x @ w - y) ** 2).sum().backward()
    _, gradient = numpy_step()
    ref = gradient()[1]
    return float(np.abs(w.grad.numpy() - ref).max() / np.abs(ref).max())


def run(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3000, help="timed steps per implementation")
    parser.add_argument("--block", type=int, default=300)
    parser.add_argument("--settle", type=float, default=0.05)
    args = parser.parse_args(argv)
    import trainctl as tc

    torch = load_torch(THREADS)
    err = check_gradient(tc)
    if err > 1e-6:
        raise AssertionError(f"linreg: trainctl and NumPy gradients differ (max rel {err:.2e})")
    rows = []
    for label, make in (("linreg step (seed: tensors + no_grad update)", seed_step),
                        ("linreg step (nn.Linear + MSELoss + SGD)", module_step)):
        np_step = numpy_step()[0]
        runs = {"trainctl": make(tc)[0] if make is seed_step else make(tc), "numpy": np_step}
        if make is module_step:  # the seed's own loop updates w in place: no graph for it
            runs["graph"] = tc.compile(make(tc), fullgraph=True)
        if torch is not None:
            runs["pytorch"] = make(torch)[0] if make is seed_step else make(torch)
            if make is module_step:
                compiled = torch_compiled(torch, make(torch))
                if compiled is not None:
                    runs["torch.compile"] = compiled
        t = {k: median(v) for k, v in interleave(runs, args.steps, args.block,
                                                  args.settle).items()}
        rows.append({"case": label, "kind": "time", "trainctl": t["trainctl"],
                     "numpy": t["numpy"], "pytorch": t.get("pytorch"), "graph": t.get("graph"),
                     "torch.compile": t.get("torch.compile")})
    seed, module = rows
    graph_np = module["graph"] / module["numpy"]
    targets_17 = [{"target": f"linreg module step as a graph ≤ {GRAPH_MAX_NUMPY}x NumPy (issue 17)",
                   "value": f"{graph_np:.2f}x", "met": graph_np <= GRAPH_MAX_NUMPY}]
    if module["pytorch"] is not None:
        speedup = module["pytorch"] / module["graph"]
        targets_17.append({"target": f"linreg module step as a graph ≥ {MIN_SPEEDUP}x faster "
                           "than PyTorch (issue 17)", "value": f"{speedup:.1f}x",
                           "met": speedup >= MIN_SPEEDUP})
    else:
        targets_17.append({"target": f"linreg module step as a graph ≥ {MIN_SPEEDUP}x faster "
                           "than PyTorch (issue 17)", "value": "torch not installed",
                           "met": None})
    us = seed["trainctl"] * 1e6
    targets = [{"target": f"linreg step ≤ {MAX_US} µs", "value": f"{us:.1f} µs",
                "met": us <= MAX_US}]
    if seed["pytorch"] is not None:
        speedup = seed["pytorch"] / seed["trainctl"]
        targets.append({"target": f"linreg step ≥ {MIN_SPEEDUP}x faster than PyTorch",
                        "value": f"{speedup:.1f}x", "met": speedup >= MIN_SPEEDUP})
    else:
        targets.append({"target": f"linreg step ≥ {MIN_SPEEDUP}x faster than PyTorch",
                        "value": "torch not installed", "met": None})
    notes = [f"linreg: medians of {args.steps} steps per implementation, interleaved in blocks of "
             f"{args.block}; first gradient equals NumPy's to {err:.1e} (relative)."]
    return {"rows": rows, "targets": targets + targets_17, "notes": notes}


def main(argv=None) -> None:
    result = run(argv)
    for r in result["rows"]:
        print(f"{r['case']:48s} trainctl {fmt_time(r['trainctl']):>10s}  "
              f"graph {fmt_time(r['graph']):>10s}  "
              f"NumPy {fmt_time(r['numpy']):>10s}  PyTorch {fmt_time(r['pytorch']):>10s}")
    for t in result["targets"]:
        print(f"  {t['target']}: {t['value']}")


if __name__ == "__main__":
    main()
