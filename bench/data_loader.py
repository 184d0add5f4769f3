"""DataLoader throughput: batches/s over a 60,000 x 784 uint8 dataset at batch size 64.

Each measurement is one full shuffled epoch (938 batches); epochs of the implementations are
interleaved and the median epoch counts. Rows:

- ``uint8 rows``: a ``TensorDataset`` of (60000, 784) uint8 + int64 labels. trainctl's loader takes
  its batch fast path (one fancy index per tensor per batch, ``get_batch``). The NumPy floor is a
  permutation and ``x[idx]``, ``y[idx]`` per batch; PyTorch's ``DataLoader`` over the same
  ``TensorDataset`` (per-sample fetch + ``default_collate``, its only way).
- ``images + ToTensor``: (60000, 28, 28) uint8 images made float32 (64, 1, 28, 28) in [0, 1] and
  normalised, per batch (trainctl: ``ToTensor`` + ``Normalize`` on the fast path; NumPy: the same
  two lines on the fancy-indexed batch; PyTorch: its ``DataLoader`` + the same conversion on the
  collated batch, as torchvision's per-sample ``ToTensor`` would be far slower).
- ``..., per-sample``: trainctl forced through ``__getitem__`` + ``default_collate`` (a custom
  ``collate_fn`` switches the fast path off), for the record.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import THREADS, load_torch, median  # noqa: E402

N, FEATURES, BATCH = 60_000, 784, 64
MEAN, STD = 0.1307, 0.3081


def _epoch_time(loader) -> float:
    start = time.perf_counter()
    for _ in loader:
        pass
    return time.perf_counter() - start


class NumpyLoader:
    """The floor: a shuffled epoch of fancy-indexed batches, optionally converted to float."""

    def __init__(self, x, y, images: bool):
        self.x, self.y, self.images = x, y, images
        self.rng = numpy.random.default_rng(0)

    def __iter__(self):
        order = self.rng.permutation(len(self.x))
        for i in range(0, len(order), BATCH):
            idx = order[i:i + BATCH]
            xb, yb = self.x[idx], self.y[idx]
            if self.images:
                xb = xb[:, None].astype(numpy.float32)
                xb *= 1 / 255
                xb -= MEAN
                xb /= STD
            yield xb, yb


def _loaders(torch):
    import trainctl as tc
    from trainctl.data import ArrayDataset, DataLoader, TensorDataset, default_collate
    from trainctl.data import transforms as T

    rng = numpy.random.default_rng(0)
    x = rng.integers(0, 256, (N, FEATURES), dtype=numpy.uint8)
    y = rng.integers(0, 10, N).astype(numpy.int64)
    imgs = x.reshape(N, 28, 28)

    def per_sample(batch):  # the default rules, but not *the* default: no fast path
        return default_collate(batch)

    rows = TensorDataset(tc.from_numpy(x), tc.from_numpy(y))
    images = ArrayDataset(imgs, y, transform=T.Compose([T.ToTensor(), T.Normalize([MEAN], [STD])]))
    images.int_targets = True
    cases = {
        "uint8 rows": {
            "trainctl": DataLoader(rows, BATCH, shuffle=True, seed=0),
            "numpy": NumpyLoader(x, y, images=False),
        },
        "images + ToTensor": {
            "trainctl": DataLoader(images, BATCH, shuffle=True, seed=0),
            "numpy": NumpyLoader(imgs, y, images=True),
        },
        "uint8 rows, per-sample": {
            "trainctl": DataLoader(rows, BATCH, shuffle=True, seed=0, collate_fn=per_sample),
        },
    }
    if torch is not None:
        import torch.utils.data as tud

        tds = tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
        tds_img = tud.TensorDataset(torch.from_numpy(imgs), torch.from_numpy(y))

        def to_float(batch):
            xb, yb = tud.default_collate(batch)
            return (xb[:, None].float().div_(255).sub_(MEAN).div_(STD)), yb

        cases["uint8 rows"]["pytorch"] = tud.DataLoader(tds, BATCH, shuffle=True)
        cases["images + ToTensor"]["pytorch"] = tud.DataLoader(tds_img, BATCH, shuffle=True,
                                                               collate_fn=to_float)
    return cases


def run(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs per implementation")
    args = parser.parse_args(argv)
    torch = load_torch(THREADS)
    rows = []
    for name, loaders in _loaders(torch).items():
        for loader in loaders.values():
            _epoch_time(loader)  # warm-up: first-touch of the arrays, imports
        times = {k: [] for k in loaders}
        for _ in range(args.epochs if len(loaders) > 1 else max(args.epochs // 2, 1)):
            for key, loader in loaders.items():
                times[key].append(_epoch_time(loader))
        batches = -(-N // BATCH)
        rates = {k: batches / median(v) for k, v in times.items()}
        rows.append({"case": f"DataLoader {name}, 60,000x784 uint8, batch {BATCH}",
                     "kind": "rate", "unit": "batches/s", "trainctl": rates["trainctl"],
                     "numpy": rates.get("numpy"), "pytorch": rates.get("pytorch")})
    notes = [f"DataLoader: median of {args.epochs} shuffled epochs per implementation, "
             "interleaved; ratios compare time per batch (trainctl/NumPy > 1: trainctl slower)."]
    return {"rows": rows, "targets": [], "notes": notes}


def main(argv=None) -> None:
    for r in run(argv)["rows"]:
        cells = "  ".join(f"{k} {r[k]:10,.0f}" for k in ("trainctl", "numpy", "pytorch")
                          if r.get(k) is not None)
        print(f"{r['case']:58s} {cells}  batches/s")


if __name__ == "__main__":
    main()
