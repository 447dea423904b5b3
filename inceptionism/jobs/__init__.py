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

from __future__ import annotations

import importlib

# Each name is imported from its module on first use (PEP 562), so a command loads only
# its own job: the zoom does not import the batch runner, Ray's glue or the contact sheet.
_HOMES = {
    "CancelToken": "..engine.loop", "OctaveInfo": "..engine.loop", "StepInfo": "..engine.loop",
    "Cancelled": "..errors",
    "AtlasRequest": ".atlas", "AtlasResult": ".atlas", "run_atlas": ".atlas",
    "Hooks": ".base",
    "BatchRequest": ".batch", "BatchResult": ".batch", "run_batch": ".batch",
    "Recipe": ".recipe", "output_metadata": ".recipe",
    "DreamRequest": ".still", "DreamResult": ".still", "run_dream": ".still",
    "TourRequest": ".tour", "TourResult": ".tour", "run_tour": ".tour",
    "VideoRequest": ".video", "VideoResult": ".video", "ZoomRequest": ".video",
    "run_video": ".video", "run_zoom": ".video",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
