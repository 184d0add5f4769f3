"""Data-parallel training over MPI (issue 18): allreduce cost, samples/s at 1 and 2 ranks, overlap.

Two parts, each run by this file as a worker under ``mpiexec -n 2``, started from :func:`run`
as a subprocess:

- ``comm``: the gradients of the MLP 784-512-512-10 (669,706 float32, 2.68 MB) reduced the way
  ``DistributedDataParallel`` reduces them, one non-blocking ``Iallreduce`` per bucket, all
  started then all waited, for a sweep of ``bucket_cap_mb`` (DDP's own buckets of the MLP, and
  the same bytes cut into equal buckets of the cap); then single messages of the bucket sizes:
  ``Allreduce`` against MPI's own point-to-point figure, a ``Send``/``Recv`` ping-pong (one-way
  time = round trip / 2), both through mpi4py's buffer interface. Then all of it again over TCP
  on loopback (``MPIR_CVAR_NOLOCAL=1`` sends through MPICH's network module, ``UCX_TLS=tcp,self``
  keeps UCX off its shared-memory transports), the path bytes take between machines;
  ``--no-tcp`` skips it.
- ``train`` (1 BLAS thread per rank): the training step of the MLP of
  ``configs/fashion_mnist_mlp.yaml`` (batch 64 per rank, SGD lr 0.001, cross-entropy; synthetic
  data of the FashionMNIST shape, so no download and no loader in the timing), every mode in
  rotating blocks of one job: one process (rank 0 alone, rank 1 asleep) with 1 thread and with
  2 threads (batch 64, and 128: the global batch of 2 ranks x 64); 2 ranks with DDP launching
  buckets during backward (overlap), DDP with one bucket (launched when backward ends), a plain
  model whose buckets are reduced after backward with the same calls, a barrier each step and
  no data, and no communication at all (each rank's compute alone).

Every block is timed between two barriers, so a 2-rank step time is the slower rank's. The
load average is read before and after each part: this machine has 2 cores and is shared, so
other processes take CPU time from the ranks (see the notes of the result). Part of
``make bench`` (``bench/run.py``); alone: ``python bench/distributed.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import ROOT, bench_env, fmt_time  # noqa: E402

SIZES = (784, 512, 512, 10)  # configs/fashion_mnist_mlp.yaml
BATCH, LR = 64, 0.001
CAPS = (0.01, 0.05, 0.25, 1.0, 2.0, 25.0)  # bucket_cap_mb sweep (25: PyTorch's default)
OVERLAP_CAP = 1.0  # the overlap comparison's cap: the MLP in 4 buckets (W1 alone)
MESSAGE_SIZES = (4, 4096, 65536, 262144)  # bytes, besides the sweep's bucket sizes
TCP = {"MPIR_CVAR_NOLOCAL": "1", "UCX_TLS": "tcp,self"}  # MPICH's netmod, UCX over TCP only


def _mb(nbytes: float) -> str:
    return f"{nbytes / 1e6:.2f} MB" if nbytes >= 1e5 else f"{nbytes / 1e3:.1f} kB" \
        if nbytes >= 1000 else f"{nbytes:.0f} B"


def _gbps(nbytes: float, seconds: float) -> str:
    return f"{nbytes / seconds / 1e9:.2f} GB/s"


def _signed(seconds: float) -> str:
    return ("-" if seconds < 0 else "+") + fmt_time(abs(seconds))


def _loadavg() -> str:
    try:
        return " ".join(pathlib.Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


# ------------------------------------------------------------------------------ workers


def _mlp(tc):
    tc.manual_seed(0)
    layers = []
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        layers += [tc.nn.Linear(a, b), tc.nn.ReLU()]
    return tc.nn.Sequential(tc.nn.Flatten(), *layers[:-1])


def _batches(tc, batch: int, count: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [(tc.tensor(rng.random((batch, 1, 28, 28), dtype=np.float32)),
             tc.tensor(rng.integers(0, 10, batch))) for _ in range(count)]


def _timed_rounds(comm, fns: dict, rounds: int) -> dict:
    """Median seconds per call of each ``(fn, reps)`` in ``fns``: ``rounds`` rounds, each
    timing ``reps`` calls of every function in turn, each call started after a barrier and
    counted as the slowest rank's time. Rotating rounds spread the load of the machine, which
    changes by the second here, over every function alike."""
    from mpi4py import MPI

    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, (fn, reps) in fns.items():
            fn()  # untimed
            for _ in range(reps):
                comm.Barrier()
                start = time.perf_counter()
                fn()
                took = np.array([time.perf_counter() - start])
                comm.Allreduce(MPI.IN_PLACE, took, op=MPI.MAX)
                times[name].append(float(took[0]))
    return {name: statistics.median(v) for name, v in times.items()}


def _reps_for(nbytes: int, quick: bool) -> int:
    """Calls per round: about 25 ms of transfer at 3 GB/s, between 4 and 60."""
    return 2 if quick else int(min(60, max(4, 75e6 / max(nbytes, 1) / 1000)))


def worker_comm(quick: bool) -> dict:
    from mpi4py import MPI

    import trainctl as tc
    import trainctl.distributed as dist
    from trainctl.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    comm, rank = MPI.COMM_WORLD, dist.get_rank()
    rounds = 1 if quick else 6
    model = _mlp(tc)
    total = sum(p.numel() for p in model.parameters())
    whole = np.ones(total, np.float32)

    def reduce_all(flats):
        def step():
            works = [dist.all_reduce(f, async_op=True) for f in flats]
            for w in works:
                w.wait()
        return step

    fns, layouts, bucket_bytes = {}, {}, set()
    for cap in CAPS:
        # DDP's own buckets of this MLP (each holds its gradients and a flag per parameter)
        ddp = [tc.from_numpy(b.flat) for b in DDP(model, bucket_cap_mb=cap)._buckets]
        # the same gradients cut into equal buckets of `cap` MB
        chunk = max(1, int(cap * 1024 * 1024) // 4)
        equal = [tc.from_numpy(whole[i:i + chunk]) for i in range(0, total, chunk)]
        for kind, flats in (("ddp", ddp), ("equal", equal)):
            sizes = [f.numel() * 4 for f in flats]
            layouts[(kind, cap)] = sizes
            fns[f"{kind} {cap}"] = (reduce_all(flats), _reps_for(sum(sizes), quick))
        bucket_bytes.update(layouts[("ddp", cap)])
    swept = _timed_rounds(comm, fns, rounds)
    sweep = [{"cap": cap, "ddp": layouts[("ddp", cap)], "equal": layouts[("equal", cap)],
              "ddp_seconds": swept[f"ddp {cap}"], "equal_seconds": swept[f"equal {cap}"]}
             for cap in CAPS]

    fns, sizes = {}, sorted(set(MESSAGE_SIZES) | bucket_bytes)
    for nbytes in sizes:
        buf = np.ones(max(1, nbytes // 4), np.float32)

        def allreduce(buf=buf):
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)

        def pingpong(buf=buf):
            if rank == 0:
                comm.Send(buf, dest=1, tag=7)
                comm.Recv(buf, source=1, tag=7)
            elif rank == 1:
                comm.Recv(buf, source=0, tag=7)
                comm.Send(buf, dest=0, tag=7)

        reps = _reps_for(nbytes, quick)
        fns[f"allreduce {nbytes}"] = (allreduce, reps)
        fns[f"pingpong {nbytes}"] = (pingpong, reps)
    timed = _timed_rounds(comm, fns, rounds)
    messages = [{"bytes": max(1, n // 4) * 4, "allreduce": timed[f"allreduce {n}"],
                 "pingpong": timed[f"pingpong {n}"] / 2} for n in sizes]
    dist.destroy_process_group()
    return {"params": total, "sweep": sweep, "messages": messages, "rank": rank,
            "world": comm.Get_size(), "mpi": MPI.Get_library_version().splitlines()[0]}


def _plain_step(tc, model, opt, x, y):
    opt.zero_grad()
    tc.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()


def worker_train(quick: bool, steps: int, block: int) -> dict:
    """Every mode in rotating blocks in one 2-rank job, so all see the same machine. The
    one-process modes run on rank 0 while rank 1 sleeps (polling a non-blocking barrier every
    0.5 ms, so it leaves its core free)."""
    from mpi4py import MPI

    import trainctl as tc
    import trainctl.distributed as dist
    from trainctl.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    dist.set_threads_per_rank(1)
    comm, rank, world = MPI.COMM_WORLD, dist.get_rank(), dist.get_world_size()
    data = {64: _batches(tc, 64, seed=rank + 1), 128: _batches(tc, 128, seed=rank + 1)}

    def plain(barrier: bool = False):
        model = _mlp(tc)
        opt = tc.optim.SGD(model.parameters(), lr=LR)

        def step(x, y):
            _plain_step(tc, model, opt, x, y)
            if barrier:
                comm.Barrier()

        return step

    def ddp_step(cap):
        model = DDP(_mlp(tc), bucket_cap_mb=cap)
        opt = tc.optim.SGD(model.parameters(), lr=LR)
        return lambda x, y: _plain_step(tc, model, opt, x, y)

    def after_step(cap):
        """A plain model; after backward, DDP's bucket layout reduced with the same calls."""
        model = _mlp(tc)
        groups = [b.params for b in DDP(model, bucket_cap_mb=cap)._buckets]  # layout only
        flats = [np.zeros(sum(p.numel() for p in g), np.float32) for g in groups]
        opt = tc.optim.SGD(model.parameters(), lr=LR)

        def step(x, y):
            opt.zero_grad()
            tc.nn.functional.cross_entropy(model(x), y).backward()
            works = []
            for g, flat in zip(groups, flats):
                np.concatenate([p.grad.array.reshape(-1) for p in g], out=flat)
                works.append(dist.all_reduce(tc.from_numpy(flat), async_op=True))
            for g, flat, w in zip(groups, flats, works):
                w.wait()
                flat /= world
                offset = 0
                for p in g:
                    n = p.numel()
                    p.grad.array[...] = flat[offset:offset + n].reshape(p.grad.shape)
                    offset += n
            opt.step()

        return step

    # name: (step, ranks that compute, BLAS threads of rank 0, batch per computing rank)
    modes = {
        "1 process, 1 thread, batch 64": (plain(), 1, 1, 64),
        "1 process, 2 threads, batch 64": (plain(), 1, 2, 64),
        "1 process, 2 threads, batch 128": (plain(), 1, 2, 128),
        "ddp_overlap": (ddp_step(OVERLAP_CAP), 2, 1, 64),
        "ddp_one_bucket": (ddp_step(25.0), 2, 1, 64),
        "after_backward": (after_step(OVERLAP_CAP), 2, 1, 64),
        "barrier_each_step": (plain(barrier=True), 2, 1, 64),
        "compute_only": (plain(), 2, 1, 64),
    }
    times = {name: [] for name in modes}
    k = 0
    while min(len(v) for v in times.values()) < steps:
        for name, (fn, ranks, threads, batch) in modes.items():
            active = rank < ranks
            if active:
                dist.set_threads_per_rank(threads)
            comm.Barrier()
            start = time.perf_counter()
            if active:
                for i in range(3 + block):  # 3 untimed: the last mode's threads settle
                    if i == 3:
                        start = time.perf_counter()
                    fn(*data[batch][k % 8])
                    k += 1
            request = comm.Ibarrier()
            while not request.Test():
                if not active:
                    time.sleep(0.0005)
            times[name].append((time.perf_counter() - start) / block)
            dist.set_threads_per_rank(1)
    dist.destroy_process_group()
    return {"world": world, "rank": rank,
            "modes": {n: {"seconds": statistics.median(times[n]), "ranks": r, "threads": t,
                          "batch": b} for n, (_, r, t, b) in modes.items()}}


# ------------------------------------------------------------------------------ the case


def _python() -> str:
    """An interpreter with mpi4py and an ``mpiexec`` beside it (this one, else ``.venv``'s)."""
    for python in (sys.executable, str(ROOT / ".venv" / "bin" / "python")):
        ok = subprocess.run([python, "-c", "import mpi4py, trainctl"], capture_output=True,
                            env=bench_env()).returncode == 0
        if ok and (pathlib.Path(python).parent / "mpiexec").exists():
            return python
    raise RuntimeError("distributed: needs mpi4py and mpiexec (pip install -e '.[mpi]')")


def _launch(python: str, part: str, args: list, env_extra=None,
            timeout: float = 900) -> tuple[dict, str, str]:
    """Run one worker part under ``mpiexec -n 2``; its result, and the load average before and
    after."""
    env = bench_env(threads=1)
    env.update(env_extra or {})
    with tempfile.TemporaryDirectory(prefix="trainctl-bench-dist-") as tmp:
        out = pathlib.Path(tmp) / "out.json"
        cmd = [str(pathlib.Path(python).parent / "mpiexec"), "-n", "2", python,
               str(HERE / "distributed.py"), "--worker", part, "--out", str(out), *args]
        before = _loadavg()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
        after = _loadavg()
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                               f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        return json.loads(out.read_text()), before, after


def _layout(sizes: list) -> str:
    if len(sizes) > 4:
        return f"{len(sizes)} of {_mb(max(sizes))} or less"
    return f"{len(sizes)}: " + ", ".join(_mb(b) for b in sizes)


def _comm_tables(res: dict, label: str) -> list:
    total = res["params"] * 4
    lines = [f"### Allreduce of the MLP's gradients per step, by bucket size ({label})", "",
             f"{res['params']:,} float32 = {_mb(total)}, 2 ranks; one `Iallreduce` per bucket, "
             "all started, then all waited: what `DistributedDataParallel` sends per step, "
             "without the backward around it. DDP's buckets follow the layers (each holds whole "
             "parameters, plus one flag per parameter), so on this 3-layer MLP the caps give "
             "only 1, 2, 4 or 6 buckets; the equal buckets cut the same bytes at exactly the cap.",
             "", "| bucket_cap_mb | DDP buckets | per step | bytes / time | equal buckets | "
             "per step | bytes / time |", "|---:|---|---:|---:|---|---:|---:|"]
    for s in res["sweep"]:
        lines.append(f"| {s['cap']:g} | {_layout(s['ddp'])} | {fmt_time(s['ddp_seconds'])} | "
                     f"{_gbps(sum(s['ddp']), s['ddp_seconds'])} | {_layout(s['equal'])} | "
                     f"{fmt_time(s['equal_seconds'])} | "
                     f"{_gbps(sum(s['equal']), s['equal_seconds'])} |")
    lines += ["", f"### One message: Allreduce against MPI point-to-point ({label})", "",
              "The same bytes, blocking calls through mpi4py's buffer interface. Ping-pong: "
              "`Send`/`Recv` there and back, one-way time = round trip / 2; bandwidth = bytes / "
              "one-way time. On 2 ranks a ring allreduce sends half the bytes each way in the "
              "reduce-scatter and half in the all-gather (2(N-1)/N = 1 times the bytes in all), "
              "so its floor is about one one-way transfer of the bytes plus the sum.", "",
              "| bytes | Allreduce | Allreduce bandwidth | ping-pong one way | point-to-point "
              "bandwidth | Allreduce / one way |", "|---:|---:|---:|---:|---:|---:|"]
    for m in res["messages"]:
        lines.append(f"| {_mb(m['bytes'])} | {fmt_time(m['allreduce'])} | "
                     f"{_gbps(m['bytes'], m['allreduce'])} | {fmt_time(m['pingpong'])} | "
                     f"{_gbps(m['bytes'], m['pingpong'])} | "
                     f"{m['allreduce'] / m['pingpong']:.2f} |")
    return lines


LABELS = {"ddp_overlap": f"DDP, buckets launched during backward (cap {OVERLAP_CAP:g} MB)",
          "ddp_one_bucket": "DDP, default cap 25 MB (one bucket: launched when backward ends)",
          "after_backward": f"plain model, the same buckets reduced after backward "
                            f"(cap {OVERLAP_CAP:g} MB)",
          "barrier_each_step": "no data sent, a barrier each step",
          "compute_only": "no communication (compute alone)"}


def run(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions: a smoke test")
    parser.add_argument("--steps", type=int, default=None, help="timed blocks per mode")
    parser.add_argument("--block", type=int, default=None, help="steps per block")
    parser.add_argument("--no-tcp", action="store_true",
                        help="skip the run over TCP on loopback")
    args = parser.parse_args(argv)
    steps = args.steps or (2 if args.quick else 20)
    block = args.block or (5 if args.quick else 20)
    quick = ["--quick"] if args.quick else []
    python = _python()
    loads = {}
    comm, *loads["communication"] = _launch(python, "comm", quick)
    nolocal = None
    if not args.no_tcp:
        try:
            nolocal, *loads["communication over TCP"] = _launch(python, "comm", quick, TCP)
        except (RuntimeError, subprocess.TimeoutExpired) as e:  # a transport missing here
            nolocal = str(e).splitlines()[0]
    timing = ["--steps", str(steps), "--block", str(block), *quick]
    train, *loads["training steps"] = _launch(python, "train", timing)

    modes = train["modes"]
    t = {name: m["seconds"] for name, m in modes.items()}
    rate = {name: m["ranks"] * m["batch"] / m["seconds"] for name, m in modes.items()}
    compute, overlap, after = t["compute_only"], t["ddp_overlap"], t["after_backward"]
    synced, one_bucket = t["barrier_each_step"], t["ddp_one_bucket"]
    comm_alone = next(s["ddp_seconds"] for s in comm["sweep"] if s["cap"] == OVERLAP_CAP)
    rows = []
    for name, m in modes.items():
        label = (f"MLP 784-512-512-10 step, {name}" if m["ranks"] == 1 else
                 f"MLP step, 2 ranks x 1 thread x batch 64, {LABELS[name]}")
        rows.append({"case": label, "kind": "rate", "unit": "samples/s", "trainctl": rate[name],
                     "numpy": None, "pytorch": None})
    one = rate["1 process, 1 thread, batch 64"]
    two_threads = rate["1 process, 2 threads, batch 128"]
    notes = [
        f"distributed: {comm['mpi'].strip()}; 2 ranks on one machine, so MPI moves the bytes "
        "through shared memory; the tables 'TCP on loopback' send them through its network "
        "module over TCP instead (" + " ".join(f"{k}={v}" for k, v in TCP.items()) + ").",
        "distributed: load average (1, 5, 15 min) before -> after each part: "
        + "; ".join(f"{k}: {a} -> {b}" for k, (a, b) in loads.items())
        + f", on {os.cpu_count()} cores shared with other processes. The training modes run "
        "interleaved in one job (rotating blocks of "
        f"{block} steps, {steps} per mode; the 1-process modes on rank 0 while rank 1 sleeps), "
        "so they saw the same machine; the load still scatters single blocks widely.",
        f"distributed: 2 ranks x 1 thread with DDP reach {rate['ddp_overlap'] / one:.2f}x the "
        f"samples/s of 1 process x 1 thread (ideal 2x; without any communication "
        f"{rate['compute_only'] / one:.2f}x) and {rate['ddp_overlap'] / two_threads:.2f}x "
        "those of 1 process x 2 threads at the same global batch 128.",
        f"distributed: per step, compute alone {fmt_time(compute)}; a barrier each step (no "
        f"data) {fmt_time(synced)} ({_signed(synced - compute)}: waiting for the slower rank); "
        f"the buckets reduced after backward {fmt_time(after)} ({_signed(after - synced)} "
        f"over the barrier; the same buckets alone take {fmt_time(comm_alone)}); DDP with one "
        f"bucket {fmt_time(one_bucket)}, DDP launching {OVERLAP_CAP:g} MB buckets during "
        f"backward {fmt_time(overlap)}: overlap gains {_signed(one_bucket - overlap)} against "
        f"DDP's own one-bucket step, {_signed(after - overlap)} against the plain reduce "
        "after backward (DDP also copies each gradient into its bucket and back).",
        "distributed: what 2 cores cannot show: overlap needs something to move the bytes "
        "while backward computes; here both cores run the ranks' compute, shared-memory MPI "
        "copies with the CPU, and a non-blocking collective advances only when a rank calls "
        "into MPI (DDP polls at each hook), so there is nothing to hide the transfer behind. "
        "And the last bucket (the first layer's 1.6 MB weight, the last gradient backward "
        "produces) can never overlap. Neither can 2 ranks on one machine show network "
        "bandwidth or scaling past 2: docs/distributed.md gives the model for N machines.",
    ]
    details = ["## Distributed (issue 18; bench/distributed.py)", ""]
    details += _comm_tables(comm, "shared memory")
    if isinstance(nolocal, dict):
        details += [""] + _comm_tables(nolocal, "TCP on loopback")
    elif nolocal:
        notes.append(f"distributed: the run over TCP on loopback failed: {nolocal}")
    details += ["", "### Training step of the MLP (configs/fashion_mnist_mlp.yaml, synthetic "
                    "data), medians of blocks", "",
                "| run | ranks x threads | global batch | step | samples/s |",
                "|---|---:|---:|---:|---:|"]
    for name, m in modes.items():
        label = name if m["ranks"] == 1 else f"2 ranks: {LABELS[name]}"
        details.append(f"| {label} | {m['ranks']} x {m['threads']} | {m['ranks'] * m['batch']} "
                       f"| {fmt_time(m['seconds'])} | {rate[name]:,.0f} |")
    return {"rows": rows, "targets": [], "notes": notes, "details": "\n".join(details)}


def _worker_main(argv) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", required=True, choices=("comm", "train"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--block", type=int, default=20)
    args = parser.parse_args(argv)
    if args.worker == "comm":
        result = worker_comm(args.quick)
    else:
        result = worker_train(args.quick, args.steps, args.block)
    if result["rank"] == 0:
        pathlib.Path(args.out).write_text(json.dumps(result))


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--worker" in argv:
        _worker_main(argv)
        return
    result = run(argv)
    print(result["details"])
    for note in result["notes"]:
        print("-", note)


if __name__ == "__main__":
    main()
