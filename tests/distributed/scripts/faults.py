"""A callback that injects a fault into a data-parallel ``trainctl train`` run, named in the
test configs as ``{type: "tests.distributed.scripts.faults:Fault", ...}`` (with --trust-code).

After optimizer step ``at_step``, on rank ``rank`` only: ``sigterm`` sends this process
SIGTERM (as a scheduler killing one rank would), ``raise`` raises a RuntimeError, ``slow``
prints ``STEP n`` and sleeps ``sleep`` seconds after every later step (so a test can signal the
launcher while the run is surely going), ``none`` does nothing (the reference runs).
"""

import os
import signal
import time

import trainctl.distributed as dist
from trainctl.training import Callback


class Fault(Callback):
    def __init__(self, action: str = "none", rank: int = 0, at_step: int = 1,
                 sleep: float = 0.3):
        self.action, self.rank, self.at_step, self.sleep = action, rank, at_step, sleep

    def on_step_end(self, trainer):
        rank = dist.get_rank() if dist.is_initialized() else 0
        if rank != self.rank or self.action == "none":
            return
        if self.action == "slow" and trainer.global_step >= self.at_step:
            print(f"STEP {trainer.global_step}", flush=True)
            time.sleep(self.sleep)
        elif trainer.global_step == self.at_step:
            if self.action == "sigterm":
                os.kill(os.getpid(), signal.SIGTERM)
            elif self.action == "raise":
                raise RuntimeError(f"injected fault on rank {rank} after step {self.at_step}")
