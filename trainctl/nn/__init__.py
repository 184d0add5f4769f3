"""``trainctl.nn``: modules, layers, losses, ``functional``, ``init`` and ``utils``.

Example:
    >>> import trainctl as tc
    >>> model = tc.nn.Sequential(tc.nn.Linear(4, 8), tc.nn.ReLU(), tc.nn.Linear(8, 2))
    >>> model(tc.randn(3, 4)).shape
    trainctl.Size([3, 2])
"""

from ..core.lazy import lazy_names

# Every public name and the module that defines it. Nothing here is imported until a name is
# first used (PEP 562 ``__getattr__`` below): the layers, losses and functional ops are over 100 ms
# of every cold ``import trainctl`` otherwise. ``tc.nn.Linear``, ``from trainctl.nn import
# Linear``, ``dir(tc.nn)`` and ``from trainctl.nn import *`` give what they gave when this file
# imported everything. A layer added to a file of ``nn/modules`` must be listed here too
# (tests/test_startup.py fails otherwise): configs find layers by walking this package.
_DEFINED_IN = {
    ".module": ("Module",),
    ".graph": ("Graph", "GraphTraceError"),
    ".parameter": ("Parameter",),
    ".state_dict": ("IncompatibleKeys",),
    ".modules.container": ("ModuleDict", "ModuleList", "Sequential"),
    ".modules.activation": (
        "CELU", "ELU", "GELU", "Hardsigmoid", "Hardswish", "Hardtanh", "LeakyReLU", "LogSigmoid",
        "LogSoftmax", "Mish", "ReLU", "ReLU6", "SELU", "SiLU", "Sigmoid", "Softmax", "Softmin",
        "Softplus", "Softsign", "Tanh",
    ),
    ".modules.conv": ("Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"),
    ".modules.dropout": ("Dropout", "Dropout1d", "Dropout2d"),
    ".modules.flatten": ("Flatten", "Unflatten"),
    ".modules.linear": ("Bilinear", "Identity", "Linear"),
    ".modules.loss": (
        "BCELoss", "BCEWithLogitsLoss", "CosineEmbeddingLoss", "CrossEntropyLoss", "HuberLoss",
        "KLDivLoss", "L1Loss", "MSELoss", "NLLLoss", "SmoothL1Loss",
    ),
    ".modules.normalization": ("BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm"),
    ".modules.pooling": (
        "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
        "AvgPool1d", "AvgPool2d", "MaxPool1d", "MaxPool2d",
    ),
    ".modules.sparse": ("Embedding",),
    ".modules.sync_batchnorm": ("SyncBatchNorm",),
    ".parallel": ("DataParallel",),
    ".modules.attention": ("MultiheadAttention",),
    ".modules.sequence": (
        "FinalHidden", "LastTimeStep", "LearnedPositionalEncoding", "MeanOverTime",
        "PackedEmbedding", "Permute", "RNNOutput", "SinusoidalPositionalEncoding",
    ),
    ".modules.transformer": (
        "Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
        "TransformerEncoderLayer",
    ),
    ".modules.rnn": ("GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell",
                     "RNNCellBase"),
}
# Modules that are attributes of ``tc.nn``: the subpackages, and the files of ``nn/modules``
# under their short names (``tc.nn.conv``), which the eager star import used to export.
_MODULES = {
    name: "." + name
    for name in ("functional", "graph", "init", "utils", "module", "modules", "parallel",
                 "parameter", "state_dict")
} | {
    name: ".modules." + name
    for name in ("activation", "conv", "dropout", "flatten", "linear", "loss", "normalization",
                 "pooling", "sparse", "rnn", "sync_batchnorm", "attention",
                 "transformer", "sequence")
}
_WHERE = {name: module for module, names in _DEFINED_IN.items() for name in names}

__all__ = sorted([*_WHERE, *_MODULES])


__getattr__, __dir__ = lazy_names(__name__, globals(), _WHERE, _MODULES)
