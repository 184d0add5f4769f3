"""``trainctl.nn.functional`` (import as ``F``): the functional twin of every layer and loss.

Layers call these functions; no maths is written twice.
"""

from ...autograd.ops.indexing import one_hot, pad  # noqa: F401
from ...autograd.ops.softmax import log_softmax, softmax  # noqa: F401
from ...autograd.ops.unary import relu, sigmoid, tanh  # noqa: F401
from .activation import *  # noqa: F401,F403
from .adaptive_pooling import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
