"""Legacy constructors ``tc.FloatTensor([...])``, ``tc.LongTensor(2, 3)``... of old tutorials.

Example:
    >>> import trainctl as tc
    >>> tc.LongTensor([1, 2])
    tensor([1, 2])
"""

from __future__ import annotations

from ..autograd.creation import tensor, zeros
from ..autograd.tensor import Tensor
from ..core import dtypes


def _legacy(dtype: dtypes.dtype):
    def make(*args, device=None) -> Tensor:
        if len(args) == 1 and not isinstance(args[0], int):  # from data
            return tensor(args[0], dtype=dtype, device=device)
        return zeros(*args, dtype=dtype, device=device)  # from sizes (zeros, not garbage)

    make.__name__ = make.__qualname__ = {
        "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
        "int64": "LongTensor", "int32": "IntTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
    }[dtype.name]
    make.__doc__ = (f"Legacy constructor: ``{make.__name__}(data)`` or ``{make.__name__}(*sizes)``"
                    f" gives a {dtype.name} tensor (a function: not usable with isinstance).")
    return make


FloatTensor = _legacy(dtypes.float32)
DoubleTensor = _legacy(dtypes.float64)
HalfTensor = _legacy(dtypes.float16)
LongTensor = _legacy(dtypes.int64)
IntTensor = _legacy(dtypes.int32)
ByteTensor = _legacy(dtypes.uint8)
BoolTensor = _legacy(dtypes.bool_)
