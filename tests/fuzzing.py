"""What the property-based fuzz tests (``pytest -k fuzz``) of configs, checkpoints and LR
expressions share.

Each fuzz test feeds random or mutated input to one reader and asserts, with :func:`survive`,
that it ends in a valid result or a ``TrainctlError`` of one line, within a second and a few MiB.
The default is a small, fixed set of examples (``TRAINCTL_FUZZ_EXAMPLES`` unset: 60 per test,
derandomized so CI sees the same ones every run); a long session draws fresh ones::

    TRAINCTL_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest -k fuzz
"""

import os
import re
import time
import tracemalloc

from hypothesis import HealthCheck, event, settings
from hypothesis.errors import InvalidArgument

from trainctl.core.errors import TrainctlError

EXAMPLES = int(os.environ.get("TRAINCTL_FUZZ_EXAMPLES", "60"))
SECONDS = 1.0  # per example; the inputs are a few KiB
MEMORY = 64 << 20  # bytes allocated at the peak of one example

# deadline=None: survive() checks the time itself (Hypothesis would call a slow first run flaky).
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                derandomize="TRAINCTL_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


def survive(call, error=TrainctlError, memory: int = MEMORY):
    """``call()``'s result, or None when it raised ``error`` (one line); any other exception
    propagates. Asserts the call took under SECONDS and allocated under ``memory`` bytes at its
    peak. The outcome is recorded as a Hypothesis event, so ``--hypothesis-show-statistics``
    shows which errors the examples reached."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = call()
        _event("valid result")
        return result
    except error as e:
        assert "\n" not in str(e), f"an error message is one line: {e}"
        kind = re.sub(r"\S*/", "", str(e)).split(" (")[0]  # no folders, no details
        _event(f"{type(e).__name__}: " + re.sub(r"\d+", "N", kind)[:50])
        return None
    finally:
        took = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert took < SECONDS, f"took {took:.2f}s"
        assert peak < memory, f"allocated {peak / 2**20:.1f} MiB"


def _event(text: str) -> None:
    try:
        event(text)
    except InvalidArgument:  # called outside a Hypothesis test: nothing to record
        pass
