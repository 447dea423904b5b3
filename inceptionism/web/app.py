"""The dream studio page: Gradio Blocks over the jobs layer, composed of its tabs.

Tabs (``tabs/``): Dream (a photo, the objective and every setting; live previews, a progress
bar with ETA, Stop; the result as a PNG with its parameters; re-run from a dropped earlier
output), Layer tour (the photo dreamed at every layer; a click on a tile uses that layer in
the Dream tab), Video (a zoom loop from the photo, or a dream over a short clip) and Channel
atlas (a layer's channels visualized from noise; a click on a cell dreams the photo with it).

Every handler is thin: it builds a jobs-layer request from its inputs (by name), runs it
through :mod:`.work` (a worker thread, events back), waits its turn in :class:`.slots.Slots`,
and formats what comes back (:mod:`.studio`). Uploads are read only by the library's own
loaders, so a bad file gets the CLI's one-sentence message (with the server's folders taken
out of it).

Gradio gives the job buttons a documented HTTP API (``/dream``, ``/tour``, ``/zoom``,
``/video``, ``/atlas``), used by ``gradio_client``.
"""

from __future__ import annotations

import gradio as gr

from .studio import Studio
from .tabs import atlas, dream, tour, video

CSS = """
.inc-status { min-height: 1.6em; }
.inc-status progress { width: 100%; height: 0.8em; }
.inc-status[data-state=error] .inc-text { color: #b00020; }
"""


def build(studio: Studio) -> gr.Blocks:
    """The page. ``studio`` holds the server's shared state; each tab binds its handlers."""
    with gr.Blocks(title="inceptionism studio", analytics_enabled=False) as page:
        gr.Markdown("# inceptionism studio\nDeepDream on your photos. Jobs take turns, one "
                    "each in the line; results stay in this page only.")
        with gr.Tabs(selected="dream") as tabs:
            with gr.Tab("Dream", id="dream"):
                dream_ui = dream.create_ui()
            with gr.Tab("Layer tour", id="tour"):
                tour_ui = tour.create_ui()
            with gr.Tab("Video", id="video"):
                video_ui = video.create_ui()
            atlas.create_tab(studio, dream_ui, tabs)
        dream.create_event_handlers(studio, dream_ui)
        tour.create_event_handlers(studio, tour_ui, dream_ui, tabs)
        video.create_event_handlers(studio, video_ui, dream_ui)
    return page
