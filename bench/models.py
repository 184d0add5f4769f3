"""Training-step time of two small models: trainctl vs hand-written NumPy (the floor) vs PyTorch.

Models (float32, cross-entropy loss, plain SGD ``lr=0.01``):

- MLP 784-512-512-10 with ReLU, at batch 64 and 256;
- LeNet-5 on 1x28x28 inputs: conv5(6, pad 2)-ReLU-maxpool2, conv5(16)-ReLU-maxpool2,
  400-120-84-10 with ReLU, at batch 64.

One step is: forward, loss, backward, SGD update; the "graph" column runs the same step through
``tc.compile`` (graph mode, issue 17), and a "torch.compile" column appears where PyTorch's
compiler works on this machine. The NumPy version does the same maths with
no framework: explicit forward and backward on arrays, convolution by the same "wide row"
im2col + one matrix product as trainctl (so the ratio trainctl/NumPy is the framework's
overhead), max pooling by the same separable passes, and the update written the plain NumPy
way, ``p -= lr * g``. (trainctl's SGD updates big parameters with one fused BLAS ``axpy``
instead, see ``trainctl/optim/_blas.py``: that is why trainctl can come out below its "floor".)
Before timing, one step from identical weights checks that trainctl and NumPy produce the same
gradients.

The implementations run interleaved in one process, in blocks (``common.interleave``): each
block first runs untimed steps for ``--settle`` seconds, then times ``--block`` steps; blocks
rotate over the implementations until each has ``--steps`` timed steps; medians are reported.
PyTorch runs when importable, with as many threads as NumPy's BLAS. Part of ``make bench``
(``bench/run.py``); alone: ``python bench/models.py``.
"""


from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import THREADS, fmt_time, interleave, load_torch, median, torch_compiled  # noqa: E402

LR = 0.01


def mlp_spec(nn):
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def lenet_spec(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


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
    ref_grads = numpy_cls(params).gradients(x, y)
    loss = tc.nn.functional.cross_entropy(model(tc.tensor(x)), tc.tensor(y))
    loss.backward()
    worst = 0.0
    for p, g in zip(model.parameters(), ref_grads):
        got = p.grad.numpy()
        worst = max(worst, float(np.abs(got - g).max() / (np.abs(g).max() + 1e-12)))
    return worst


MODELS = {
    "mlp": ("MLP 784-512-512-10", mlp_spec, NumpyMLP, (784,)),
    "lenet": ("LeNet-5", lenet_spec, NumpyLeNet, (1, 28, 28)),
}


def bench(key, batch, steps, torch, block=25, settle=0.2):
    """Medians (seconds per step) of each implementation, and the gradient check's error."""
    import trainctl as tc

    name, spec, numpy_cls, shape = MODELS[key]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch,) + shape).astype(np.float32)
    y = rng.integers(0, 10, batch)
    err = check_gradients(tc, spec, numpy_cls, x, y)
    if err > 1e-3:
        raise AssertionError(f"{name}: trainctl and NumPy gradients differ (max rel {err:.2e})")
    tc.manual_seed(0)
    params = state_arrays(spec(tc.nn))
    _, tc_step = trainctl_step(tc, spec, params)
    xt, yt = tc.tensor(x), tc.tensor(y)
    np_model = numpy_cls([p.copy() for p in params])
    _, graph_step = trainctl_step(tc, spec, params)
    graph_step = tc.compile(graph_step, fullgraph=True)  # graph mode (issue 17)
    runs = {"trainctl": lambda: tc_step(xt, yt), "numpy": lambda: np_model.step(x, y),
            "graph": lambda: graph_step(xt, yt)}
    if torch is not None:
        pt_step = torch_step(torch, spec, params)
        xp_, yp_ = torch.from_numpy(x), torch.from_numpy(y)
        runs["pytorch"] = lambda: pt_step(xp_, yp_)
        ct_step = torch_step(torch, spec, params)
        compiled = torch_compiled(torch, lambda: ct_step(xp_, yp_))
        if compiled is not None:
            runs["torch.compile"] = compiled
    times = interleave(runs, steps, block, settle)
    return {k: median(v) for k, v in times.items()}, err


# (model, batch, ≤ trainctl/NumPy, ≤ trainctl/PyTorch): the targets of issue 8
ROWS = [("mlp", 64, 1.15, 0.9), ("mlp", 256, 1.15, 1.0), ("lenet", 64, 1.25, 1.5)]
# (model, batch) -> (≤ graph/NumPy, ≤ graph/PyTorch or None): the targets of issue 17
GRAPH_TARGETS = {("mlp", 64): (1.0, None), ("lenet", 64): (1.1, 1.3)}


def graph_targets(label, t, max_np, max_pt) -> list:
    """The rows of issue 17's targets for one model: graph mode against the floor (and
    PyTorch)."""
    r_np = t["graph"] / t["numpy"]
    out = [{"target": f"{label} as a graph: graph/NumPy ≤ {max_np} (issue 17)",
            "value": f"{r_np:.2f}", "met": r_np <= max_np}]
    if max_pt is not None:
        value, met = "torch not installed", None
        if "pytorch" in t:
            value, met = f"{t['graph'] / t['pytorch']:.2f}", t["graph"] / t["pytorch"] <= max_pt
        out.append({"target": f"{label} as a graph: graph/PyTorch ≤ {max_pt} (issue 17)",
                    "value": value, "met": met})
    return out


def run(argv=None) -> dict:
    """Time every row; the result the runner turns into tables (see run.py)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="timed steps per implementation")
    parser.add_argument("--block", type=int, default=25, help="timed steps per block")
    parser.add_argument("--settle", type=float, default=0.2,
                        help="seconds of untimed steps at the start of each block")
    args = parser.parse_args(argv)
    torch = load_torch(THREADS)
    rows, targets, checks = [], [], []
    for key, batch, max_np, max_pt in ROWS:
        name = MODELS[key][0]
        steps = args.steps if key == "mlp" else max(args.steps // 2, 25)
        t, err = bench(key, batch, steps, torch, args.block, args.settle)
        label = f"{name} step, batch {batch}"
        rows.append({"case": label, "kind": "time", "trainctl": t["trainctl"],
                     "numpy": t["numpy"], "pytorch": t.get("pytorch"), "graph": t["graph"],
                     "torch.compile": t.get("torch.compile")})
        if (key, batch) in GRAPH_TARGETS:
            targets += graph_targets(label, t, *GRAPH_TARGETS[key, batch])
        checks.append(f"{name} @ {batch}: {err:.1e}")
        r_np = t["trainctl"] / t["numpy"]
        targets.append({"target": f"{label}: trainctl/NumPy ≤ {max_np}",
                        "value": f"{r_np:.2f}", "met": r_np <= max_np})
        if "pytorch" in t:
            r_pt = t["trainctl"] / t["pytorch"]
            targets.append({"target": f"{label}: trainctl/PyTorch ≤ {max_pt}",
                            "value": f"{r_pt:.2f}", "met": r_pt <= max_pt})
        else:
            targets.append({"target": f"{label}: trainctl/PyTorch ≤ {max_pt}",
                            "value": "torch not installed", "met": None})
    notes = [f"Medians of {args.steps} timed steps per implementation (LeNet-5: half as many), "
             f"interleaved in blocks of {args.block} after {args.settle} s of untimed steps.",
             "trainctl vs NumPy gradients after one step, max relative difference: "
             + "; ".join(checks)]
    return {"rows": rows, "targets": targets, "notes": notes}


def main(argv=None) -> None:
    result = run(argv)
    for r in result["rows"]:
        print(f"{r['case']:40s} trainctl {fmt_time(r['trainctl']):>10s}  "
              f"graph {fmt_time(r['graph']):>10s}  NumPy {fmt_time(r['numpy']):>10s}  "
              f"PyTorch {fmt_time(r['pytorch']):>10s}")
    for t in result["targets"]:
        print(f"  {t['target']}: {t['value']} ({'met' if t['met'] else 'not met'})")


if __name__ == "__main__":
    main()
