"""Training-step time of two small models: trainctl vs hand-written NumPy (the floor) vs PyTorch.

Models (float32, cross-entropy loss, plain SGD ``lr=0.01``):

- MLP 784-512-512-10 with ReLU, at batch 64 and 256;
- LeNet-5 on 1x28x28 inputs: conv5(6, pad 2)-ReLU-maxpool2, conv5(16)-ReLU-maxpool2,
  400-120-84-10 with ReLU, at batch 64.

One step is: forward, loss, backward, SGD update. The NumPy version does the same maths with
no framework: explicit forward and backward on arrays, convolution by the same "wide row"
im2col + one matrix product as trainctl (so the ratio trainctl/NumPy is the framework's
overhead), max pooling by the same separable passes. Before timing, one step from identical
weights checks that trainctl and NumPy produce the same gradients.

The implementations run interleaved in one process, in blocks: each block first runs
untimed steps for ``--settle`` seconds, then times ``--block`` steps; blocks rotate over the
implementations until each has ``--steps`` timed steps, and the table reports medians (``--stat
min`` for best times, steadier on a busy machine). Blocks rather than single steps because idle
BLAS/OpenMP worker threads keep spinning for a while after their last product (OpenBLAS ~0.1 s,
PyTorch's OpenMP briefly too): alternating single steps lets each runtime's spinning threads
steal the cores from the next one, which on 2 cores doubled some timings. PyTorch runs when
importable, with as many threads as NumPy's BLAS uses. Run ``python bench/models.py``; with
torch from another environment: ``PYTHONPATH=. /path/to/torch-env/bin/python bench/models.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

LR = 0.01


def mlp_spec(nn):
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def lenet_spec(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def blas_threads() -> int:
    """How many threads NumPy's BLAS uses (threadpoolctl when present, else env, else cores)."""
    try:
        from threadpoolctl import threadpool_info

        counts = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
        if counts:
            return counts[0]
    except ImportError:
        pass
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return os.cpu_count() or 1


def state_arrays(module) -> list:
    """Parameters in order as float32 NumPy arrays (trainctl or torch module)."""
    return [np.array(p.detach().numpy(), dtype=np.float32) for p in module.parameters()]


# ------------------------------------------------------------------------ NumPy floor


def _softmax_xent_grad(z, y):
    """Gradient of mean cross-entropy w.r.t. the logits ``z``."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    e[np.arange(len(y)), y] -= 1
    return e / len(y)


class _NumpyModel:
    def __init__(self, params):
        self.params = params

    def step(self, x, y):
        for p, g in zip(self.params, self.gradients(x, y)):
            p -= LR * g


class NumpyMLP(_NumpyModel):
    """784-512-512-10 MLP, weights ``(out, in)`` as torch."""

    def gradients(self, x, y):
        w1, b1, w2, b2, w3, b3 = self.params
        h1 = np.maximum(x @ w1.T + b1, 0)
        h2 = np.maximum(h1 @ w2.T + b2, 0)
        g3 = _softmax_xent_grad(h2 @ w3.T + b3, y)
        g2 = (g3 @ w3) * (h2 > 0)
        g1 = (g2 @ w2) * (h1 > 0)
        return [g1.T @ x, g1.sum(0), g2.T @ h1, g2.sum(0), g3.T @ h2, g3.sum(0)]


def _conv_forward(x, w, b, pad):
    """Stride-1 convolution by wide-row im2col (see trainctl/nn/functional/_im2col.py)."""
    n, c, h, wd = x.shape
    o, _, k, _ = w.shape
    hp, wp = h + 2 * pad, wd + 2 * pad
    ho, wo = hp - k + 1, wp - k + 1
    buf = np.zeros((n, c, hp + 1, wp), np.float32)
    buf[:, :, pad:pad + h, pad:pad + wd] = x
    s = buf.strides
    cols = np.lib.stride_tricks.as_strided(buf, (c, k, k, n, ho, wp),
                                           (s[1], s[2], s[3], s[0], s[2], s[3]))
    cols = np.ascontiguousarray(cols).reshape(c * k * k, -1)
    out = (w.reshape(o, -1) @ cols).reshape(o, n, ho, wp)[..., :wo].transpose(1, 0, 2, 3)
    return np.ascontiguousarray(out + b.reshape(-1, 1, 1)), cols


def _conv_backward(g, cols, w, x_shape, pad, need_dx):
    n, c, h, wd = x_shape
    o, _, k, _ = w.shape
    hp, wp = h + 2 * pad, wd + 2 * pad
    ho = g.shape[2]
    gg = np.zeros((o, n, ho, wp), np.float32)
    gg[..., :g.shape[3]] = g.transpose(1, 0, 2, 3)
    gg = gg.reshape(o, -1)
    dw = (cols @ gg.T).T.reshape(w.shape)
    db = g.sum(axis=(0, 2, 3))
    if not need_dx:
        return None, dw, db
    dcols = (w.reshape(o, -1).T @ gg).reshape(c, k, k, n, ho * wp)
    dbuf = np.zeros((n, c, (hp + 1) * wp), np.float32)
    for i in range(k):
        for j in range(k):
            off = i * wp + j
            dbuf[:, :, off:off + ho * wp] += dcols[:, i, j].transpose(1, 0, 2)
    dx = dbuf.reshape(n, c, hp + 1, wp)[:, :, pad:pad + h, pad:pad + wd]
    return np.ascontiguousarray(dx), dw, db


def _pool_forward(x):
    """2x2 max pooling: max over column pairs, then over row pairs (first max wins)."""
    a, b = x[..., 0::2], x[..., 1::2]
    right = b > a
    hm = np.maximum(a, b)
    top, bottom = hm[:, :, 0::2], hm[:, :, 1::2]
    down = bottom > top
    return np.maximum(top, bottom), (right, down)


def _pool_backward(g, masks, shape):
    right, down = masks
    dh = np.zeros(right.shape, np.float32)
    dh[:, :, 0::2] = g * ~down
    dh[:, :, 1::2] = g * down
    dx = np.empty(shape, np.float32)
    dx[..., 0::2] = dh * ~right
    dx[..., 1::2] = dh * right
    return dx


class NumpyLeNet(_NumpyModel):
    """LeNet-5 forward and backward written out on arrays."""

    def gradients(self, x, y):
        c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b, f3w, f3b = self.params
        z1, cols1 = _conv_forward(x, c1w, c1b, 2)
        a1 = np.maximum(z1, 0)
        p1, m1 = _pool_forward(a1)
        z2, cols2 = _conv_forward(p1, c2w, c2b, 0)
        a2 = np.maximum(z2, 0)
        p2, m2 = _pool_forward(a2)
        flat = p2.reshape(len(x), -1)
        h1 = np.maximum(flat @ f1w.T + f1b, 0)
        h2 = np.maximum(h1 @ f2w.T + f2b, 0)
        g5 = _softmax_xent_grad(h2 @ f3w.T + f3b, y)
        g4 = (g5 @ f3w) * (h2 > 0)
        g3 = (g4 @ f2w) * (h1 > 0)
        gflat = g3 @ f1w
        ga2 = _pool_backward(gflat.reshape(p2.shape), m2, a2.shape) * (z2 > 0)
        gp1, gc2w, gc2b = _conv_backward(ga2, cols2, c2w, p1.shape, 0, True)
        ga1 = _pool_backward(gp1, m1, a1.shape) * (z1 > 0)
        _, gc1w, gc1b = _conv_backward(ga1, cols1, c1w, x.shape, 2, False)
        return [gc1w, gc1b, gc2w, gc2b, g3.T @ flat, g3.sum(0), g4.T @ h1, g4.sum(0),
                g5.T @ h2, g5.sum(0)]


# ---------------------------------------------------------------------- framework steps


def trainctl_step(tc, spec, params):
    model = spec(tc.nn)
    with tc.no_grad():
        for p, a in zip(model.parameters(), params):
            p.copy_(tc.tensor(a))
    opt = tc.optim.SGD(model.parameters(), lr=LR)
    F = tc.nn.functional

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, step


def torch_step(torch, spec, params):
    model = spec(torch.nn)
    with torch.no_grad():
        for p, a in zip(model.parameters(), params):
            p.copy_(torch.from_numpy(a))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    F = torch.nn.functional

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def check_gradients(tc, spec, numpy_cls, x, y) -> float:
    """Max relative gradient difference between trainctl and NumPy after one step."""
    model = spec(tc.nn)
    params = state_arrays(model)
    ref = numpy_cls(params)
    ref_grads = ref.gradients(x, y)
    loss = tc.nn.functional.cross_entropy(model(tc.tensor(x)), tc.tensor(y))
    loss.backward()
    worst = 0.0
    for p, g in zip(model.parameters(), ref_grads):
        got = p.grad.numpy()
        worst = max(worst, float(np.abs(got - g).max() / (np.abs(g).max() + 1e-12)))
    return worst


def bench(name, spec, numpy_cls, shape, batch, steps, torch, stat="median", block=25,
          settle=0.2):
    import trainctl as tc

    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch,) + shape).astype(np.float32)
    y = rng.integers(0, 10, batch)
    err = check_gradients(tc, spec, numpy_cls, x, y)
    if err > 1e-3:
        raise AssertionError(f"{name}: trainctl and NumPy gradients differ (max rel {err:.2e})")
    tc.manual_seed(0)
    params = state_arrays(spec(tc.nn))
    _, tc_step = trainctl_step(tc, spec, params)
    runs = {"trainctl": (tc_step, (tc.tensor(x), tc.tensor(y)))}
    np_model = numpy_cls([p.copy() for p in params])
    runs["numpy"] = (np_model.step, (x, y))
    if torch is not None:
        runs["pytorch"] = (torch_step(torch, spec, params),
                           (torch.from_numpy(x), torch.from_numpy(y)))
    times = {k: [] for k in runs}
    while min(len(v) for v in times.values()) < steps:
        for key, (fn, args) in runs.items():
            end = time.perf_counter() + settle
            while time.perf_counter() < end:  # untimed: the last runtime's threads go idle
                fn(*args)
            for _ in range(block):
                start = time.perf_counter()
                fn(*args)
                times[key].append(time.perf_counter() - start)
    reduce = statistics.median if stat == "median" else min
    return {k: reduce(v) * 1e3 for k, v in times.items()}, err


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--block", type=int, default=25, help="timed steps per block")
    parser.add_argument("--settle", type=float, default=0.2,
                        help="seconds of untimed steps at the start of each block")
    parser.add_argument("--stat", choices=("median", "min"), default="median")
    args = parser.parse_args(argv)
    threads = blas_threads()
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        torch = None
    rows = [
        ("MLP 784-512-512-10", mlp_spec, NumpyMLP, (784,), 64),
        ("MLP 784-512-512-10", mlp_spec, NumpyMLP, (784,), 256),
        ("LeNet-5", lenet_spec, NumpyLeNet, (1, 28, 28), 64),
    ]
    print(f"BLAS threads: {threads}; torch: {torch.__version__ if torch else 'not installed'}; "
          f"{args.stat} of {args.steps} steps\n")
    print("| model | batch | trainctl ms | NumPy ms | PyTorch ms | trainctl/NumPy | "
          "trainctl/PyTorch | NumPy/PyTorch |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    checks = []
    for name, spec, numpy_cls, shape, batch in rows:
        t, err = bench(name, spec, numpy_cls, shape, batch, args.steps, torch, args.stat,
                       args.block, args.settle)
        checks.append(f"{name} @ {batch}: {err:.1e}")
        pt = t.get("pytorch")
        fmt = (lambda v: f"{v:.2f}") if pt else (lambda v: "-")
        print(f"| {name} | {batch} | {t['trainctl']:.2f} | {t['numpy']:.2f} | {fmt(pt)} | "
              f"{t['trainctl'] / t['numpy']:.2f} | {fmt(t['trainctl'] / (pt or 1))} | "
              f"{fmt(t['numpy'] / (pt or 1))} |")
    print("\ntrainctl vs NumPy gradients, max relative difference: " + "; ".join(checks))


if __name__ == "__main__":
    main()
