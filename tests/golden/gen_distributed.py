"""Golden fixture for ``DistributedSampler``: torch's index lists without shuffling.

Run with PyTorch (2.13) installed: ``python tests/golden/make_golden.py distributed``. Writes
``distributed_sampler.json``: per case (dataset length, ranks, drop_last) every rank's indices
and ``len(sampler)``. Shuffled orders are not compared: torch's ``randperm`` and trainctl's
generator draw different numbers (see ``trainctl/data/distributed.py``).
"""

import json
import pathlib

import torch
from torch.utils.data.distributed import DistributedSampler

HERE = pathlib.Path(__file__).parent


def main():
    cases = []
    for n in (1, 2, 3, 5, 10, 11, 17, 64):
        for replicas in (1, 2, 3, 4, 5):
            for drop_last in (False, True):
                if drop_last and n < replicas:
                    continue  # torch: a sampler of zero samples per rank
                ranks = [DistributedSampler(range(n), num_replicas=replicas, rank=r,
                                            shuffle=False, drop_last=drop_last)
                         for r in range(replicas)]
                cases.append({"n": n, "replicas": replicas, "drop_last": drop_last,
                              "len": len(ranks[0]), "indices": [list(s) for s in ranks]})
    data = {"torch": torch.__version__, "cases": cases}
    (HERE / "distributed_sampler.json").write_text(json.dumps(data, separators=(",", ":")))


if __name__ == "__main__":
    main()
