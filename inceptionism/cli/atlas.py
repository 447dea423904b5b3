"""`inceptionism atlas`: a layer's channels, each visualized from noise, on one labelled sheet
(the atlas job)."""

from __future__ import annotations

from pathlib import Path

import click

from ..settings import (
    ATLAS_CELL,
    ATLAS_DECAY,
    ATLAS_LR,
    ATLAS_PICK,
    ATLAS_SEED,
    ATLAS_STEPS,
    COLUMNS,
    WORKERS,
)
from .options import RAY_HELP, Checked, model_options
from .report import loading, note, quiet_warnings


class CellReport:
    """One line on stderr per finished cell (a cell is a few seconds to minutes)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, step) -> None:
        if self.enabled and step.step is None:
            click.echo(f"cell {step.cell + 1}/{step.cells}: channel {step.channel}", err=True)


@click.command()
@click.argument("layer")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Where to write the sheet (PNG), each cell labelled with its channel.")
@model_options(objective=False)
@click.option("-c", "--channels", default="all", show_default=True, metavar="LIST",
              help="Which channels: all, or numbers and ranges such as 0,3,5 or 0-15.")
@click.option("--top", type=Checked(ATLAS_PICK), default=None, metavar="N",
              help="The N channels --photo excites most (by mean activation), strongest first.")
@click.option("--bottom", type=Checked(ATLAS_PICK), default=None, metavar="N",
              help="The N channels --photo excites least, weakest first.")
@click.option("--photo", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The photo whose --top or --bottom channels to draw.")
@click.option("--size", type=Checked(ATLAS_CELL), default=128, show_default=True,
              help="Each cell's side in pixels.")
@click.option("--steps", type=Checked(ATLAS_STEPS), default=256, show_default=True,
              help="Optimizer steps per cell.")
@click.option("--param", type=click.Choice(["fft", "pixel"]), default="fft", show_default=True,
              help="What is optimized: the image's Fourier spectrum with 1/f scaling (readable), "
                   "or its pixels (the naive method: high-frequency noise).")
@click.option("--decorrelate/--no-decorrelate", default=True, show_default=True,
              help="Optimize colours along ImageNet's principal colour axes.")
@click.option("--decay", type=Checked(ATLAS_DECAY), default=1.5, show_default=True,
              help="The spectrum's scaling, 1/f^DECAY (fft only; lucid uses 1).")
@click.option("--transforms", metavar="SPEC", default=None,
              help="Random transforms every step, e.g. pad=12,jitter=8,scale=0.9:1.1,rotate=10,"
                   "jitter=4 (none: no transforms). Default: lucid's set for the size.")
@click.option("--seed", type=Checked(ATLAS_SEED), default=0, show_default=True,
              help="Cell C starts from seed + C: the same recipe gives the same cells.")
@click.option("--lr", type=Checked(ATLAS_LR), default=0.025, show_default=True,
              help="Adam's learning rate.")
@click.option("--columns", type=Checked(COLUMNS), default=None,
              help="Cells per row. Default: a roughly square sheet.")
@click.option("--cells-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder of the finished cells, kept for resuming. Default: OUTPUT with "
                   ".cells for its extension.")
@click.option("--restart", is_flag=True,
              help="Delete the cells of another recipe found in the cells folder.")
@click.option("--workers", type=Checked(WORKERS), default=1, show_default=True,
              help="Local worker processes drawing cells, each loading the model once (with "
                   "--ray: Ray actors). The cells are the same whatever the count.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="", default=None,
              metavar="[ADDRESS]", help=RAY_HELP)
@click.option("-f", "--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def atlas(layer: str, output: Path, model: str, device: str, weights: Path | None,
          preprocess: str | None, channels: str, top: int | None, bottom: int | None,
          photo: Path | None, param: str, decorrelate: bool, decay: float, cells_dir: Path | None,
          ray_address: str | None, force: bool, quiet: bool, **settings) -> None:
    """Channel atlas: visualize each channel of LAYER from noise (what makes it fire
    most) and lay the pictures out on one sheet, labelled with their channel numbers.

    Resumable: finished cells are kept in the cells folder, so running the same command
    again after a crash or Ctrl-C draws only the missing ones, bit-identical.

    \b
    Examples:
      inceptionism atlas b8 -o atlas-b8.png --channels 0-15 --columns 8
      inceptionism atlas b14 -o cat-b14.png --top 16 --photo cat.png --workers 2
    """
    quiet_warnings(quiet)
    from ..engine.param import ParamConfig
    from ..jobs import Hooks
    from ..jobs.atlas import AtlasRequest, run_atlas

    request = AtlasRequest(
        layer=layer, output=output, model=model, channels=channels, top=top, bottom=bottom,
        photo=photo, param=ParamConfig(fft=param == "fft", decorrelate=decorrelate, decay=decay),
        cells=cells_dir, ray=ray_address, device=device, weights=weights, preprocess=preprocess,
        restart=settings.pop("restart"), overwrite=force, **settings)
    result = run_atlas(request, Hooks(on_step=CellReport(not quiet), on_note=note,
                                      on_loading=loading(quiet)))
    if not quiet:
        click.echo(f"wrote {output} ({result.made} cells drawn, {result.skipped} kept from "
                   f"{result.cells[0].parent})", err=True)
