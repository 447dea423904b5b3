"""`inceptionism dream`: one photo dreamed (the still-dream job)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InceptionismError
from ..settings import DEFAULT_MAX_PIXELS, MAX_PIXELS, DreamConfig
from .options import Checked, config_options, config_values, given, model_options
from .report import ProgressBar, loading, note, quiet_warnings


@click.command()
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
    quiet_warnings(quiet)
    if params_from is not None and kwargs.get("preset") is not None:
        raise InceptionismError("Use either --preset or --params-from, not both.")
    preset, values = kwargs.pop("preset"), config_values(kwargs)
    from ..jobs import DreamRequest, Hooks, run_dream

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
        run_dream(request, Hooks(on_step=progress, on_note=note, on_loading=loading(quiet)))
    finally:
        progress.close()
    if not quiet:
        click.echo(f"wrote {output}", err=True)
