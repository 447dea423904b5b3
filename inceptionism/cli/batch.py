"""`inceptionism batch`: one recipe dreamed over many photos (the batch job)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InceptionismError, Interrupted
from ..settings import DEFAULT_MAX_PIXELS, MAX_PIXELS, WORKERS
from .options import (
    RAY_HELP,
    Checked,
    config_options,
    config_values,
    given,
    model_options,
    threads_option,
)
from .report import BatchBar, loading, note, quiet_warnings


@click.command()
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
    quiet_warnings(quiet)
    from ..jobs import BatchRequest, Hooks, run_batch

    preset, values = kwargs.pop("preset"), config_values(kwargs)
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
            summary = run_batch(request, Hooks(on_photo=progress, on_note=note,
                                               on_loading=loading(quiet)))
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
