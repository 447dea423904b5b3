"""Option types and the option groups commands share: every number is read and checked by
the library's own rule (:class:`~inceptionism.settings.Number`), every default comes from
:mod:`inceptionism.settings`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
from click.core import ParameterSource

from ..errors import InceptionismError
from ..settings import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MODEL,
    EVERY,
    LAPNORM_LEVELS,
    LIMITS,
    MAX_PIXELS,
    PRECISIONS,
    PRESETS,
    PYRAMIDS,
    THREADS,
    DreamConfig,
    Number,
    parse_size,
)


D = DreamConfig()  # the defaults shown in --help come from the API's own config


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
        from ..models import list_models
        from ..models.registry import GRAPH_SUFFIXES

        names = list_models()
        if value not in names and Path(str(value)).suffix.lower() not in GRAPH_SUFFIXES:
            self.fail(f"unknown model '{value}'; the models are {', '.join(names)} "
                      "(see `inceptionism models`), or give an .onnx or .pb file.", param, ctx)
        return value

    def get_metavar(self, param, ctx=None):
        return "MODEL"


class CheckedValue:
    """The part of :class:`Checked` that reads and checks values."""

    number: Number

    def convert(self, value, param, ctx):
        try:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return self.number.check(value)  # a default
            return self.number.parse(str(value))
        except InceptionismError as exc:
            self.fail(str(exc), param, ctx)

    def __repr__(self) -> str:
        return f"Checked({self.number.label})"


class CheckedInt(CheckedValue, click.IntRange):
    pass


class CheckedFloat(CheckedValue, click.FloatRange):
    pass


def Checked(number: Number) -> click.ParamType:  # noqa: N802  (used like a click type)
    """A number option read and checked by the library's own rule (:class:`settings.Number`),
    so the CLI and the API accept exactly the same values and word refusals the same way.
    (A click range type, never clamping, only so that --help shows the range as click's own
    ranges do.)"""
    kind = CheckedInt if number.whole else CheckedFloat
    checked = kind(min=number.low, max=number.high, min_open=number.low_open)
    checked.number = number
    checked.name = "integer" if number.whole else "float"  # --help: INTEGER, not INTEGER RANGE
    return checked


# --threads of `video --segments` and `batch`: the torch threads each worker fixes for
# itself (runtime.use_threads: a worker does not follow the load).
threads_option = click.option(
    "--threads", type=Checked(THREADS), default=None,
    help="PyTorch threads per worker. Default: the cores shared out among the local "
         "workers; 1 per Ray actor.")


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
        click.option("--lapnorm", type=Checked(LIMITS["lapnorm"]), default=d.lapnorm,
                     is_flag=False, flag_value=LAPNORM_LEVELS, metavar="[LEVELS]",
                     show_default=True,
                     help="Normalize each step's gradient band by band of a Laplacian pyramid "
                          f"of LEVELS bands (a bare --lapnorm: {LAPNORM_LEVELS}; 0: off): "
                          "larger, cleaner shapes, as in the DeepDream notebook's lapnorm."),
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


def config_values(kwargs: dict) -> dict:
    """Take the DreamConfig fields out of a command's keyword arguments."""
    return {field.name: kwargs.pop(field.name) for field in dataclasses.fields(DreamConfig)}


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


def video_request(kwargs: dict, objective: str | None, cycle: tuple[str, ...],
                   outputs: tuple[Path, ...], **fields) -> dict:
    """The fields zoom and video requests share, from the command's options."""
    preset, values = kwargs.pop("preset"), config_values(kwargs)
    return dict(outputs=outputs, objectives=_video_objectives(objective, cycle), preset=preset,
                overrides={k: v for k, v in values.items() if given(k)}, **fields)


class SizeType(click.ParamType):
    name = "WxH"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            size = parse_size(value)
        except InceptionismError as exc:
            self.fail(str(exc).rstrip("."), param, ctx)
        if size is None:
            self.fail("a size like 640x360 is needed here", param, ctx)
        return size
