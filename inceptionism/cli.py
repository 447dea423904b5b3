"""The command line: a thin layer that parses options, calls the API and reports.

Every failure a user can cause ends as one sentence on stderr and a non-zero exit status:
1 for a problem with the inputs or environment, 2 for a malformed command line, 130 when
interrupted. Set INCEPTIONISM_DEBUG=1 to see a traceback for unexpected errors.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from importlib import resources
from pathlib import Path

import click

from . import __version__
from .dream import DreamConfig, StepInfo
from .errors import InceptionismError, Interrupted
from .io.images import DEFAULT_MAX_PIXELS, check_output_path, load_image, save_image
from .models import get_spec, list_models
from .models.zoo import DEFAULT_MODEL
from .video import FRAME_CONFIG, FlowConfig, ZoomMotion

D = DreamConfig()  # the defaults shown in --help come from the API's own config
SAMPLES = {"chelsea": "chelsea.png", "coffee": "coffee.png"}


def _err(message: str) -> None:
    click.echo(f"error: {message}", err=True)


class ProgressBar:
    """A tqdm bar on stderr fed by the dream's step callback (octave, step, ETA)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None

    def __call__(self, info: StepInfo) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=info.octaves * info.steps, unit="step", file=sys.stderr,
                            dynamic_ncols=True, leave=False)
        h, w = info.size
        self.bar.set_description(f"octave {info.octave + 1}/{info.octaves} ({w}x{h})", refresh=False)
        self.bar.set_postfix_str(f"objective {info.objective:.3g}", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="inceptionism")
def cli() -> None:
    """Dream on photos with pretrained ImageNet networks (DeepDream)."""


def model_options(f):
    """--model, --layers, --weights, --device: shared by every command that dreams."""
    options = [
        click.option("-m", "--model", type=click.Choice(list_models()), default=DEFAULT_MODEL,
                     show_default=True, help="Network to dream with (see `inceptionism models`)."),
        click.option("-l", "--layers", "objective", metavar="SPEC", default=None,
                     help="What to amplify: a layer (b10), a channel (b12/37), or weighted terms "
                          "(b10:0.7,b12:0.3). Default: the model's default layer."),
        click.option("--weights", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="Load the model's weights from this state-dict file instead."),
        click.option("--device", default="cpu", show_default=True,
                     help="cpu, cuda, cuda:N, or auto (CUDA when available)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def config_options(f=None, *, defaults: DreamConfig = D):
    """One option per DreamConfig field, defaults taken from ``defaults`` (DreamConfig's own
    unless a command dreams differently, e.g. the few steps per video frame).

    Use as ``@config_options`` or ``@config_options(defaults=...)``.
    """
    if f is None:
        return lambda g: config_options(g, defaults=defaults)
    options = [
        click.option("--octaves", type=click.IntRange(min=1), default=defaults.octaves,
                     show_default=True, help="Number of scales to dream at, smallest first."),
        click.option("--octave-scale", type=click.FloatRange(min=1, min_open=True),
                     default=defaults.octave_scale, show_default=True,
                     help="Size ratio between octaves."),
        click.option("--steps", type=click.IntRange(min=0), default=defaults.steps, show_default=True,
                     help="Gradient-ascent steps per octave."),
        click.option("--step-size", type=click.FloatRange(min=0, min_open=True),
                     default=defaults.step_size, show_default=True,
                     help="Mean change per step, in pixel units of 0..1."),
        click.option("--jitter", type=click.IntRange(min=0), default=defaults.jitter, show_default=True,
                     help="Largest random shift per step, in pixels."),
        click.option("--smoothing", type=click.FloatRange(min=0), default=defaults.smoothing,
                     show_default=True, help="Sigma in pixels of the gradient's Gaussian blur (0: off)."),
        click.option("--tile-size", type=click.IntRange(min=32), default=defaults.tile_size,
                     show_default=True,
                     help="Largest tile fed to the network at once; bounds memory on large images."),
        click.option("--min-size", type=click.IntRange(min=8), default=defaults.min_size,
                     show_default=True,
                     help="Smallest side an octave may have; smaller images are dreamed up-scaled."),
        click.option("--seed", type=int, default=defaults.seed, show_default=True,
                     help="Random seed: the same inputs and seed give the same image."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def pop_config(kwargs: dict) -> DreamConfig:
    """Take the DreamConfig fields out of a command's keyword arguments."""
    names = [field.name for field in dataclasses.fields(DreamConfig)]
    return DreamConfig(**{name: kwargs.pop(name) for name in names})


@cli.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Where to write the dream; the format follows the extension "
                   "(.png .jpg .webp .tif .bmp .gif).")
@model_options
@config_options
@click.option("--max-pixels", type=click.IntRange(min=1), default=DEFAULT_MAX_PIXELS,
              show_default=True, help="Refuse inputs larger than this many pixels.")
@click.option("-f", "--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def dream(input: Path, output: Path, model: str, objective: str | None, device: str,
          weights: Path | None, max_pixels: int, force: bool, quiet: bool, **kwargs) -> None:
    """Dream on the photo INPUT and write the result to OUTPUT.

    Example: inceptionism dream cat.png -o dream.png --layers b10 --steps 20
    """
    from .api import Dreamer

    config = pop_config(kwargs)
    config.validate()
    check_output_path(output, force, inputs=(input,))  # fail before any work
    image = load_image(input, max_pixels=max_pixels)
    dreamer = Dreamer(model, weights=weights, device=device)
    objective = dreamer.objective(objective)
    progress = ProgressBar(enabled=not quiet)
    try:
        rgb = dreamer.dream_array(image.rgb, objective, config, callback=progress)
    finally:
        progress.close()
    from .io.images import to_pil

    metadata = {
        "inceptionism": __version__,
        "model": model,
        "weights": str(weights) if weights else get_spec(model).weights.describe(),
        "objective": objective.name,
        "config": dataclasses.asdict(config),
        "device": str(dreamer.device),
        "input": input.name,
    }
    for note in save_image(output, to_pil(rgb, image.alpha), metadata, force=force):
        click.echo(f"note: {note}", err=True)
    if not quiet:
        click.echo(f"wrote {output}", err=True)


class FrameProgress:
    """Frames done, frames per minute and ETA on stderr, fed by a render's frame callback.

    The clock starts when the object is made, just before the render, so the rate counts
    only the frames this run made (not those resumed from the frames folder) and includes
    the first frame's time. The bar itself appears with the first new frame, so a render
    refused at the start (a frames folder from other parameters) prints no empty bar.
    """

    def __init__(self, enabled: bool, folder: Path):
        self.enabled = enabled
        self.folder = folder
        self.t0 = time.time()
        self.bar = None

    def __call__(self, info) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            if info.first:
                click.echo(f"resuming after frame {info.first} of {info.frames} in {self.folder}",
                           err=True)
            else:
                click.echo(f"frames go to {self.folder}", err=True)
            # smoothing=0: tqdm's rate (and so its ETA) is this run's average since t0.
            # delay > 0: draw nothing at creation (it would show 0 frames); update draws.
            self.bar = tqdm(total=info.frames, initial=info.first, unit="frame", file=sys.stderr,
                            smoothing=0, dynamic_ncols=True, delay=1e-3,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} frames "
                                       "[{elapsed}<{remaining}{postfix}]")
            self.bar.start_t = self.t0
        made = info.index + 1 - info.first
        self.bar.set_postfix_str(f"{made / max(time.time() - self.t0, 1e-9) * 60:.1f} frames/min",
                                 refresh=False)
        self.bar.update(info.index + 1 - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def video_options(f):
    """Outputs, objective cycling, frames folder and resume: shared by `zoom` and `video`."""
    options = [
        click.option("-o", "--output", "outputs", type=click.Path(path_type=Path), multiple=True,
                     required=True,
                     help="Video to write: .mp4 (H.264) or .gif. Give -o twice for both."),
        click.option("--cycle", metavar="SPEC", multiple=True,
                     help="Cycle through objectives over the video: give --cycle once per "
                          "objective, in order (--cycle b6 --cycle b10 --cycle b12/37). "
                          "Replaces --layers."),
        click.option("--cycle-every", type=click.IntRange(min=1), default=None,
                     help="Frames per objective when cycling, starting over after the last. "
                          "Default: the objectives share the video evenly."),
        click.option("--frames-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
                     help="Folder for the frames, kept for resuming. "
                          "Default: the first OUTPUT with .frames for its extension."),
        click.option("--restart", is_flag=True,
                     help="Discard the frames in the frames folder and render from frame 1."),
        click.option("--max-pixels", type=click.IntRange(min=1), default=DEFAULT_MAX_PIXELS,
                     show_default=True, help="Refuse inputs larger than this many pixels."),
        click.option("-f", "--force", is_flag=True, help="Overwrite OUTPUT if it exists."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _video_objectives(objective: str | None, cycle: tuple[str, ...]) -> list[str | None]:
    if objective is not None and cycle:
        raise InceptionismError("Use either --layers or --cycle, not both.")
    return list(cycle) or [objective]


def _render_and_encode(render, store, frames: int, outputs: tuple[Path, ...], fps, audio,
                       trim_audio: bool, force: bool, quiet: bool) -> None:
    """Run ``render(on_frame)`` with a progress bar, then encode every output. Ctrl-C ends
    with one line saying how many frames are safe and how to resume."""
    from .io.video import encode

    progress = FrameProgress(enabled=not quiet, folder=store.folder)
    try:
        try:
            made = render(progress)
        finally:
            progress.close()
        for output in outputs:
            if not quiet:
                click.echo(f"encoding {output}", err=True)
            for note in encode(store, made, output, fps, audio, trim_audio=trim_audio, force=force):
                click.echo(f"note: {note}", err=True)
    except KeyboardInterrupt:
        safe = min(store.count(), frames)
        raise Interrupted(
            f"interrupted; {safe} of {frames} frames are safe in {store.folder}, and running the "
            "same command again resumes from there."
        ) from None
    if not quiet:
        click.echo(f"wrote {', '.join(map(str, outputs))} ({made} frames at {float(fps):g} fps); "
                   f"the frames stay in {store.folder}", err=True)


class SizeType(click.ParamType):
    name = "WxH"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        w, sep, h = str(value).lower().partition("x")
        if not sep or not w.isdigit() or not h.isdigit() or int(w) < 1 or int(h) < 1:
            self.fail(f"'{value}' is not a size like 640x360", param, ctx)
        return int(w), int(h)


@cli.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("--frames", type=click.IntRange(min=1), default=100, show_default=True,
              help="Number of frames to render.")
@click.option("--zoom", type=click.FloatRange(0.5, 2), default=ZoomMotion.zoom, show_default=True,
              help="Scale per frame: above 1 flies in, below 1 flies out.")
@click.option("--rotate", type=float, default=ZoomMotion.rotate, show_default=True,
              help="Degrees per frame, counter-clockwise.")
@click.option("--shift", type=(float, float), default=ZoomMotion.shift, show_default=True,
              metavar="DX DY", help="Pixels per frame to move the view, right and down.")
@click.option("--fps", type=click.FloatRange(min=0, min_open=True), default=24, show_default=True,
              help="Frame rate of the video.")
@click.option("--size", type=SizeType(), default=None,
              help="Frame size, e.g. 640x360: the input is scaled and centre-cropped to fill it. "
                   "Default: the input's size.")
@video_options
@model_options
@config_options(defaults=FRAME_CONFIG)
def zoom(input: Path, outputs: tuple[Path, ...], frames: int, zoom: float, rotate: float,
         shift: tuple[float, float], fps: float, size: tuple[int, int] | None, cycle: tuple[str, ...],
         cycle_every: int | None, frames_dir: Path | None, restart: bool, max_pixels: int,
         force: bool, quiet: bool, model: str, objective: str | None, weights: Path | None,
         device: str, **kwargs) -> None:
    """Render a zoom loop from the photo INPUT: each frame is the previous one zoomed in a
    little and dreamed again. Interrupted renders resume when the same command is run again.

    Example: inceptionism zoom cat.png -o dream.mp4 --frames 120 --size 640x360
    """
    from .api import Dreamer
    from .io.images import to_pil
    from .io.video import FrameStore, check_video_output, default_frames_dir
    from .video import render_zoom

    config = pop_config(kwargs)
    config.validate()
    motion = ZoomMotion(zoom=zoom, rotate=rotate, shift=shift)
    objectives = _video_objectives(objective, cycle)
    for output in outputs:  # fail before any work
        check_video_output(output, force, inputs=(input,))
    image = load_image(input, max_pixels=max_pixels)
    rgb = image.rgb
    if image.alpha is not None:
        click.echo(f"note: videos are opaque, so the transparency of {input.name} is dropped.",
                   err=True)
    if size is not None and size != image.size:
        from PIL import Image, ImageOps

        from .io.images import pil_to_rgb

        rgb, _ = pil_to_rgb(ImageOps.fit(to_pil(rgb), size, method=Image.Resampling.BICUBIC))
    store = FrameStore(frames_dir or default_frames_dir(outputs[0]))
    dreamer = Dreamer(model, weights=weights, device=device)

    def render(on_frame):
        return render_zoom(dreamer, rgb, store, frames, objectives, motion, config,
                           cycle_every=cycle_every, restart=restart, on_frame=on_frame)

    _render_and_encode(render, store, frames, outputs, fps, audio=None, trim_audio=False,
                       force=force, quiet=quiet)


@cli.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("--blend", type=click.FloatRange(0, 1), default=FlowConfig.blend, show_default=True,
              help="Share of the previous frame's dream carried into the next (0: each frame "
                   "dreamed on its own).")
@click.option("--flow/--no-flow", default=FlowConfig.flow, show_default=True,
              help="Carry the dream along the optical flow between input frames, so it moves "
                   "with the scene; --no-flow carries it in place.")
@click.option("--frames", type=click.IntRange(min=1), default=None,
              help="Dream only the first N frames (a preview). Default: all.")
@click.option("--fps", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Frame rate of the output. Default: the input's (another rate changes the "
                   "speed of the picture, not of the sound).")
@video_options
@model_options
@config_options(defaults=FRAME_CONFIG)
def video(input: Path, outputs: tuple[Path, ...], blend: float, flow: bool, frames: int | None,
          fps: float | None, cycle: tuple[str, ...], cycle_every: int | None,
          frames_dir: Path | None, restart: bool, max_pixels: int, force: bool, quiet: bool,
          model: str, objective: str | None, weights: Path | None, device: str, **kwargs) -> None:
    """Dream every frame of the video INPUT, carrying each frame's dream to the next along
    the optical flow so it moves with the scene. The sound of INPUT is kept in an MP4.
    Interrupted renders resume when the same command is run again.

    Example: inceptionism video clip.mp4 -o dream.mp4 --layers b8
    """
    from .api import Dreamer
    from .io.video import FrameStore, check_video_output, default_frames_dir, file_digest, probe
    from .io.video import read_frames
    from .video import render_video

    config = pop_config(kwargs)
    config.validate()
    flow_config = FlowConfig(blend=blend, flow=flow)
    objectives = _video_objectives(objective, cycle)
    for output in outputs:  # fail before any work
        check_video_output(output, force, inputs=(input,))
    info = probe(input)
    if info.width * info.height > max_pixels:
        raise InceptionismError(
            f"Input {input} is {info.width}x{info.height}, more than the limit of {max_pixels} "
            "pixels per frame (--max-pixels)."
        )
    if info.frames < 1:
        raise InceptionismError(f"Input {input} holds no video frames.")
    total = min(frames or info.frames, info.frames)
    store = FrameStore(frames_dir or default_frames_dir(outputs[0]))
    dreamer = Dreamer(model, weights=weights, device=device)
    source_id = file_digest(input)

    def render(on_frame):
        return render_video(dreamer, read_frames(input, max_pixels), store, total, source_id,
                            objectives, flow_config, config, cycle_every=cycle_every,
                            restart=restart, on_frame=on_frame)

    _render_and_encode(render, store, total, outputs, fps or info.fps,
                       audio=input if info.has_audio else None, trim_audio=total < info.frames,
                       force=force, quiet=quiet)


@cli.command()
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--name", type=click.Choice(list(SAMPLES)), default="chelsea", show_default=True,
              help="chelsea: a cat (451x300); coffee: a cup of espresso (600x400). "
                   "Both are scikit-image's sample photos, CC0.")
@click.option("-f", "--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
def sample(output: Path, name: str, force: bool) -> None:
    """Write a sample photo to OUTPUT, to dream on when you have none at hand."""
    from PIL import Image

    with resources.as_file(resources.files("inceptionism.data") / SAMPLES[name]) as src:
        with Image.open(src) as img:
            img.load()
            save_image(output, img, metadata=None, force=force)
    click.echo(f"wrote {output}", err=True)


@cli.command()
def models() -> None:
    """List the models, where their weights come from, and their default layers."""
    for name in list_models():
        spec = get_spec(name)
        top1 = f"{spec.top1:.1f}%" if spec.top1 else "n/a"
        click.echo(
            f"{name:20} {spec.weights.status():14} {spec.weights.size_mb:6.1f} MB  "
            f"top-1 {top1:6}  {spec.license:11} default layers: {','.join(spec.default_layers)}"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status instead of raising."""
    try:
        cli.main(args=argv, prog_name="inceptionism", standalone_mode=False)
        return 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        _err("interrupted; nothing was written.")
        return 130
    except click.ClickException as exc:
        _err(exc.format_message())
        return exc.exit_code
    except Interrupted as exc:  # a long render stopped: the message says what was kept
        _err(str(exc))
        return 130
    except InceptionismError as exc:
        _err(str(exc))
        return 1
    except KeyboardInterrupt:
        _err("interrupted; nothing was written.")
        return 130
    except MemoryError:
        _err("out of memory; try a smaller --tile-size or a smaller image.")
        return 1
    except Exception as exc:  # a bug of ours: say so in one line, traceback on request
        if os.environ.get("INCEPTIONISM_DEBUG"):
            raise
        _err(f"unexpected {type(exc).__name__}: {exc} (set INCEPTIONISM_DEBUG=1 for a traceback).")
        return 1


def entry_point() -> None:
    sys.exit(main())
