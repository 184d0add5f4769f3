"""DataLoader throughput: batches/s over a 60,000 x 784 uint8 dataset at batch size 64.

Cases, each one full shuffled epoch (938 batches), best of ``--repeats`` epochs:

- ``uint8 rows, fast path``: ``TensorDataset`` of (60000, 784) uint8 + int64 labels; each batch is
  one fancy index per tensor (``get_batch``);
- ``uint8 rows, per-sample``: the same dataset through ``__getitem__`` + ``default_collate``;
- ``images + ToTensor, fast path``: an image dataset (60000, 28, 28) uint8 with ``ToTensor`` and
  ``Normalize``, converted to float32 (64, 1, 28, 28) per batch;
- ``images + ToTensor, per-sample``: the same, one image at a time, then stacked.

Run: ``.venv/bin/python bench/data_loader.py [--repeats 3]``. Where ``torch`` is importable
(``PYTHONPATH=. /path/to/torch-python bench/data_loader.py``), torch's DataLoader over the same
uint8 TensorDataset is timed too.
"""

from __future__ import annotations

import argparse
import time

import numpy

N, FEATURES, BATCH = 60_000, 784, 64


def _epoch_rate(loader, repeats: int) -> float:
    """Batches per second: the best of ``repeats`` full epochs."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        count = sum(1 for _ in loader)
        best = min(best, time.perf_counter() - start)
    return count / best


def _cases():
    import trainctl as tc

    _ = tc.utils  # load the whole API first (trainctl imports lazily)
    from trainctl.data import ArrayDataset, DataLoader, TensorDataset, default_collate
    from trainctl.data import transforms as T

    rng = numpy.random.default_rng(0)
    x = rng.integers(0, 256, (N, FEATURES), dtype=numpy.uint8)
    y = rng.integers(0, 10, N).astype(numpy.int64)

    def per_sample(batch):  # the default rules, but not *the* default: no fast path
        return default_collate(batch)

    rows = TensorDataset(tc.from_numpy(x), tc.from_numpy(y))
    images = ArrayDataset(x.reshape(N, 28, 28), y,
                          transform=T.Compose([T.ToTensor(), T.Normalize([0.1307], [0.3081])]))
    images.int_targets = True
    yield "uint8 rows, fast path", DataLoader(rows, BATCH, shuffle=True, seed=0)
    yield "uint8 rows, per-sample", DataLoader(rows, BATCH, shuffle=True, seed=0,
                                              collate_fn=per_sample)
    yield "images + ToTensor, fast path", DataLoader(images, BATCH, shuffle=True, seed=0)
    yield "images + ToTensor, per-sample", DataLoader(images, BATCH, shuffle=True, seed=0,
                                                     collate_fn=per_sample)
    try:
        import torch
        import torch.utils.data as tud
    except ImportError:
        return
    tds = tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    yield "torch uint8 rows (reference)", tud.DataLoader(tds, BATCH, shuffle=True)


def main(argv=None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="epochs per case (best counts)")
    args = parser.parse_args(argv)
    results = {}
    print(f"DataLoader over {N:,} x {FEATURES} uint8, batch {BATCH}, shuffled, one epoch per run")
    for name, loader in _cases():
        rate = _epoch_rate(loader, args.repeats)
        results[name] = rate
        print(f"  {name:32s} {rate:10,.0f} batches/s  ({rate * BATCH:12,.0f} samples/s)")
    fast, slow = results["uint8 rows, fast path"], results["uint8 rows, per-sample"]
    print(f"  fast path speed-up (uint8 rows): {fast / slow:.1f}x")
    return results


if __name__ == "__main__":
    main()
