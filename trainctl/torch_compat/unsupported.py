"""PyTorch features trainctl does not have, and the one-line error that says so.

``tc.jit``, ``tc.amp``, ``tc.cuda.Stream``, ``tc.cholesky``,
``tc.bfloat16``... are looked up here when a ported program touches them, so the program stops at
the first use with a message that names the feature and what to do instead, rather than with a
bare ``AttributeError``. The error raised on attribute access is also an ``AttributeError``, so
``hasattr(tc, "jit")`` is False and ``getattr(tc, "jit", None)`` is None, as code that
probes for optional features expects; ``import trainctl.jit`` (the rewrite of
``import torch.jit``) raises the same line as an ``ImportError`` (see :mod:`.imports`).

Example:
    >>> import trainctl as tc
    >>> try:
    ...     tc.jit.script
    ... except AttributeError as e:  # a TrainctlError, a NotImplementedError too
    ...     print(e)
    torch.jit (TorchScript) is not supported by trainctl: run the model eagerly, drop the call
"""

from __future__ import annotations

from ..core.errors import UnsupportedAttributeError, UnsupportedFeatureError

__all__ = ["UnsupportedFeatureError", "UnsupportedAttributeError", "UnsupportedModuleError"]


class UnsupportedModuleError(UnsupportedFeatureError, ImportError):
    """The error of ``import trainctl.<name>`` for a refused module: ``except ImportError``
    catches it."""


CUDA_AMP = ("torch.cuda.amp (automatic mixed precision)", "train in float32")

# name under ``tc.`` -> (the PyTorch feature, what to do instead)
TOP_LEVEL = {
    "jit": ("torch.jit (TorchScript)", "run the model eagerly, drop the call"),
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
    "distributions": ("torch.distributions", "sample with tc.rand/tc.randn/tc.randint"),
    "profiler": ("torch.profiler", "time with time.perf_counter or bench/run.py"),
    "mps": ("the MPS (Apple GPU) device", "use 'cpu' or 'cuda'"),
    "xpu": ("the XPU device", "use 'cpu' or 'cuda'"),
    "mtia": ("the MTIA device", "use 'cpu' or 'cuda'"),
    "nested": ("torch.nested (nested tensors)", "pad the sequences to one length"),
    "masked": ("torch.masked (masked tensors)", "use tc.where with a mask"),
    "compiler": ("torch.compiler", "run the model eagerly, drop the call"),
    "library": ("torch.library (custom operators)", "write a tc.autograd.Function"),
    "ops": ("torch.ops (registered operators)", "call the tc function directly"),
    "classes": ("torch.classes (TorchScript classes)", "use plain Python classes"),
    "cpp": ("torch.cpp (C++ extensions)", "write the op in Python on tensors"),
    "package": ("torch.package", "save weights with tc.save (safetensors)"),
    "futures": ("torch.futures", "call functions directly"),
    "monitor": ("torch.monitor", "log with the trainctl loggers"),
    "overrides": ("torch.overrides (__torch_function__)", "write plain functions over tensors"),
    "signal": ("torch.signal (window functions)", "use scipy.signal on tensor.numpy()"),
    "quasirandom": ("torch.quasirandom (Sobol sequences)", "use scipy.stats.qmc"),
    "testing": ("torch.testing", "use numpy.testing.assert_allclose on tensor.numpy()"),
    "storage": ("torch.storage (tensor storages)", "work with tensors"),
    "functional": ("the torch.functional module",
                   "call tc.einsum, tc.meshgrid, tc.split... from tc itself"),
    "return_types": ("torch.return_types",
                     "max/min/sort/topk results are named tuples with .values and .indices"),
    "types": ("torch.types (type aliases)", "annotate with tc.Tensor"),
    "cpu": ("the torch.cpu module", "use tc.device('cpu')"),
    "version": ("torch.version", "read tc.__version__; tc.cuda.is_available() tells about CUDA"),
    "torch_version": ("torch.torch_version", "read tc.__version__"),
    "windows": ("torch.windows", "nothing to do: trainctl needs no DLL setup"),
}

# Submodules a program may import (``from torch.utils.tensorboard import SummaryWriter``):
# ``import trainctl.<path>`` raises their line (see :mod:`.imports`).
SUBMODULES = {
    "utils.tensorboard": ("torch.utils.tensorboard", "list tensorboard in a config's logging "
                          "(trainctl.training.loggers.TensorBoardLogger), or log with the "
                          "tensorboard package itself"),
    "utils.checkpoint": ("torch.utils.checkpoint (activation checkpointing)",
                         "use a smaller batch instead"),
    "utils.cpp_extension": ("torch.utils.cpp_extension", "write the op in Python on tensors"),
    "utils.benchmark": ("torch.utils.benchmark", "time with time.perf_counter or bench/run.py"),
    "utils.dlpack": ("torch.utils.dlpack", "go through NumPy: tc.from_numpy, tensor.numpy()"),
    "utils.model_zoo": ("torch.utils.model_zoo (downloading models)",
                        "build the model in code and tc.load its weights"),
    "utils.mobile_optimizer": ("torch.utils.mobile_optimizer", "save weights with tc.save"),
    "distributed.fsdp": ("torch.distributed.fsdp (sharded data parallel)",
                         "use tc.nn.parallel.DistributedDataParallel"),
    "distributed.rpc": ("torch.distributed.rpc", "use the collectives of tc.distributed"),
    "distributed.tensor": ("torch.distributed.tensor (DTensor)",
                           "use tc.nn.parallel.DistributedDataParallel"),
    "distributed.pipelining": ("torch.distributed.pipelining",
                               "use tc.nn.parallel.DistributedDataParallel"),
    "distributed.checkpoint": ("torch.distributed.checkpoint",
                               "save ddp.module.state_dict() with tc.save on rank 0"),
    "distributed.elastic": ("torch.distributed.elastic (torchrun)", "start with mpiexec"),
    "nn.utils.prune": ("torch.nn.utils.prune", "zero weights by hand under tc.no_grad()"),
    "nn.utils.parametrize": ("torch.nn.utils.parametrize", "compute the weight in forward()"),
    "nn.quantized": ("torch.nn.quantized", "train and run in float32"),
    "nn.intrinsic": ("torch.nn.intrinsic (fused quantized modules)", "train and run in float32"),
    "nn.qat": ("torch.nn.qat (quantization-aware training)", "train and run in float32"),
    "optim.swa_utils": ("torch.optim.swa_utils (weight averaging)",
                        "average the state_dicts by hand"),
    "autograd.profiler": ("torch.autograd.profiler", "time with time.perf_counter"),
    "autograd.functional": ("torch.autograd.functional (jacobian, hessian)",
                            "use tc.autograd.grad per output"),
    "cuda.amp": CUDA_AMP,
}

CUDA = {
    "Stream": ("CUDA streams (torch.cuda.Stream)", "let operations run in order"),
    "stream": ("CUDA streams (torch.cuda.stream)", "let operations run in order"),
    "current_stream": ("CUDA streams (torch.cuda.current_stream)", "let operations run in order"),
    "default_stream": ("CUDA streams (torch.cuda.default_stream)", "let operations run in order"),
    "Event": ("CUDA events (torch.cuda.Event)", "time with time.perf_counter after synchronize()"),
    "amp": CUDA_AMP,
    "graph": ("CUDA graphs (torch.cuda.graph)", "run the model eagerly"),
    "CUDAGraph": ("CUDA graphs (torch.cuda.CUDAGraph)", "run the model eagerly"),
    "nccl": ("torch.cuda.nccl (multi-GPU communication)", "train on one device"),
    "comm": ("torch.cuda.comm (multi-GPU communication)", "train on one device"),
    "set_device": ("torch.cuda.set_device", "pass the device explicitly: .to('cuda:1')"),
    "device": ("the torch.cuda.device context manager", "pass the device explicitly"),
}


def unsupported(feature: str, instead: str) -> UnsupportedFeatureError:
    """The error for ``feature``; ``instead`` says what to do."""
    return UnsupportedFeatureError(message(feature, instead))


def message(feature: str, instead: str) -> str:
    """The one line: ``<feature> is not supported by trainctl: <what to do instead>``."""
    return f"{feature} is not supported by trainctl: {instead}"


def refusal(name: str):
    """``(feature, instead)`` when ``tc.<name>`` is a refused PyTorch name, else None."""
    if name in TOP_LEVEL:
        return TOP_LEVEL[name]
    from .refused import TORCH_NAMES

    return TORCH_NAMES.get(name)


def lookup(table: dict, module: str, name: str):
    """Raise the error for ``name`` when ``table`` lists it (for the ``tc`` namespace, when it
    is any refused PyTorch name), else a plain ``AttributeError``."""
    found = refusal(name) if table is TOP_LEVEL else table.get(name)
    if found:
        raise UnsupportedAttributeError(message(*found))
    raise AttributeError(f"module {module!r} has no attribute {name!r}")
