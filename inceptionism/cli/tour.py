"""`inceptionism explore`: the layer tour as a contact sheet (the tour job)."""

from __future__ import annotations

from pathlib import Path

import click

from ..settings import COLUMNS, DEFAULT_MAX_PIXELS, MAX_PIXELS, TOUR_CONFIG, TOUR_SIZE, TOUR_SIZES
from .options import RAY_HELP, Checked, config_options, config_values, given, model_options
from .report import ProgressBar, loading, note, quiet_warnings


@click.command()
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
    quiet_warnings(quiet)
    preset, values = kwargs.pop("preset"), config_values(kwargs)
    names = None if tour_layers is None else [n.strip() for n in tour_layers.split(",")]
    from ..jobs import Hooks, TourRequest, run_tour

    request = TourRequest(
        input=input, output=output, model=model, weights=weights, device=device, layers=names,
        size=size, columns=columns, original=original, tiles_dir=tiles_dir, preset=preset,
        overrides={k: v for k, v in values.items() if given(k)}, max_pixels=max_pixels,
        overwrite=force, preprocess=preprocess, ray=ray_address,
    )
    progress = ProgressBar(enabled=not quiet, tour=True)
    try:
        result = run_tour(request, Hooks(on_step=progress, on_note=note,
                                         on_loading=loading(quiet)))
    finally:
        progress.close()
    if not quiet:
        where = f" and {len(result.tile_paths)} tiles in {tiles_dir}" if result.tile_paths else ""
        click.echo(f"wrote {output}{where}", err=True)
