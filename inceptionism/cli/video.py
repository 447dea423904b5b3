"""`inceptionism zoom` and `inceptionism video`: zoom loops and dreamed videos (the video jobs)."""

from __future__ import annotations

from pathlib import Path

import click

from ..settings import (
    CARRY,
    CUT,
    MOTION_EDGES,
    OCCLUSION,
    TEMPORAL,
    FPS,
    FRAMES,
    FRAME_CONFIG,
    LOOP_FRAMES,
    MOTION,
    SEGMENTS,
    WARMUP,
    WORKERS,
    FlowConfig,
    ZoomMotion,
)
from .options import (
    RAY_HELP,
    Checked,
    SizeType,
    config_options,
    model_options,
    threads_option,
    video_options,
    video_request,
)
from .report import FrameProgress, loading, note, quiet_warnings


def _render(job, request, quiet: bool, folder: Path) -> None:
    """Run a video job with a frame-rate bar; report what was written."""
    from ..jobs import Hooks

    quiet_warnings(quiet)
    progress = FrameProgress(enabled=not quiet, folder=folder)
    hooks = Hooks(on_frame=progress, on_note=note, on_loading=loading(quiet),
                  on_encode=None if quiet else lambda p: click.echo(f"encoding {p}", err=True))
    try:
        result = job(request, hooks)
    finally:
        progress.close()
    if not quiet:
        click.echo(f"wrote {', '.join(map(str, result.outputs))} ({result.frames} frames at "
                   f"{result.fps:g} fps); the frames stay in {result.frames_dir}", err=True)


@click.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("--frames", type=Checked(FRAMES), default=100, show_default=True,
              help="Number of frames to render.")
@click.option("--zoom", type=Checked(MOTION["zoom"]), default=ZoomMotion.zoom, show_default=True,
              help="Scale per frame: above 1 flies in, below 1 flies out.")
@click.option("--rotate", type=Checked(MOTION["rotate"]), default=ZoomMotion.rotate, show_default=True,
              help="Degrees per frame, counter-clockwise.")
@click.option("--shift", type=(Checked(MOTION["shift"]), Checked(MOTION["shift"])), default=ZoomMotion.shift, show_default=True,
              metavar="DX DY", help="Pixels per frame to move the view, right and down.")
@click.option("--fps", type=Checked(FPS), default=24, show_default=True,
              help="Frame rate of the video.")
@click.option("--size", type=SizeType(), default=None,
              help="Frame size, e.g. 640x360: the input is scaled and centre-cropped to fill it. "
                   "Default: the input's size.")
@click.option("--loop", type=Checked(LOOP_FRAMES), default=0, show_default=True, metavar="N",
              help="Close the loop: the last N frames fade back to the first, so the video "
                   "plays round without a jump (0: a flight that plays once).")
@video_options
@model_options
@config_options(defaults=FRAME_CONFIG)
def zoom(input: Path, outputs: tuple[Path, ...], frames: int, zoom: float, rotate: float,
         shift: tuple[float, float], fps: float, size: tuple[int, int] | None, loop: int,
         cycle: tuple[str, ...],
         cycle_every: int | None, frames_dir: Path | None, restart: bool, mask: Path | None,
         max_pixels: int, force: bool, quiet: bool, model: str, objective: str | None,
         weights: Path | None, device: str, preprocess: str | None, **kwargs) -> None:
    """Render a zoom loop from the photo INPUT: each frame is the previous one zoomed in a
    little and dreamed again. Interrupted renders resume when the same command is run again.

    Example: inceptionism zoom cat.png -o dream.mp4 --frames 120 --size 640x360
    """
    from ..video.store import default_frames_dir
    from ..jobs import ZoomRequest, run_zoom

    request = ZoomRequest(**video_request(
        kwargs, objective, cycle, outputs, input=input, frames=frames, fps=fps, size=size,
        loop=loop, motion=ZoomMotion(zoom=zoom, rotate=rotate, shift=shift), cycle_every=cycle_every,
        frames_dir=frames_dir, restart=restart, max_pixels=max_pixels, overwrite=force,
        model=model, weights=weights, device=device, config=FRAME_CONFIG, mask=mask,
        preprocess=preprocess))
    _render(run_zoom, request, quiet, frames_dir or default_frames_dir(outputs[0]))


@click.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("--carry", type=Checked(CARRY), default=FlowConfig.carry, show_default=True,
              help="Share of the previous frame's dream carried into the next (0: each frame "
                   "dreamed on its own). With --temporal 0 use less than 1 (e.g. 0.6), or the "
                   "dream grows from frame to frame.")
@click.option("--flow/--no-flow", default=FlowConfig.flow, show_default=True,
              help="Carry the dream along the optical flow between input frames, so it moves "
                   "with the scene; --no-flow carries it in place.")
@click.option("--temporal", type=Checked(TEMPORAL), default=FlowConfig.temporal, show_default=True,
              help="Strength of the temporal term: where the flow is consistent, each pixel is "
                   "held near the previous frame's dream carried along it, so the dream sits on "
                   "the scene instead of flickering (0: off; see docs/videos.md).")
@click.option("--occlusion", type=Checked(OCCLUSION), default=FlowConfig.occlusion,
              show_default=True, metavar="PX2",
              help="Consistency mask: a pixel has no past (and is dreamed afresh) where its "
                   "forward and backward flows miss each other by more than this many squared "
                   "pixels (plus 1% of their squared lengths).")
@click.option("--motion-edges", type=Checked(MOTION_EDGES), default=FlowConfig.motion_edges,
              show_default=True,
              help="Consistency mask: a pixel on a motion boundary (flow gradient squared above "
                   "this plus 1% of the squared flow) has no past.")
@click.option("--cut", type=Checked(CUT), default=FlowConfig.cut, show_default=True,
              help="A scene change starts the dream afresh: colour histograms of two frames "
                   "differing by more than this (0-1), or the flow failing for two thirds of "
                   "the pixels (1: never).")
@click.option("--coherent-jitter/--fresh-jitter", "coherent", default=FlowConfig.coherent,
              show_default=True,
              help="The same jitter offsets for every frame, or new ones per frame.")
@click.option("--debug-masks", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Write each frame's consistency mask to DIR as a PNG (white: carried and "
                   "held; black: dreamed afresh), to look at.")
@click.option("--frames", type=Checked(FRAMES), default=None,
              help="Dream only the first N frames (a preview). Default: all.")
@click.option("--fps", type=Checked(FPS), default=None,
              help="Frame rate of the output. Default: the input's (another rate changes the "
                   "speed of the picture, not of the sound).")
@click.option("--segments", type=Checked(SEGMENTS), default=1, show_default=True,
              help="Split the clip into this many segments dreamed independently (in parallel "
                   "with --workers or --ray), joined in order with the sound.")
@click.option("--warmup", type=Checked(WARMUP), default=None, metavar="K",
              help="Each segment starts dreaming K frames before its first kept frame (thrown "
                   "away), so the carried dream has built up at the seam. Default: enough for "
                   "the cold start to fade below 15% (4 at --carry 0.6 with --temporal 0; none "
                   "with the temporal term, where the dream does not fade; see docs/scaling.md).")
@click.option("--workers", type=Checked(WORKERS), default=1, show_default=True,
              help="With --segments: local worker processes, one segment each at a time "
                   "(with --ray: how many Ray actors; default there: one per CPU).")
@threads_option
@click.option("--ray", "ray_address", is_flag=False, flag_value="", default=None,
              metavar="[ADDRESS]", help="With --segments: " + RAY_HELP)
@video_options
@model_options
@config_options(defaults=FRAME_CONFIG)
def video(input: Path, outputs: tuple[Path, ...], carry: float, flow: bool, temporal: float,
          occlusion: float, motion_edges: float, cut: float, coherent: bool,
          debug_masks: Path | None, frames: int | None,
          fps: float | None, segments: int, warmup: int | None, workers: int,
          threads: int | None, ray_address: str | None, cycle: tuple[str, ...],
          cycle_every: int | None, frames_dir: Path | None, restart: bool, mask: Path | None,
          max_pixels: int, force: bool, quiet: bool, model: str, objective: str | None,
          weights: Path | None, device: str, preprocess: str | None, **kwargs) -> None:
    """Dream every frame of the video INPUT, carrying each frame's dream to the next along
    the optical flow so it moves with the scene, and holding it there (the temporal term)
    except where the scene is new; a cut starts the dream afresh. The sound of INPUT is kept
    in an MP4. Interrupted renders resume when the same command is run again.

    Long clips can be split: --segments N dreams N parts independently (each warming up
    --warmup frames early), locally with --workers or on a Ray cluster with --ray. Zoom loops
    cannot be split (each frame is the previous dreamed frame, zoomed).

    \b
    Example: inceptionism video clip.mp4 -o dream.mp4 --layers b8
             inceptionism video clip.mp4 -o dream.mp4 --segments 4 --workers 2
    """
    from ..video.store import default_frames_dir
    from ..jobs import VideoRequest, run_video

    flow_config = FlowConfig(carry=carry, flow=flow, temporal=temporal, occlusion=occlusion,
                             motion_edges=motion_edges, cut=cut, coherent=coherent)
    request = VideoRequest(**video_request(
        kwargs, objective, cycle, outputs, input=input, flow=flow_config, debug_masks=debug_masks,
        frames=frames, fps=fps, cycle_every=cycle_every, frames_dir=frames_dir, restart=restart,
        max_pixels=max_pixels, overwrite=force, model=model, weights=weights, device=device,
        config=FRAME_CONFIG, mask=mask, preprocess=preprocess, segments=segments,
        warmup=warmup, workers=workers, threads=threads, ray=ray_address))
    _render(run_video, request, quiet, frames_dir or default_frames_dir(outputs[0]))
