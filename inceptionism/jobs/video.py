"""The video jobs: a zoom loop from a photo, and a dream over every frame of a video.

Both render frames into a frames folder (kept, so an interrupted or cancelled render
resumes from its last stored frame when the same request runs again) and then encode every
output (.mp4 and/or .gif).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api import Dreamer
from ..engine.objectives import check_given
from ..errors import Cancelled, InceptionismError, Interrupted
from ..io.files import file_sha256
from ..io.images import is_still_image, load_image, load_mask, pil_to_rgb, to_pil
from ..settings import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MODEL,
    FPS,
    FRAMES,
    FRAME_CONFIG,
    LOOP_FRAMES,
    DreamConfig,
    FlowConfig,
    ZoomMotion,
    get_preset,
)
from ..video.codec import check_video_output, encode, probe, read_frames
from ..video.loops import render_video, render_zoom
from ..video.store import FrameStore, default_frames_dir, save_mask
from .base import Hooks, require_file


@dataclass(frozen=True)
class VideoOptions:
    """What zoom and video requests share: outputs, model, objectives, frames folder."""

    outputs: Sequence[Path] = ()  # .mp4 and/or .gif files to write (at least one)
    model: str = DEFAULT_MODEL
    weights: Path | None = None  # a state-dict file instead of the model's own weights
    device: str = "cpu"
    mask: Path | None = None  # white: dream, black: keep the picture (resized to the frames)
    objectives: Sequence[str | None] = (None,)  # cycled over the video (None: model default)
    cycle_every: int | None = None  # frames per objective (None: they share the video evenly)
    frames_dir: Path | None = None  # where frames are kept (None: first output + .frames)
    restart: bool = False  # discard the frames already in the folder
    config: DreamConfig = FRAME_CONFIG  # per-frame dream settings (lighter than a still's)
    preset: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)  # DreamConfig fields that win
    max_pixels: int = DEFAULT_MAX_PIXELS  # refuse larger inputs (per frame for a video)
    overwrite: bool = False  # replace existing outputs
    preprocess: str | None = None  # input convention instead of the model's own


@dataclass(frozen=True)
class ZoomRequest(VideoOptions):
    """A zoom loop: frame 0 is ``input`` dreamed; each later frame is the previous one moved
    by ``motion`` and dreamed again."""

    input: Path = Path()  # the photo
    frames: int = 100
    motion: ZoomMotion = ZoomMotion()
    fps: float = 24.0
    size: tuple[int, int] | None = None  # (width, height): scale and centre-crop the photo
    loop: int = 0  # the last N frames fade back to the first, so it plays round (0: once)


@dataclass(frozen=True)
class VideoRequest(VideoOptions):
    """Dream every frame of the video ``input``, carrying the dream along the optical flow."""

    input: Path = Path()  # the video
    flow: FlowConfig = FlowConfig()
    frames: int | None = None  # only the first N frames (None: all)
    fps: float | None = None  # output frame rate (None: the input's)
    # Long videos in parallel (inceptionism.video.segments): the clip in `segments` parts dreamed
    # independently, each starting `warmup` frames early (None: segments.default_warmup), on
    # `workers` local processes with `threads` each (None: the cores shared out), or on Ray
    # (`ray`: None no; "" a local cluster; else its address), joined in order with the sound.
    segments: int = 1
    warmup: int | None = None
    workers: int = 1
    threads: int | None = None
    ray: str | None = None
    # A folder for each frame's consistency mask as a PNG (white: carried and held by the
    # temporal term; black: dreamed afresh), for a person to look at; unsplit renders only.
    debug_masks: Path | None = None


@dataclass(frozen=True)
class VideoResult:
    outputs: tuple[Path, ...]  # the files written
    frames: int  # frames in the video
    fps: float
    frames_dir: Path  # where the frames stay
    notes: tuple[str, ...] = ()
    cuts: tuple[int, ...] = ()  # frames where the scene changed and the dream started afresh


def _config(request: VideoOptions) -> DreamConfig:
    """The request's settings, checked (its objectives too: a blank one is no objective)."""
    for objective in request.objectives:
        check_given(objective)
    config = request.config
    if request.preset is not None:
        config = get_preset(request.preset).apply(config)
    config = dataclasses.replace(config, **request.overrides)
    config.validate()
    return config


def _sources(request: VideoOptions, input: Path) -> tuple[Path, ...]:
    """The files a video job reads: never written, nor deleted with a frames folder."""
    return tuple(p for p in (input, request.weights) if p is not None)


def _check_outputs(request: VideoOptions, input: Path) -> FrameStore:
    """Refuse, before any work, outputs that must not be written; return the frames store,
    already checked not to hold (and so never to delete) a file the job reads."""
    if not request.outputs:
        raise InceptionismError("A video job needs at least one output.")
    if len(set(request.outputs)) < len(request.outputs):
        raise InceptionismError("The same output is given twice.", remedy="same_output",
                                problem="The same output is given twice")
    for output in request.outputs:  # fail before any work
        check_video_output(output, request.overwrite, inputs=_sources(request, input))
    store = FrameStore(request.frames_dir or default_frames_dir(request.outputs[0]))
    store.protect(_sources(request, input))
    return store


def _render_and_encode(request: VideoOptions, render: Callable, store: FrameStore, frames: int,
                       fps: float, audio: Path | None, trim_audio: bool, hooks: Hooks,
                       notes: list[str]) -> VideoResult:
    """Render, then encode every output. An interruption (Ctrl-C, or the cancel token) ends
    with one sentence saying how many frames are safe and that the same request resumes."""
    try:
        try:
            made = render()
        finally:
            for note in store.notes:  # frames found damaged, and rendered again
                hooks.note(note)
        for output in request.outputs:
            if hooks.on_encode is not None:
                hooks.on_encode(output)
            for note in encode(store, made, output, fps, audio, trim_audio=trim_audio,
                               force=request.overwrite):
                hooks.note(note)
    except (KeyboardInterrupt, Cancelled) as exc:
        safe = min(store.count(), frames)
        kind = Interrupted if isinstance(exc, KeyboardInterrupt) else Cancelled
        what = "interrupted" if kind is Interrupted else "cancelled"
        raise kind(
            f"{what}; {safe} of {frames} frames are safe in {store.folder}, and running the "
            "same command again resumes from there."
        ) from None
    return VideoResult(tuple(request.outputs), made, float(fps), store.folder, tuple(notes))


def _dreamer(request: VideoOptions, dreamer: Dreamer | None, hooks: Hooks) -> Dreamer:
    return dreamer or hooks.load(request.model, request.weights, request.device,
                                 max_pixels=request.max_pixels, preprocess=request.preprocess)


def _mask(request: VideoOptions, size: tuple[int, int]):
    """The mask for frames of ``size`` (width, height), or None."""
    if request.mask is None:
        return None
    require_file(request.mask, "Mask")
    return load_mask(request.mask, size, request.max_pixels)


def run_zoom(request: ZoomRequest, hooks: Hooks | None = None,
              dreamer: Dreamer | None = None) -> VideoResult:
    """Render (or resume) a zoom loop and encode it."""
    from PIL import Image, ImageOps

    notes: list[str] = []
    hooks = (hooks or Hooks()).collecting(notes)
    config = _config(request)
    request.motion.validate()
    FRAMES.check(request.frames)
    LOOP_FRAMES.check(request.loop)
    if request.loop >= request.frames:
        raise InceptionismError(f"A loop closed over {request.loop} frames needs more than "
                                f"{request.loop} frames (got {request.frames}).")
    FPS.check(request.fps)  # before the frames are rendered, not when they are encoded
    store = _check_outputs(request, request.input)
    image = load_image(request.input, max_pixels=request.max_pixels)
    dreamer = _dreamer(request, dreamer, hooks)
    # The frame size, not the photo's, is what each frame dreams: checked before it is made.
    dreamer.check_size(*(request.size or image.size), config, "frame")
    rgb = image.rgb
    if image.alpha is not None:
        hooks.note(f"videos are opaque, so the transparency of {request.input.name} is dropped.")
    if request.size is not None and request.size != image.size:
        fitted = ImageOps.fit(to_pil(rgb), request.size, method=Image.Resampling.BICUBIC)
        rgb, _ = pil_to_rgb(fitted)
    del image  # the photo at full size is not needed while the frames are dreamed
    mask = _mask(request, (rgb.shape[1], rgb.shape[0]))

    def render() -> int:
        return render_zoom(dreamer, rgb, store, request.frames, list(request.objectives),
                           request.motion, config, cycle_every=request.cycle_every,
                           restart=request.restart, on_frame=hooks.on_frame, cancel=hooks.cancel,
                           mask=mask, loop=request.loop, on_step=hooks.on_step)

    return _render_and_encode(request, render, store, request.frames, request.fps, None, False,
                              hooks, notes)


def run_video(request: VideoRequest, hooks: Hooks | None = None,
              dreamer: Dreamer | None = None) -> VideoResult:
    """Dream (or resume dreaming) a video's frames and encode them, keeping its sound."""
    notes: list[str] = []
    hooks = (hooks or Hooks()).collecting(notes)
    config = _config(request)
    request.flow.validate()
    if is_still_image(request.input):
        raise InceptionismError(f"Input {request.input} is a still image, not a video; a zoom "
                                "makes a video from a photo.", remedy="zoom",
                                problem=f"Input {request.input} is a still image, not a video")
    if request.frames is not None:
        FRAMES.check(request.frames)
    if request.fps is not None:
        FPS.check(request.fps)
    store = _check_outputs(request, request.input)
    on_frame = _frame_reporter(request, hooks)  # before any work: checks the masks folder
    info = probe(request.input)
    if info.width * info.height > request.max_pixels:
        problem = (f"Input {request.input} is {info.width}x{info.height}, more than the limit of "
                   f"{request.max_pixels} pixels per frame")
        raise InceptionismError(f"{problem}.", remedy="pixel_limit", problem=problem)
    if info.frames < 1:
        raise InceptionismError(f"Input {request.input} holds no video frames.")
    total = min(request.frames or info.frames, info.frames)
    mask = _mask(request, (info.width, info.height))
    dreamer = _dreamer(request, dreamer, hooks)
    dreamer.check_size(info.width, info.height, config, "frame")  # before any frame
    source_id = file_sha256(request.input)

    if request.segments == 1 and (request.warmup is not None or request.ray is not None
                                  or request.workers > 1):
        raise InceptionismError("Warm-up, workers and Ray split a video: ask for segments too.",
                                remedy="segments", problem="Warm-up, workers and Ray split a video")

    def render() -> int:
        if request.segments > 1:
            return _render_segments(request, dreamer, store, total, source_id, config, hooks, mask)
        return render_video(dreamer, read_frames(request.input, request.max_pixels), store, total,
                            source_id, list(request.objectives), request.flow, config,
                            cycle_every=request.cycle_every, restart=request.restart,
                            on_frame=on_frame, cancel=hooks.cancel, mask=mask)

    audio = request.input if info.has_audio else None
    result = _render_and_encode(request, render, store, total, request.fps or info.fps, audio,
                                total < info.frames, hooks, notes)
    return dataclasses.replace(result, cuts=tuple(store.cuts()))


def cut_note(index: int) -> str:
    return f"frame {index} starts a new scene (a cut), so its dream starts afresh."


def _frame_reporter(request: VideoRequest, hooks: Hooks):
    """The frame callback of an unsplit video: says where a cut starts the dream afresh,
    writes the consistency masks asked for, then calls the caller's own."""
    folder = request.debug_masks
    if folder is not None:
        if request.segments > 1:
            raise InceptionismError("Masks are written by an unsplit render; leave out the "
                                    "segments to look at them.")
        if Path(folder).exists() and not Path(folder).is_dir():
            raise InceptionismError(f"The masks folder {folder} is a file, not a folder.")

    def on_frame(info) -> None:
        if info.cut:
            hooks.note(cut_note(info.index))
        if folder is not None and info.mask is not None:
            save_mask(folder, info.index, info.mask)
        if hooks.on_frame is not None:
            hooks.on_frame(info)

    return on_frame


def _render_segments(request: VideoRequest, dreamer: Dreamer, store: FrameStore, total: int,
                     source_id: str, config: DreamConfig, hooks: Hooks, mask) -> int:
    """A split render: here, on local worker processes, or on Ray (see segments.py)."""
    from ..parallel.local import default_threads
    from ..video.segments import default_warmup, process_runner, ray_runner, render_segments

    weights = str(request.weights) if request.weights else None
    if getattr(request, "preprocess", None) is not None and (request.ray is not None
                                                            or request.workers > 1):
        raise InceptionismError("Segments dreamed by other workers use the model's own input "
                                "convention; leave the preprocessing as it is.")
    if request.ray is not None:
        runner = ray_runner(request.input, request.ray or None, request.model, weights,
                            request.device, request.workers if request.workers > 1 else None,
                            request.threads or 1, request.max_pixels)
    elif request.workers > 1:
        runner = process_runner(request.input, store.folder, request.model, weights,
                                request.device, request.workers,
                                request.threads or default_threads(request.workers),
                                request.max_pixels)
    else:
        runner = None
    warmup = (default_warmup(request.flow.carry, request.flow.temporal) if request.warmup is None
              else request.warmup)
    return render_segments(dreamer, request.input, store, total, source_id, request.segments,
                           warmup, list(request.objectives), request.flow, config,
                           cycle_every=request.cycle_every, restart=request.restart,
                           on_frame=hooks.on_frame, runner=runner, max_pixels=request.max_pixels,
                           mask=mask, cancel=hooks.cancel,
                           on_cut=lambda index, _: hooks.note(cut_note(index)))
