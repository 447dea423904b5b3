"""inceptionism: DeepDream images with pretrained ImageNet networks."""

import sys
import types
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

try:
    __version__ = version("inceptionism")  # one place: pyproject.toml
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

# What `from inceptionism import X` offers, and the module each name lives in. Loaded on
# first use (PEP 562), so that `inceptionism --help` and other light commands never import
# PyTorch, which alone takes a second or more to load.
_EXPORTS = {
    "Dreamer": "api", "resolve_device": "api",
    "CancelToken": "dream", "OctaveInfo": "dream", "StepInfo": "dream", "dream": "dream",
    "DreamConfig": "config", "FlowConfig": "config", "ZoomMotion": "config",
    "Cancelled": "errors", "InceptionismError": "errors",
    "DreamRequest": "jobs", "DreamResult": "jobs", "Hooks": "jobs", "Recipe": "jobs",
    "TourRequest": "jobs", "TourResult": "jobs", "VideoRequest": "jobs", "VideoResult": "jobs",
    "ZoomRequest": "jobs", "run_dream": "jobs", "run_tour": "jobs", "run_video": "jobs",
    "run_zoom": "jobs",
    "Objective": "objectives", "channel": "objectives", "channels": "objectives",
    "guide": "objectives", "imagenet_class": "objectives", "layer": "objectives",
    "parse": "objectives",
}

if TYPE_CHECKING:  # the same names, spelled out for type checkers and the API reference
    from .api import Dreamer, resolve_device
    from .config import DreamConfig, FlowConfig, ZoomMotion
    from .dream import CancelToken, OctaveInfo, StepInfo, dream
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
    from .objectives import Objective, channel, channels, guide, imagenet_class, layer, parse


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'inceptionism' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))


class _Package(types.ModuleType):
    """``inceptionism.dream`` is both a submodule and the engine function exported here.
    Importing a submodule binds it on its package, which would hide the function once any
    code imports ``inceptionism.dream``; here the function keeps the name, as it did when
    this file imported everything eagerly."""

    def __setattr__(self, name: str, value) -> None:
        if name == "dream" and isinstance(value, types.ModuleType):
            value = value.dream
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
