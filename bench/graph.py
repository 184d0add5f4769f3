"""Graph mode (issue 17) beyond step time: trace time, memory over many replays, traces per epoch.

- Trace time: the first call of ``tc.compile(step)`` (an eager step that also records it)
  against a plain eager step, for the linreg module step, the MLP and LeNet-5 at batch 64.
- Replay memory: resident memory before and after ``--replays`` replays of a small MLP step
  with dropout and batch norm (10,000 by default); it must not grow.
- Traces in an epoch: ``Trainer(graph=True)`` over 1,000 MNIST-shaped samples at batch 64 (15
  full batches and a short one of 40) with validation: how often each step traced and replayed.

Part of ``make bench`` (``bench/run.py``); alone: ``python bench/graph.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import linreg  # noqa: E402
import models  # noqa: E402


def resident_kib() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return None


def _timed(fn, args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def trace_times(tc) -> list[str]:
    """One line per step: eager step, first (tracing) call and replay, medians of a few."""
    lines = []
    rng = np.random.default_rng(0)
    cases = [("linreg module step", lambda: (linreg.module_step(tc), ()))]
    for key in ("mlp", "lenet"):
        name, spec, _, shape = models.MODELS[key]
        x = tc.tensor(rng.standard_normal((64,) + shape).astype(np.float32))
        y = tc.tensor(rng.integers(0, 10, 64))
        params = models.state_arrays(spec(tc.nn))
        cases.append((f"{name}, batch 64",
                      lambda spec=spec, params=params, x=x, y=y:
                      (models.trainctl_step(tc, spec, params)[1], (x, y))))
    for name, make in cases:
        step, args = make()
        step(*args)  # warm
        eager = statistics.median(_timed(step, args) for _ in range(5))
        traced, replay = [], []
        for _ in range(3):  # a fresh compile each time: each first call traces
            compiled = tc.compile(make()[0], fullgraph=True)
            traced.append(_timed(compiled, args))
            replay += [_timed(compiled, args) for _ in range(3)]
        lines.append(f"| {name} | {eager * 1e3:.2f} ms | {statistics.median(traced) * 1e3:.2f} ms"
                     f" | {statistics.median(replay) * 1e3:.2f} ms |")
    return lines


def replay_memory(tc, replays: int) -> tuple[int | None, int | None]:
    tc.manual_seed(0)
    model = tc.nn.Sequential(tc.nn.Linear(8, 64), tc.nn.BatchNorm1d(64), tc.nn.ReLU(),
                             tc.nn.Dropout(0.2), tc.nn.Linear(64, 3))
    opt = tc.optim.Adam(model.parameters(), lr=1e-3)
    x, y = tc.randn(32, 8), tc.randint(0, 3, (32,))

    @tc.compile(fullgraph=True)
    def step(x, y):
        loss = tc.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    for _ in range(1000):
        step(x, y)
    before = resident_kib()
    for _ in range(replays):
        step(x, y)
    after = resident_kib()
    return before, after


def epoch_traces(tc) -> dict:
    from trainctl.training import Trainer
    from trainctl.utils.data import DataLoader, TensorDataset

    rng = np.random.default_rng(0)
    x = tc.tensor(rng.standard_normal((1000, 1, 28, 28)).astype(np.float32))
    y = tc.tensor(rng.integers(0, 10, 1000))
    data = TensorDataset(x, y)
    model = models.lenet_spec(tc.nn)
    trainer = Trainer(model, tc.nn.CrossEntropyLoss(), tc.optim.SGD(model.parameters(), lr=0.01),
                      DataLoader(data, batch_size=64, shuffle=True),
                      val_loader=DataLoader(data, batch_size=300), epochs=2, graph=True)
    trainer.fit()
    return {"train": (trainer._train_step.traces, trainer._train_step.replays),
            "eval": (trainer._eval_step.traces, trainer._eval_step.replays)}


def run(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replays", type=int, default=10_000)
    args = parser.parse_args(argv)
    import trainctl as tc

    table = ["| step | eager step | first call (traces) | replay |", "|---|---:|---:|---:|"]
    table += trace_times(tc)
    before, after = replay_memory(tc, args.replays)
    counts = epoch_traces(tc)
    grew = None if before is None else after - before
    notes = [
        f"graph: resident memory over {args.replays:,} replays of an MLP step (batch norm, "
        f"dropout, Adam): {before} KiB -> {after} KiB"
        + ("" if grew is None else f" ({grew:+d} KiB)") + ".",
        f"graph: 2 epochs of LeNet-5 on 1,000 samples (batch 64: 15 full batches and one of 40; "
        f"validation in batches of 300 and one of 100) with Trainer(graph=True): train step "
        f"traced {counts['train'][0]}x, replayed {counts['train'][1]}x; eval step traced "
        f"{counts['eval'][0]}x, replayed {counts['eval'][1]}x.",
    ]
    targets = [{"target": f"no memory growth over {args.replays:,} replays (< 1 MiB)",
                "value": "not measured" if grew is None else f"{grew:+d} KiB",
                "met": None if grew is None else grew < 1024}]
    details = "\n".join(["## Graph mode: trace time (medians of 3-9 single calls)", "",
                         *table])
    return {"rows": [], "targets": targets, "notes": notes, "details": details}


def main(argv=None) -> None:
    result = run(argv)
    print(result["details"])
    for note in result["notes"]:
        print(note)


if __name__ == "__main__":
    main()
