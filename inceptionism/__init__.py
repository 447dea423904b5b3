"""inceptionism: DeepDream images with pretrained ImageNet networks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("inceptionism")  # one place: pyproject.toml
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

from .api import Dreamer, resolve_device
from .dream import CancelToken, DreamConfig, OctaveInfo, StepInfo, dream
from .errors import Cancelled, InceptionismError
from .jobs import (
    DreamRequest,
    DreamResult,
    Hooks,
    Recipe,
    TourRequest,
    TourResult,
    VideoRequest,
    VideoResult,
    ZoomRequest,
    run_dream,
    run_tour,
    run_video,
    run_zoom,
)
from .objectives import (
    Objective,
    channel,
    channels,
    guide,
    imagenet_class,
    layer,
    parse,
)
from .video import FlowConfig, ZoomMotion

__all__ = [
    "CancelToken",
    "Cancelled",
    "DreamConfig",
    "DreamRequest",
    "DreamResult",
    "Dreamer",
    "FlowConfig",
    "Hooks",
    "InceptionismError",
    "Objective",
    "OctaveInfo",
    "Recipe",
    "StepInfo",
    "TourRequest",
    "TourResult",
    "VideoRequest",
    "VideoResult",
    "ZoomMotion",
    "ZoomRequest",
    "__version__",
    "channel",
    "channels",
    "dream",
    "guide",
    "imagenet_class",
    "layer",
    "parse",
    "resolve_device",
    "run_dream",
    "run_tour",
    "run_video",
    "run_zoom",
]
