"""PyTorch features trainctl does not have, and the one-line error that says so.

``tc.jit``, ``tc.compile``, ``tc.distributed``, ``tc.cuda.Stream``... are looked up here when a
ported program touches them, so the program stops at the first use with a message that names the
feature and what to do instead, rather than with a bare ``AttributeError``.

Example:
    >>> import trainctl as tc
    >>> try:
    ...     tc.jit.script
    ... except tc.unsupported.UnsupportedFeatureError as e:
    ...     print(e)
    torch.jit (TorchScript) is not supported by trainctl: run the model eagerly, drop the call
"""

from __future__ import annotations

from ..core.errors import TrainctlError


class UnsupportedFeatureError(TrainctlError, NotImplementedError):
    """A PyTorch feature that is out of trainctl's scope was used."""


# name under ``tc.`` -> (the PyTorch feature, what to do instead)
TOP_LEVEL = {
    "jit": ("torch.jit (TorchScript)", "run the model eagerly, drop the call"),
    "compile": ("torch.compile", "run the model eagerly, drop the torch.compile call"),
    "distributed": ("torch.distributed (multi-process training)", "train in one process"),
    "multiprocessing": ("torch.multiprocessing", "use DataLoader(num_workers=0)"),
    "amp": ("torch.amp (automatic mixed precision)", "train in float32"),
    "autocast": ("torch.autocast (automatic mixed precision)", "train in float32"),
    "onnx": ("torch.onnx (model export)", "save weights with tc.save (safetensors)"),
    "export": ("torch.export", "save weights with tc.save (safetensors)"),
    "fx": ("torch.fx (graph transforms)", "write the transform as a Module"),
    "func": ("torch.func (function transforms, vmap)", "loop or batch by hand"),
    "vmap": ("torch.vmap", "batch the computation by hand"),
    "hub": ("torch.hub (downloading models)", "build the model in code and tc.load its weights"),
    "quantization": ("torch.quantization", "train and run in float32"),
    "ao": ("torch.ao (quantization, pruning)", "train and run in float32"),
    "sparse": ("torch.sparse (sparse tensors)", "use dense tensors"),
    "linalg": ("torch.linalg", "use tc.matmul, tc.norm, tc.einsum or NumPy on tensor.numpy()"),
    "fft": ("torch.fft", "use NumPy's fft on tensor.numpy()"),
    "special": ("torch.special", "use the tc.* functions or NumPy on tensor.numpy()"),
    "distributions": ("torch.distributions", "sample with tc.rand/tc.randn/tc.randint"),
    "profiler": ("torch.profiler", "time with time.perf_counter or bench/run.py"),
    "mps": ("the MPS (Apple GPU) device", "use 'cpu' or 'cuda'"),
    "xpu": ("the XPU device", "use 'cpu' or 'cuda'"),
    "mtia": ("the MTIA device", "use 'cpu' or 'cuda'"),
}

CUDA = {
    "Stream": ("CUDA streams (torch.cuda.Stream)", "let operations run in order"),
    "stream": ("CUDA streams (torch.cuda.stream)", "let operations run in order"),
    "current_stream": ("CUDA streams (torch.cuda.current_stream)", "let operations run in order"),
    "default_stream": ("CUDA streams (torch.cuda.default_stream)", "let operations run in order"),
    "Event": ("CUDA events (torch.cuda.Event)", "time with time.perf_counter after synchronize()"),
    "amp": ("torch.cuda.amp (automatic mixed precision)", "train in float32"),
    "graph": ("CUDA graphs (torch.cuda.graph)", "run the model eagerly"),
    "CUDAGraph": ("CUDA graphs (torch.cuda.CUDAGraph)", "run the model eagerly"),
    "nccl": ("torch.cuda.nccl (multi-GPU communication)", "train on one device"),
    "comm": ("torch.cuda.comm (multi-GPU communication)", "train on one device"),
    "set_device": ("torch.cuda.set_device", "pass the device explicitly: .to('cuda:1')"),
    "device": ("the torch.cuda.device context manager", "pass the device explicitly"),
}


def unsupported(feature: str, instead: str) -> UnsupportedFeatureError:
    """The error for ``feature``; ``instead`` says what to do."""
    return UnsupportedFeatureError(f"{feature} is not supported by trainctl: {instead}")


def lookup(table: dict, module: str, name: str):
    """Raise the error for ``name`` when ``table`` lists it, else a plain ``AttributeError``."""
    if name in table:
        raise unsupported(*table[name])
    raise AttributeError(f"module {module!r} has no attribute {name!r}")
