"""inceptionism: DeepDream images with pretrained ImageNet networks.

The public names below are loaded on first use (PEP 562 ``__getattr__``), so that
``inceptionism --help`` and other light commands never import PyTorch, which alone takes a
second or more to load. ``inceptionism.dream`` is the engine function; the engine's module
is ``inceptionism.engine.loop``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .version import __version__

if TYPE_CHECKING:  # where each public name lives (read by type checkers and docs tools)
    from .api import Dreamer, resolve_device
    from .engine.loop import CancelToken, OctaveInfo, StepInfo, dream
    from .engine.objectives import (
        Objective,
        channel,
        channels,
        guide,
        imagenet_class,
        layer,
        parse,
    )
    from .errors import Cancelled, InceptionismError
    from .jobs.base import Hooks
    from .jobs.recipe import Recipe
    from .jobs.still import DreamRequest, DreamResult, run_dream
    from .jobs.tour import TourRequest, TourResult, run_tour
    from .jobs.video import (
        VideoRequest,
        VideoResult,
        ZoomRequest,
        run_video,
        run_zoom,
    )
    from .settings import DreamConfig, FlowConfig, ZoomMotion

# Each public name and the module it lives in, relative to this package (the same as above).
_HOMES = {
    "Dreamer": "api", "resolve_device": "api",
    "CancelToken": "engine.loop", "OctaveInfo": "engine.loop", "StepInfo": "engine.loop",
    "dream": "engine.loop",
    "Objective": "engine.objectives", "channel": "engine.objectives",
    "channels": "engine.objectives", "guide": "engine.objectives",
    "imagenet_class": "engine.objectives", "layer": "engine.objectives",
    "parse": "engine.objectives",
    "Cancelled": "errors", "InceptionismError": "errors",
    "Hooks": "jobs.base", "Recipe": "jobs.recipe",
    "DreamRequest": "jobs.still", "DreamResult": "jobs.still", "run_dream": "jobs.still",
    "TourRequest": "jobs.tour", "TourResult": "jobs.tour", "run_tour": "jobs.tour",
    "VideoRequest": "jobs.video", "VideoResult": "jobs.video", "ZoomRequest": "jobs.video",
    "run_video": "jobs.video", "run_zoom": "jobs.video",
    "DreamConfig": "settings", "FlowConfig": "settings", "ZoomMotion": "settings",
}


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'inceptionism' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


__all__ = sorted([*_HOMES, "__version__"])
