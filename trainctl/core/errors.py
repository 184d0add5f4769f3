"""User-facing errors.

Everything below the CLI raises a subclass of :class:`TrainctlError` when the user (not trainctl)
got something wrong; the CLI turns it into one clear line and exit code 2. Each message says what
is wrong and where: the file, the line, the key path.
"""


class TrainctlError(Exception):
    """Base class of the errors a user can fix."""


class ConfigError(TrainctlError, ValueError):
    """A configuration file or override is invalid."""


class DataError(TrainctlError, ValueError):
    """A dataset file is missing, malformed or fails its checksum."""


class CheckpointError(TrainctlError, ValueError):
    """A checkpoint or saved file cannot be read or does not fit."""


class StateDictError(CheckpointError, RuntimeError):
    """A state_dict that does not fit its module (missing, unexpected or mis-shaped entries);
    also a RuntimeError, which is what PyTorch code catches around ``load_state_dict``."""


class DeviceError(TrainctlError, RuntimeError):
    """A device was asked for that is not available, or tensors live on different devices."""


class UnsupportedFeatureError(TrainctlError, NotImplementedError):
    """A PyTorch feature that is out of trainctl's scope was used. The message is one line:
    ``<feature> is not supported by trainctl: <what to do instead>`` (the tables of refused
    features are in ``trainctl/torch_compat/unsupported.py``)."""


class UnsupportedAttributeError(UnsupportedFeatureError, AttributeError):
    """The error of ``tc.<name>`` (or ``tc.utils.<name>``) for a refused name: ``hasattr``
    answers False."""


class ShapeError(TrainctlError, RuntimeError):
    """Operands of an op have shapes that do not fit; the message names the op and the shapes."""
