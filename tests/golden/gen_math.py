"""Write ``math.npz``: inputs, outputs and gradients of the element-wise maths cases in
``math_cases.py``, computed by PyTorch in float32 and float64.

Needs torch + numpy only (not trainctl): ``python tests/golden/gen_math.py`` or
``python tests/golden/make_golden.py math``. The loss is ``autograd.npz``'s (fixed random
weights per output); an input that gets no gradient stores none.
"""

import pathlib
import sys
import zlib

import numpy

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE.parent.parent))  # the cases import tests.golden.autograd_cases

from tests.golden import math_cases as cases  # noqa: E402

DTYPES = ("float32", "float64")


def case_seed(name: str) -> int:
    return zlib.crc32(name.encode())


def main():
    import torch

    store = {}
    for name, (specs, _) in cases.CASES.items():
        arrays = cases.make_inputs(specs, case_seed(name))
        for i, a in enumerate(arrays):
            store[f"{name}.in{i}"] = a
        for dtype in DTYPES:
            outs, weights, grads = cases.run_case(torch, name, arrays, dtype,
                                                  seed=case_seed(name) + 1)
            for j, (o, w) in enumerate(zip(outs, weights)):
                store[f"{name}.{dtype}.out{j}"] = o
                store[f"{name}.w{j}"] = w
            for i, g in enumerate(grads):
                if g is not None:
                    store[f"{name}.{dtype}.grad{i}"] = g
    path = HERE / "math.npz"
    numpy.savez_compressed(path, **store)
    print(f"wrote {len(cases.CASES)} cases ({len(store)} arrays) to {path} "
          f"({path.stat().st_size // 1024} KiB) with torch {torch.__version__}")


if __name__ == "__main__":
    main()
