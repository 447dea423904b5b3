"""inceptionism: DeepDream images with pretrained ImageNet networks."""

__version__ = "0.1.0"

from .api import Dreamer, resolve_device  # noqa: E402
from .dream import DreamConfig, StepInfo, dream  # noqa: E402
from .objectives import Objective, channel, layer, parse  # noqa: E402

__all__ = [
    "DreamConfig",
    "Dreamer",
    "Objective",
    "StepInfo",
    "channel",
    "dream",
    "layer",
    "parse",
    "resolve_device",
    "__version__",
]
