"""What the CLI tells its user on stderr: progress bars fed by the jobs' callbacks, notes,
and library errors worded with this CLI's options."""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import click

from ..errors import InceptionismError


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


def note(text: str) -> None:
    click.echo(f"note: {text}", err=True)


def loading(quiet: bool):
    """The on_loading hook: a line on stderr while the model loads, so the pause before the
    first progress line is explained."""
    return None if quiet else lambda text: click.echo(f"loading {text}...", err=True)


def quiet_warnings(quiet: bool) -> None:
    """With --quiet, no library warnings either (main() restores the filters)."""
    if quiet:
        warnings.simplefilter("ignore")


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
            from ..progress import Eta, Reporter

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


class FrameProgress:
    """Frames done, frames per minute and the time left on stderr, fed by a render's frame
    callback (a bar on a terminal, a plain line every 10 seconds elsewhere).

    The clock starts when the object is made, just before the render, so the rate counts
    only the frames this run made (not those resumed from the frames folder) and includes
    the first frame's time. The progress appears with the first new frame, so a render
    refused at the start (a frames folder from other parameters) prints nothing empty.
    """

    def __init__(self, enabled: bool, folder: Path):
        from ..progress import Eta

        self.enabled = enabled
        self.folder = folder
        self.eta = Eta(time.time, from_start=True)
        self.reporter = None

    def __call__(self, info) -> None:
        if not self.enabled:
            return
        if self.reporter is None:
            from ..progress import Reporter

            if info.first:
                click.echo(f"resuming after frame {info.first} of {info.frames} in {self.folder}",
                           err=True)
            else:
                click.echo(f"frames go to {self.folder}", err=True)
            self.reporter = Reporter()
        made = info.index + 1 - info.first
        left = self.eta.update(made, info.frames - info.first)
        rate = made / max(self.eta.elapsed(), 1e-9) * 60
        self.reporter.show((info.index + 1) / info.frames,
                           f"{info.index + 1}/{info.frames} frames, {rate:.1f} frames/min", left,
                           force=info.index + 1 == info.frames)

    def close(self) -> None:
        if self.reporter is not None:
            self.reporter.close()


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
        from ..progress import format_seconds

        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=info.total, unit="photo", file=sys.stderr, dynamic_ncols=True,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} photos [{elapsed}{postfix}]")
        eta = info.eta
        eta_text = "" if eta is None else f", ETA {format_seconds(eta)}"
        self.bar.set_postfix_str(
            f"{info.done} done, {info.skipped} skipped, {info.failed} failed, "
            f"{info.per_minute:.1f} images/min{eta_text}", refresh=False)
        self.bar.update(info.settled - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
