"""Exceptions raised by the tracking core.

Every error the core raises on bad input derives from ``FCOTError`` so that callers
(the ROS node, the command line) can catch one type, report its message, and go on.
"""


class FCOTError(Exception):
    """Base class of all errors raised by fcot_ros on bad input or state."""


class InvalidImageError(FCOTError, ValueError):
    """The image is not an HxWx3 uint8 BGR array (wrong rank, channels, dtype, empty)."""


class InvalidBoxError(FCOTError, ValueError):
    """The box is empty, not finite, or does not overlap the image."""


class NotInitializedError(FCOTError, RuntimeError):
    """``track`` was called before a successful ``initialize``."""


class ConfigurationError(FCOTError, ValueError):
    """An unknown model, backend, preset or parameter, or a value outside its allowed set."""


class CheckpointError(FCOTError, RuntimeError):
    """A weights file is missing, corrupt, or does not match the network."""


class BackendError(FCOTError, RuntimeError):
    """A runtime (PyTorch, ONNX Runtime, TensorRT) could not be created or run."""


class DatasetError(FCOTError, ValueError):
    """A dataset root does not have the expected layout, or one of its files is malformed
    (raised by ``fcot_ros.datasets``; the message names the file or folder at fault)."""
