"""``trainctl.nn``: modules, layers, losses, ``functional``, ``init`` and ``utils``.

Example:
    >>> import trainctl as tc
    >>> model = tc.nn.Sequential(tc.nn.Linear(4, 8), tc.nn.ReLU(), tc.nn.Linear(8, 2))
    >>> model(tc.randn(3, 4)).shape
    trainctl.Size([3, 2])
"""

from . import functional, init, utils  # noqa: F401
from .module import Module  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules.container import ModuleDict, ModuleList, Sequential  # noqa: F401
from .parameter import Parameter  # noqa: F401
from .state_dict import IncompatibleKeys  # noqa: F401
