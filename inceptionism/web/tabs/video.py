"""The Video tab: a zoom loop from the Dream tab's photo (with its objective), or a dream over
a short clip. Its two buttons' handlers are ``/zoom`` and ``/video`` in the HTTP API; both
take the same inputs.

A new render first clears the last video; the status follows each frame's dream steps, so a
large frame shows progress from its first step; a stopped render says how far it got and
offers no video. A zoom loop closes (its last quarter fades back to the first frame) unless
asked not to, and the video plays round.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr

from ...settings import DEFAULT_MODEL, FRAME_CONFIG, FlowConfig, ZoomMotion, parse_size
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
    loop_: bool = control("loop", True)  # the zoom's last quarter fades back to its start
    steady_: float = control("steady", FlowConfig.temporal)  # a clip's temporal term; 0: off


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
            loop=gr.Checkbox(True, label="Loop: the last quarter fades back to the first frame",
                             elem_id="loop"),
        )
    with gr.Row():
        ui.update(zoom_btn=gr.Button("Render zoom loop", variant="primary", elem_id="zoom-btn"),
                  video_stop=gr.Button("Stop", variant="stop", elem_id="video-stop"))
    ui["clip"] = gr.File(label="A short clip to dream over", file_types=["video"],
                         type="filepath", elem_id="clip", height=120)
    with gr.Row():
        ui.update(carry=gr.Slider(0, 1, FlowConfig.carry, step=0.01,
                                  label="Carry (share of the dream carried to the next frame)",
                                  elem_id="carry"),
                  steady=gr.Slider(0, 1000, FlowConfig.temporal, step=10,
                                   label="Steadiness (holds the dream on the scene; 0: off, "
                                         "then carry about 0.6)", elem_id="steady"),
                  clip_btn=gr.Button("Dream over the clip", variant="primary",
                                     elem_id="clip-btn"))
    ui["video_status"] = gr.HTML(status_html(None, "", "idle"), elem_id="video-status")
    with gr.Row():
        ui.update(frame_view=gr.Image(label="Latest frame", interactive=False, type="pil",
                                      elem_id="frame-view", height=240),
                  video_out=gr.Video(label="Video", interactive=False, elem_id="video-out",
                                     loop=True))
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
    """A ``WxH`` frame size as (width, height), read by the library's one rule
    (:func:`inceptionism.settings.parse_size`); empty: None (the photo's own). Whether its
    pixels are too many is the zoom job's check."""
    return parse_size(text)


def loop_frames(frames: int, loop: bool) -> int:
    """How many frames close a zoom loop: its last quarter (at least one), or none."""
    return min(max(1, frames // 4), frames - 1) if loop and frames > 1 else 0


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
    frames = int(form.frames_)
    job = ZoomRequest(input=Path(form.photo_path), frames=frames,
                      motion=ZoomMotion(zoom=float(form.zoom_), rotate=float(form.rotate_)),
                      fps=float(form.fps_), size=size, loop=loop_frames(frames, bool(form.loop_)),
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
                       flow=FlowConfig(carry=float(form.carry_), temporal=float(form.steady_)),
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
    yield VideoView(gr.skip(), None, None)  # the last render's frame and video go at once
    yield from run_in_line(studio, token, partial(_video_work, studio, job, run), VideoView,
                           _VideoView(studio, job.outputs[0]))


class FrameProgress:
    """Each dream step as progress within its frame (a large frame shows progress from its
    first step), each stored frame as a preview."""

    def __init__(self, emit: Emit, frames: int | None):
        self.emit = emit
        self.eta = Eta()
        self.frames = frames  # None: a clip's length, known once its first frame is stored
        self.frame_index = 0  # the frame being dreamed

    def step(self, info) -> None:
        done, total = info.work
        where = f"octave {info.octave + 1}/{info.octaves}, step {info.step + 1}/{info.steps}"
        if not self.frames:
            h, w = info.sizes[-1] if info.sizes else info.size
            self.emit(Progress(done, total, f"first frame ({w}x{h}), {where}",
                               self.eta.update(done, total)))
            return
        at = self.frame_index + done / total
        self.emit(Progress(round(at * total), self.frames * total,
                           f"frame {self.frame_index + 1}/{self.frames}, {where}",
                           self.eta.update(at, self.frames)))

    def frame(self, info) -> None:
        done = info.index + 1
        if self.frames is None:  # the first frame's own estimate was in its pixel-steps
            self.eta = Eta()
        self.frame_index, self.frames = done, info.frames
        self.emit(Progress(done, info.frames, f"frame {done}/{info.frames}",
                           self.eta.update(done, info.frames)))
        if info.image is not None:
            self.emit(Preview(to_pil(info.image), f"frame {done}"))

    def encode(self, path: Path) -> None:
        self.emit(Progress(1, 1, ENCODING, None))


def _video_work(studio: Studio, job, run: Callable, emit: Emit, token):
    """Run in the job's thread: the frames, then the video."""
    report = FrameProgress(emit, job.frames)
    size = getattr(job, "size", None)  # a zoom's frame size, when not the photo's
    emit(Progress(0, 1, f"preparing the {size[0]}x{size[1]} frames" if size else
                  "preparing the frames", None))
    hooks = Hooks(on_step=report.step, on_frame=report.frame, on_encode=report.encode,
                  cancel=token)
    return run(job, hooks, dreamer=studio.dreamer(job.model))


class _VideoView:
    """The video's events as page updates."""

    def __init__(self, studio: Studio, output: Path):
        self.studio, self.output = studio, output

    def __call__(self, event) -> VideoView:
        if isinstance(event, Progress):
            text = status_html(1.0, "Encoding the video…") if event.text == ENCODING else \
                progress_html(event)
            return updates(VideoView, video_status=text)
        if isinstance(event, Preview):
            return updates(VideoView, frame_view=event.image)
        if isinstance(event, Done):
            r = event.result
            return updates(VideoView, video_status=status_html(
                1.0, f"Done: {r.frames} frames at {r.fps:g} fps.", "done"),
                video_out=str(self.output))
        if event.cancelled:
            return updates(VideoView, video_status=status_html(
                None, "Stopped; no video was made (only a finished render has one).",
                "stopped"))
        raise self.studio.error(event.message)
