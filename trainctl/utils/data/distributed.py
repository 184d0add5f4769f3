"""``tc.utils.data.distributed``: ``DistributedSampler``, as ``torch.utils.data.distributed``.

Example:
    >>> from trainctl.utils.data.distributed import DistributedSampler
    >>> list(DistributedSampler(range(4), num_replicas=2, rank=1, shuffle=False))
    [1, 3]
"""

from ...data.distributed import DistributedSampler

__all__ = ["DistributedSampler"]
