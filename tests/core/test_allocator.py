"""glibc malloc settings (trainctl/core/allocator.py): freed array memory is reused, not re-faulted.

Checked in fresh interpreters, by the kernel's count of page faults: a step-like loop that
allocates and frees multi-megabyte arrays faults its pages in once with the settings, and on
every pass with glibc's defaults (``TRAINCTL_MALLOC=default``).
"""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.confstr("CS_GNU_LIBC_VERSION"),
    reason="the settings apply to glibc on Linux only")

LOOP = """
import resource
import numpy
import trainctl.autograd
from trainctl.core import allocator

def step():
    a = numpy.ones((1024, 1024), numpy.float32)  # 4 MiB, like a batch of activations
    b = a * 2
    c = numpy.ones((2048, 1024), numpy.float32) + b.sum()
    return float(c[0, 0])

for _ in range(5):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(40):
    step()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(allocator.tuned, faults)
"""


def run(env_extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k not in ("GLIBC_TUNABLES", "TRAINCTL_MALLOC")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", LOOP], capture_output=True, text=True, env=env,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    tuned, faults = out.stdout.split()
    return tuned == "True", int(faults)


def test_tuned_allocator_reuses_freed_pages():
    tuned, faults = run({})
    assert tuned
    assert faults < 200, faults  # 40 passes over 16 MiB would be ~160,000 faults


def test_default_allocator_faults_pages_in_again_and_the_opt_out_works():
    tuned, faults = run({"TRAINCTL_MALLOC": "default"})
    assert not tuned
    assert faults > 10_000, faults


def test_user_malloc_settings_are_left_alone():
    tuned, _ = run({"MALLOC_TRIM_THRESHOLD_": "1000000"})
    assert not tuned
