"""``trainctl.nn``: modules, layers, losses, ``functional``, ``init`` and ``utils``."""

from . import functional  # noqa: F401
from .modules import *  # noqa: F401,F403
