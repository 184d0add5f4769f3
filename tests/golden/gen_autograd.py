"""Write ``autograd.npz``: inputs, outputs and gradients of the cases in ``autograd_cases.py``,
computed by PyTorch in float32 and float64.

Needs torch + numpy only (not trainctl): ``python tests/golden/gen_autograd.py`` or
``python tests/golden/make_golden.py autograd``. Each case's loss is ``sum((out_j * w_j).sum())``
over its float outputs with fixed random weights ``w_j``, so the gradients are not just ones.
"""

import importlib.util
import pathlib
import zlib

import numpy

HERE = pathlib.Path(__file__).parent
DTYPES = ("float32", "float64")


def load_cases():
    spec = importlib.util.spec_from_file_location("autograd_cases", HERE / "autograd_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def case_seed(name: str) -> int:
    return zlib.crc32(name.encode())


def main():
    import torch

    torch.use_deterministic_algorithms(True)
    cases = load_cases()
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
                if g is None:
                    raise RuntimeError(f"{name}: input {i} gets no gradient; drop it from the case")
                store[f"{name}.{dtype}.grad{i}"] = g
    path = HERE / "autograd.npz"
    numpy.savez_compressed(path, **store)
    print(f"wrote {len(cases.CASES)} cases ({len(store)} arrays) to {path} "
          f"({path.stat().st_size // 1024} KiB) with torch {torch.__version__}")


if __name__ == "__main__":
    main()
