"""The fixed small problem the optimizer fixtures were made on (see tests/golden/gen_optim.py)."""

import numpy

import trainctl as tc
from tests.golden.fixtures import load_npz

DATA = load_npz("optim_trajectories.npz")


def loss_fn(X, Y, W, b, r):
    """Least squares plus a mild Rosenbrock valley (the generator's formula, in trainctl ops)."""
    fit = ((X @ W + b - Y) ** 2).mean()
    valley = (1 - r[0]) ** 2 + 4 * (r[1] - r[0] ** 2) ** 2
    return fit + 0.5 * valley


def make_params(dtype=numpy.float32):
    return [tc.tensor(DATA[k].astype(dtype), requires_grad=True) for k in ("W0", "b0", "r0")]


def flat(params) -> numpy.ndarray:
    return numpy.concatenate([p.detach().numpy().ravel() for p in params])


def make_closure(opt, params, sign=1.0):
    dtype = params[0].numpy(force=True).dtype
    X, Y = tc.tensor(DATA["X"].astype(dtype)), tc.tensor(DATA["Y"].astype(dtype))

    def closure():
        opt.zero_grad()
        loss = sign * loss_fn(X, Y, *params)
        loss.backward()
        return loss

    return closure
