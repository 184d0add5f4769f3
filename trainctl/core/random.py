"""Random numbers: one seeded default generator drives all of trainctl's randomness.

``tc.manual_seed(0)`` makes every later draw (``tc.randn``, init, dropout, shuffling) repeat
exactly. A :class:`Generator` can be passed as ``generator=`` for an independent stream. The
state is plain JSON-able data, so checkpoints store it without pickle.

Example:
    >>> import trainctl as tc
    >>> _ = tc.manual_seed(0); a = tc.randn(3)
    >>> _ = tc.manual_seed(0); b = tc.randn(3)
    >>> bool((a == b).all())
    True
"""

from __future__ import annotations

import numpy

DEFAULT_SEED = 67280421310721  # PyTorch's default, so an unseeded run is still repeatable


class Generator:
    """A stream of random numbers (PCG64) with PyTorch's ``Generator`` interface."""

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self._rng = None  # made at the first draw: importing numpy.random costs ~15 ms
        return self

    @property
    def rng(self) -> numpy.random.Generator:
        """The NumPy generator (PCG64) that draws this stream's numbers."""
        if self._rng is None:
            self._rng = numpy.random.Generator(numpy.random.PCG64(self._seed & (2**128 - 1)))
        return self._rng

    def seed(self) -> int:
        """Re-seed from OS entropy and return the new seed."""
        seed = int(numpy.random.SeedSequence().entropy) & (2**63 - 1)
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """The generator's state as a JSON-able dict (restorable with ``set_state``)."""
        return {"seed": self._seed, "bit_generator": self.rng.bit_generator.state}

    def set_state(self, state: dict) -> Generator:
        self.manual_seed(state["seed"])
        self.rng.bit_generator.state = state["bit_generator"]
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed trainctl's default generator (all of trainctl's randomness)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


def generator_for(generator: Generator | None = None) -> numpy.random.Generator:
    """The NumPy generator that draws for ``generator`` (the default generator when None).

    Every random draw in trainctl (creation, init, dropout, data shuffling) goes through this,
    so ``generator=`` arguments and ``tc.manual_seed`` work the same everywhere.

    Example:
        >>> _ = manual_seed(0); a = generator_for().random()
        >>> _ = manual_seed(0); a == generator_for(None).random()
        True
    """
    if draw_hook is not None:
        draw_hook()
    return (generator or default_generator).rng


# Set by graph mode (autograd/trace.py) to refuse draws outside ops while a step is traced.
draw_hook = None
