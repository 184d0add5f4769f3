"""Inputs for the op tests: float64 tensors away from kinks and ties, from a fixed seed."""

import numpy

import trainctl as tc


def rand(*shape, low=-2.0, high=2.0, seed=0) -> tc.Tensor:
    """Uniform float64 values in [low, high)."""
    return tc.tensor(numpy.random.default_rng(seed).uniform(low, high, shape))


def away(*shape, seed=0, gap=0.25) -> tc.Tensor:
    """Values in +-[gap, 2): safe for abs, relu, sign-dependent gradients."""
    rng = numpy.random.default_rng(seed)
    return tc.tensor(rng.uniform(gap, 2.0, shape) * rng.choice([-1.0, 1.0], shape))


def distinct(*shape, seed=0) -> tc.Tensor:
    """A random permutation of well-separated values (no ties for max/min/sort)."""
    n = int(numpy.prod(shape)) if shape else 1
    values = numpy.random.default_rng(seed).permutation(n) * 0.37 - n * 0.15
    return tc.tensor(values.reshape(shape))


# Shape pairs for binary ops: broadcasting both ways, against 0-d, and equal shapes.
BROADCAST_PAIRS = [
    ((3, 1), (1, 4)),
    ((4,), (2, 3, 4)),
    ((), (2, 2)),
    ((2, 2), ()),
    ((2, 3), (2, 3)),
    ((2, 1, 3), (4, 1)),
]
