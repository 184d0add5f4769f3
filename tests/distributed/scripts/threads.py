"""set_threads_per_rank limits the OpenBLAS pool NumPy has loaded (prints what it reads back)."""

import ctypes
import os

import numpy

import trainctl.distributed as dist

dist.init_process_group("mpi")
numpy.ones((64, 64)) @ numpy.ones((64, 64))
n = dist.set_threads_per_rank(1)
assert n == 1 and os.environ["OMP_NUM_THREADS"] == "1"
with open("/proc/self/maps") as f:
    paths = {line.split(None, 5)[5].strip() for line in f if len(line.split(None, 5)) == 6}
blas = [p for p in paths if "openblas" in os.path.basename(p).lower()]
got = None
for name in ("openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
             "openblas_get_num_threads64_"):
    if blas and hasattr(ctypes.CDLL(blas[0]), name):
        got = getattr(ctypes.CDLL(blas[0]), name)()
        break
print(f"threads {n} blas {got} expected {dist.threads_per_rank()}")
