"""Rank 1 raises while rank 0 waits in a collective: the job must end, not hang."""

import time

import trainctl.distributed as dist

dist.init_process_group(backend="mpi")
if dist.get_rank() == 1:
    time.sleep(0.2)
    raise ValueError("bad batch on rank 1")
dist.barrier()  # never completes: rank 1 is gone
print("rank 0 got past the barrier")
