"""Training-step time of sequence layers: trainctl vs PyTorch (and hand-written NumPy for the LSTM).

Cases (float32, plain SGD ``lr=0.01``, issue 19's settings):

- LSTM, 2 layers, input and hidden 200, sequence 35, batch 20 (the classic small PTB setting):
  the input is an already-embedded batch (35, 20, 200), the loss ``sum(output * w)`` with a
  fixed ``w``, so the step is the recurrence itself (forward, backward through time, update)
  rather than a 10,000-word softmax;
- ``TransformerEncoderLayer(d_model=128, nhead=4)`` with PyTorch's other defaults
  (``dim_feedforward=2048``, ``dropout=0.1``), ``batch_first``, sequence 64, batch 32, the same
  kind of loss, in training mode.

The NumPy LSTM is the textbook loop: per step, gates from one product with the hidden state,
sigmoids as ``1 / (1 + exp(-x))``; backward through time with the weight gradients summed per
step. Before timing, one step from identical weights checks that trainctl and NumPy (and
PyTorch) produce the same gradients. Implementations run interleaved in blocks
(``common.interleave``). Part of ``make bench`` (``bench/run.py``); alone:
``python bench/sequence.py``.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import THREADS, fmt_time, interleave, load_torch, median  # noqa: E402

LR = 0.01
SEQ, BATCH, HIDDEN, LAYERS = 35, 20, 200, 2
TARGET_LSTM, TARGET_TRANSFORMER = 1.5, 1.3


# ------------------------------------------------------------------------ NumPy LSTM floor


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_lstm_step(params: list, x, w_loss, lr: float = LR) -> list:
    """One SGD step of a stacked LSTM on ``x`` (T, B, F); ``params`` as PyTorch orders them
    (w_ih, w_hh, b_ih, b_hh per layer), updated in place. Returns the gradients."""
    steps, batch = x.shape[:2]
    caches, inp = [], x
    for layer in range(len(params) // 4):
        w_ih, w_hh, b_ih, b_hh = params[4 * layer:4 * layer + 4]
        hidden = w_hh.shape[1]
        xw = (inp.reshape(steps * batch, -1) @ w_ih.T + b_ih + b_hh).reshape(steps, batch, -1)
        h = np.zeros((batch, hidden), np.float32)
        c = np.zeros((batch, hidden), np.float32)
        hs, cs, gates = [h], [c], []
        for t in range(steps):
            g = xw[t] + h @ w_hh.T
            i, f = _sigmoid(g[:, :hidden]), _sigmoid(g[:, hidden:2 * hidden])
            gg, o = np.tanh(g[:, 2 * hidden:3 * hidden]), _sigmoid(g[:, 3 * hidden:])
            c = f * c + i * gg
            h = o * np.tanh(c)
            hs.append(h)
            cs.append(c)
            gates.append((i, f, gg, o))
        caches.append((inp, hs, cs, gates))
        inp = np.stack(hs[1:])
    grads = [None] * len(params)
    dout = np.broadcast_to(w_loss, inp.shape)
    for layer in reversed(range(len(caches))):
        w_ih, w_hh = params[4 * layer], params[4 * layer + 1]
        inp, hs, cs, gates = caches[layer]
        hidden = w_hh.shape[1]
        dh_next = np.zeros((batch, hidden), np.float32)
        dc_next = np.zeros((batch, hidden), np.float32)
        dw_hh = np.zeros_like(w_hh)
        dgs = np.empty((steps, batch, 4 * hidden), np.float32)
        for t in reversed(range(steps)):
            i, f, gg, o = gates[t]
            dh = dout[t] + dh_next
            tc = np.tanh(cs[t + 1])
            dc = dc_next + dh * o * (1 - tc * tc)
            dg = np.concatenate([dc * gg * i * (1 - i), dc * cs[t] * f * (1 - f),
                                 dc * i * (1 - gg * gg), dh * tc * o * (1 - o)], axis=1)
            dgs[t] = dg
            dw_hh += dg.T @ hs[t]
            dh_next = dg @ w_hh
            dc_next = dc * f
        flat = dgs.reshape(steps * batch, -1)
        grads[4 * layer] = flat.T @ inp.reshape(steps * batch, -1)
        grads[4 * layer + 1] = dw_hh
        grads[4 * layer + 2] = grads[4 * layer + 3] = flat.sum(axis=0)
        dout = (flat @ w_ih).reshape(steps, batch, -1)
    for p, g in zip(params, grads):
        p -= lr * g
    return grads


# ------------------------------------------------------------------------ framework steps


def _make_step(lib, model, x, w_loss):
    opt = lib.optim.SGD(model.parameters(), lr=LR)

    def step():
        out = model(x)
        out = out[0] if isinstance(out, tuple) else out
        loss = (out * w_loss).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _lstm(lib):
    return lib.nn.LSTM(HIDDEN, HIDDEN, LAYERS)


def _transformer(lib):
    return lib.nn.TransformerEncoderLayer(d_model=128, nhead=4, batch_first=True)


def _check_lstm(tc, torch, x, w_loss) -> str:
    """Max relative gradient difference of trainctl (and PyTorch) against the NumPy step."""
    tc.manual_seed(0)
    model = _lstm(tc)
    params = [np.array(p.detach().numpy(), dtype=np.float32) for p in model.parameters()]
    ref = numpy_lstm_step([p.copy() for p in params], x, w_loss, lr=0.0)
    out = model(tc.tensor(x))[0]
    (out * tc.tensor(w_loss)).sum().backward()
    rel = max(float(np.abs(p.grad.numpy() - g).max() / (np.abs(g).max() + 1e-12))
              for p, g in zip(model.parameters(), ref))
    text = f"trainctl {rel:.1e}"
    if torch is not None:
        theirs = _lstm(torch)
        with torch.no_grad():
            for p, a in zip(theirs.parameters(), params):
                p.copy_(torch.from_numpy(a))
        out = theirs(torch.from_numpy(x))[0]
        (out * torch.from_numpy(w_loss)).sum().backward()
        rel = max(float(np.abs(p.grad.numpy() - g).max() / (np.abs(g).max() + 1e-12))
                  for p, g in zip(theirs.parameters(), ref))
        text += f", PyTorch {rel:.1e}"
    return text


def bench(torch, steps: int, block: int, settle: float):
    import trainctl as tc

    rng = np.random.default_rng(0)
    x = rng.standard_normal((SEQ, BATCH, HIDDEN)).astype(np.float32)
    w_loss = rng.standard_normal((SEQ, BATCH, HIDDEN)).astype(np.float32) / 100
    check = _check_lstm(tc, torch, x, w_loss)
    tc.manual_seed(0)
    ours = _lstm(tc)
    params = [np.array(p.detach().numpy(), dtype=np.float32) for p in ours.parameters()]
    runs = {"trainctl": _make_step(tc, ours, tc.tensor(x), tc.tensor(w_loss)),
            "numpy": lambda: numpy_lstm_step(params, x, w_loss)}
    if torch is not None:
        runs["pytorch"] = _make_step(torch, _lstm(torch), torch.from_numpy(x),
                                     torch.from_numpy(w_loss))
    lstm = {k: median(v) for k, v in interleave(runs, steps, block, settle).items()}

    xt = rng.standard_normal((32, 64, 128)).astype(np.float32)
    wt = rng.standard_normal((32, 64, 128)).astype(np.float32) / 100
    runs = {"trainctl": _make_step(tc, _transformer(tc).train(), tc.tensor(xt), tc.tensor(wt))}
    if torch is not None:
        runs["pytorch"] = _make_step(torch, _transformer(torch).train(), torch.from_numpy(xt),
                                     torch.from_numpy(wt))
    transformer = {k: median(v) for k, v in
                   interleave(runs, max(steps // 2, 10), block, settle).items()}
    return lstm, transformer, check


def run(argv=None) -> dict:
    """Time both cases; the result the runner turns into tables (see run.py)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60, help="timed steps per implementation")
    parser.add_argument("--block", type=int, default=10, help="timed steps per block")
    parser.add_argument("--settle", type=float, default=0.2,
                        help="seconds of untimed steps at the start of each block")
    args = parser.parse_args(argv)
    torch = load_torch(THREADS)
    lstm, transformer, check = bench(torch, args.steps, args.block, args.settle)
    rows = [
        {"case": f"LSTM step ({LAYERS} layers, hidden {HIDDEN}, seq {SEQ}, batch {BATCH})",
         "kind": "time", "trainctl": lstm["trainctl"], "numpy": lstm["numpy"],
         "pytorch": lstm.get("pytorch")},
        {"case": "TransformerEncoderLayer step (d_model 128, 4 heads, seq 64, batch 32)",
         "kind": "time", "trainctl": transformer["trainctl"], "numpy": None,
         "pytorch": transformer.get("pytorch")},
    ]
    targets = []
    for label, times, limit in (("LSTM step", lstm, TARGET_LSTM),
                                ("TransformerEncoderLayer step", transformer,
                                 TARGET_TRANSFORMER)):
        target = f"{label}: trainctl/PyTorch ≤ {limit} (issue 19)"
        if "pytorch" in times:
            ratio = times["trainctl"] / times["pytorch"]
            targets.append({"target": target, "value": f"{ratio:.2f}", "met": ratio <= limit})
        else:
            targets.append({"target": target, "value": "torch not installed", "met": None})
    notes = [f"sequence: medians of {args.steps} timed LSTM steps (Transformer: half as many) "
             f"per implementation, interleaved in blocks of {args.block}.",
             f"sequence: LSTM gradients against the NumPy step, max relative difference: {check}"]
    return {"rows": rows, "targets": targets, "notes": notes}


def main(argv=None) -> None:
    result = run(argv)
    for r in result["rows"]:
        print(f"{r['case']:70s} trainctl {fmt_time(r['trainctl']):>10s}  "
              f"NumPy {fmt_time(r['numpy']):>10s}  PyTorch {fmt_time(r['pytorch']):>10s}")
    for t in result["targets"]:
        print(f"  {t['target']}: {t['value']} ({'met' if t['met'] else 'not met'})")
    for note in result["notes"]:
        print(" ", note)


if __name__ == "__main__":
    main()
