"""inceptionism: DeepDream images with pretrained ImageNet networks."""

__version__ = "0.1.0"

# First, before anything imports torch: idle OpenMP threads sleep instead of spinning
# (runtime.py says why; a value the user set is kept).
from .runtime import openmp_defaults as _openmp_defaults  # noqa: E402

_openmp_defaults()

from .api import Dreamer, resolve_device  # noqa: E402
from .dream import DreamConfig, StepInfo, dream  # noqa: E402
from .objectives import Objective, channel, channels, guide, imagenet_class, layer, parse  # noqa: E402

__all__ = [
    "DreamConfig",
    "Dreamer",
    "Objective",
    "StepInfo",
    "channel",
    "channels",
    "dream",
    "guide",
    "imagenet_class",
    "layer",
    "parse",
    "resolve_device",
    "__version__",
]
