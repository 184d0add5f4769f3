"""``tc.nn.parallel``: :class:`DistributedDataParallel` (``torch.nn.parallel``'s name).

``DataParallel`` (one process driving several devices) is refused: start one process per
device with ``mpiexec`` and use ``DistributedDataParallel``.
"""

from ...core.errors import UnsupportedFeatureError
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]


class DataParallel:
    """Refused: ``tc.nn.DataParallel(model)`` raises the one-line unsupported error."""

    def __init__(self, *args, **kwargs):
        raise UnsupportedFeatureError(
            "torch.nn.DataParallel (one process driving several devices) is not supported by "
            "trainctl: start one process per device with mpiexec and wrap the model in "
            "tc.nn.parallel.DistributedDataParallel")
