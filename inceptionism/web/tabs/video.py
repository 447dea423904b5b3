"""The Video tab: a zoom loop from the Dream tab's photo (with its objective), or a dream over
a short clip. Its two buttons' handlers are ``/zoom`` and ``/video`` in the HTTP API; both
take the same inputs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr

from ...settings import DEFAULT_MODEL, FRAME_CONFIG, FlowConfig, ZoomMotion
from ...errors import InceptionismError
from ...io.images import to_pil
from ...jobs import Hooks, VideoRequest, ZoomRequest, run_video, run_zoom
from ...progress import Eta
from ..studio import (
    Components,
    Studio,
    bind,
    control,
    inputs,
    outputs,
    progress_html,
    run_in_line,
    session_of,
    status_html,
    stop,
    updates,
)
from ..work import Done, Emit, Preview, Progress

MAX_FRAMES = 240  # longest video the page renders
ENCODING = "encoding the video"
_SIDE = re.compile(r"[0-9]{1,9}", re.ASCII)  # the CLI's rule: ASCII digits, 9 at most


@dataclass(frozen=True)
class VideoForm:
    """The inputs of both video buttons; field names and order are those of the
    ``/zoom`` and ``/video`` parameters."""

    photo_path: str | None = control("photo")  # the Dream tab's photo (a zoom's start)
    clip_path: str | None = control("clip")  # the clip to dream over
    objective_text: str | None = control("objective")  # the Dream tab's; "": refused
    model_name: str = control("model", DEFAULT_MODEL)  # and model
    frames_: int = control("frames", 24)
    zoom_: float = control("zoom", ZoomMotion.zoom)
    rotate_: float = control("rotate", ZoomMotion.rotate)
    size_text: str = control("frame_size", "")  # WxH; empty: the photo's size
    fps_: float = control("fps", 24)
    steps_: int = control("frame_steps", FRAME_CONFIG.steps)
    carry_: float = control("carry", FlowConfig.carry)


class VideoView(NamedTuple):
    video_status: Any
    frame_view: Any  # the latest frame
    video_out: Any  # the video's file


def create_ui() -> Components:
    """The tab's components by name (inside a ``gr.Tab``)."""
    gr.Markdown("A zoom loop from the photo of the Dream tab (with its objective), or a dream "
                "over a short clip.")
    with gr.Row():
        ui = dict(
            frames=gr.Slider(2, MAX_FRAMES, 24, step=1, label="Frames", elem_id="frames"),
            zoom=gr.Slider(0.9, 1.2, ZoomMotion.zoom, step=0.005, label="Zoom per frame",
                           elem_id="zoom"),
            rotate=gr.Slider(-5, 5, ZoomMotion.rotate, step=0.1,
                             label="Rotate (degrees per frame)", elem_id="rotate"),
            frame_size=gr.Textbox("", label="Frame size WxH (empty: the photo's)",
                                  elem_id="frame-size"),
            fps=gr.Slider(1, 60, 24, step=1, label="Frames per second", elem_id="fps"),
            frame_steps=gr.Slider(1, 20, FRAME_CONFIG.steps, step=1, label="Steps per octave",
                                  elem_id="frame-steps"),
        )
    with gr.Row():
        ui.update(zoom_btn=gr.Button("Render zoom loop", variant="primary", elem_id="zoom-btn"),
                  video_stop=gr.Button("Stop", variant="stop", elem_id="video-stop"))
    ui["clip"] = gr.File(label="A short clip to dream over", file_types=["video"],
                         type="filepath", elem_id="clip", height=120)
    with gr.Row():
        ui.update(carry=gr.Slider(0, 1, FlowConfig.carry, step=0.05,
                                  label="Carry (share of the dream carried to the next frame)",
                                  elem_id="carry"),
                  clip_btn=gr.Button("Dream over the clip", variant="primary",
                                     elem_id="clip-btn"))
    ui["video_status"] = gr.HTML(status_html(None, "", "idle"), elem_id="video-status")
    with gr.Row():
        ui.update(frame_view=gr.Image(label="Latest frame", interactive=False, type="pil",
                                      elem_id="frame-view", height=240),
                  video_out=gr.Video(label="Video", interactive=False, elem_id="video-out"))
    return ui


def create_event_handlers(studio: Studio, ui: Components, dream_ui: Components) -> None:
    """Bind the handlers below; both read the Dream tab's photo, objective and model."""
    named = inputs(VideoForm, {**dream_ui, **ui})
    shown = outputs(VideoView, ui)
    ui["zoom_btn"].click(bind(zoom, studio), inputs_kwargs=named, outputs=shown, api_name="zoom",
                         concurrency_limit=None, show_progress="hidden")
    ui["clip_btn"].click(bind(clip, studio), inputs_kwargs=named, outputs=shown, api_name="video",
                         concurrency_limit=None, show_progress="hidden")
    ui["video_stop"].click(bind(stop, studio), None, None, queue=False, api_visibility="private")


def frame_size(text: str | None) -> tuple[int, int] | None:
    """A ``WxH`` frame size as (width, height), by the command line's rule; empty: None (the
    photo's own). Whether its pixels are too many is the zoom job's check."""
    text = (text or "").strip()
    if not text:
        return None
    w, sep, h = text.lower().partition("x")
    if not sep or not _SIDE.fullmatch(w) or not _SIDE.fullmatch(h):
        raise InceptionismError(f"'{text}' is not a frame size like 640x360.")
    if int(w) < 2 or int(h) < 2:
        raise InceptionismError(f"'{text}' is too small: frames need at least 2 pixels a side.")
    return int(w), int(h)


def zoom(studio: Studio, request: gr.Request | None = None,
         **controls: Any) -> Iterator[VideoView]:
    """The zoom button (``/zoom``): a zoom loop from the photo (a :class:`VideoForm`, by
    name), streaming the status and each frame, then the video."""
    form = VideoForm(**controls)
    if not form.photo_path:
        raise studio.error("Upload a photo in the Dream tab first.")
    try:
        size = frame_size(form.size_text)
    except InceptionismError as exc:
        raise studio.error(str(exc)) from None
    job = ZoomRequest(input=Path(form.photo_path), frames=int(form.frames_),
                      motion=ZoomMotion(zoom=float(form.zoom_), rotate=float(form.rotate_)),
                      fps=float(form.fps_), size=size,
                      **_common(studio, form, "zoom", session_of(request)))
    yield from _render(studio, session_of(request), job, run_zoom)


def clip(studio: Studio, request: gr.Request | None = None,
         **controls: Any) -> Iterator[VideoView]:
    """The clip button (``/video``): a dream over every frame of the clip (a
    :class:`VideoForm`, by name), streaming the status and each frame, then the video."""
    form = VideoForm(**controls)
    if not form.clip_path:
        raise studio.error("Upload a clip first.")
    job = VideoRequest(input=Path(form.clip_path), frames=int(form.frames_),
                       flow=FlowConfig(carry=float(form.carry_)),
                       **_common(studio, form, "video", session_of(request)))
    yield from _render(studio, session_of(request), job, run_video)


def _common(studio: Studio, form: VideoForm, kind: str, owner: str) -> dict:
    """What both video requests take: a new folder for the video and its frames, the model,
    the objective, the steps (within the owner's limits)."""
    limits = studio.limits(owner)
    try:
        limits.check_steps(int(form.steps_))
    except InceptionismError as exc:
        raise studio.error(str(exc)) from None
    source = Path(form.photo_path if kind == "zoom" else form.clip_path)
    folder = studio.new_folder(owner)
    return dict(outputs=(folder / f"{source.stem}-{kind}.mp4",), model=form.model_name,
                device=studio.device, objectives=(form.objective_text,),
                frames_dir=folder / "frames", max_pixels=limits.max_pixels,
                config=dataclasses.replace(FRAME_CONFIG, steps=int(form.steps_)))


def _render(studio: Studio, session: str, job, run: Callable) -> Iterator[VideoView]:
    token = studio.token(session)
    yield from run_in_line(studio, token, partial(_video_work, studio, job, run), VideoView,
                           partial(_video_view, studio, job.outputs[0]))


class _FrameProgress:
    """Each stored frame as a progress event and a preview."""

    def __init__(self, emit: Emit):
        self.emit = emit
        self.eta = Eta()

    def frame(self, info) -> None:
        done = info.index + 1
        self.emit(Progress(done, info.frames, f"frame {done}/{info.frames}",
                           self.eta.update(done, info.frames)))
        if info.image is not None:
            self.emit(Preview(to_pil(info.image), f"frame {done}"))

    def encode(self, path: Path) -> None:
        self.emit(Progress(1, 1, ENCODING, None))


def _video_work(studio: Studio, job, run: Callable, emit: Emit, token):
    """Run in the job's thread: the frames, then the video."""
    report = _FrameProgress(emit)
    hooks = Hooks(on_frame=report.frame, on_encode=report.encode, cancel=token)
    return run(job, hooks, dreamer=studio.dreamer(job.model))


def _video_view(studio: Studio, output: Path, event) -> VideoView:
    """One event of the video's thread as page updates."""
    if isinstance(event, Progress):
        text = status_html(1.0, "Encoding the video…") if event.text == ENCODING else \
            progress_html(event)
        return updates(VideoView, video_status=text)
    if isinstance(event, Preview):
        return updates(VideoView, frame_view=event.image)
    if isinstance(event, Done):
        r = event.result
        return updates(VideoView, video_status=status_html(
            1.0, f"Done: {r.frames} frames at {r.fps:g} fps.", "done"), video_out=str(output))
    if event.cancelled:
        return updates(VideoView, video_status=status_html(None, "Stopped.", "stopped"))
    raise studio.error(event.message)
