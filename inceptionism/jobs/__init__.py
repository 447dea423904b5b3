"""Jobs: one function per workflow, shared by every front end (CLI, web page, batch runner).

Each job takes a typed request (a frozen dataclass), does the checks, the work and the
writing, and returns a typed result. Progress, notes and cancellation go through
:class:`Hooks`. Errors are :class:`~inceptionism.errors.InceptionismError` with messages in
domain words; a front end may word ``error.remedy`` in its own terms (the CLI names options).

    from inceptionism.jobs import DreamRequest, Hooks, run_dream
    result = run_dream(DreamRequest(input=Path("cat.png"), output=Path("dream.png")))
    again = run_dream(DreamRequest(input=Path("cat.png"), params_from=Path("dream.png")))

Layers (each imports only those below it): front ends (cli/, web/) -> jobs -> api, video,
engine, parallel -> models -> io, settings, errors.
"""

from ..engine.loop import CancelToken, OctaveInfo, StepInfo
from ..errors import Cancelled
from .atlas import AtlasRequest, AtlasResult, run_atlas
from .base import Hooks
from .batch import BatchRequest, BatchResult, run_batch
from .recipe import Recipe, output_metadata
from .still import DreamRequest, DreamResult, run_dream
from .tour import TourRequest, TourResult, run_tour
from .video import VideoRequest, VideoResult, ZoomRequest, run_video, run_zoom

__all__ = [
    "AtlasRequest",
    "AtlasResult",
    "BatchRequest",
    "BatchResult",
    "CancelToken",
    "Cancelled",
    "DreamRequest",
    "DreamResult",
    "Hooks",
    "OctaveInfo",
    "Recipe",
    "StepInfo",
    "TourRequest",
    "TourResult",
    "VideoRequest",
    "VideoResult",
    "ZoomRequest",
    "output_metadata",
    "run_atlas",
    "run_batch",
    "run_dream",
    "run_tour",
    "run_video",
    "run_zoom",
]
