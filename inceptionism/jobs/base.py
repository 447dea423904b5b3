"""What every job shares: the hooks a front end hangs its progress, notes and cancel on.

A job is one workflow a user runs (a still dream, a layer tour, a zoom, a video): it takes a
typed request, does the checks, the work and the writing, and returns a typed result. Front
ends (the CLI, the studio, the batch and cluster workers) only build the request, pass hooks and
report the result, so none of them copies a workflow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..engine.loop import CancelToken, OctaveCallback
from ..errors import InceptionismError

NoteCallback = Callable[[str], None]


@dataclass
class Hooks:
    """Callbacks a job calls as it goes, and the token that stops it. All optional.

    - ``on_step(info)``: after every gradient step. ``info`` is a
      :class:`~inceptionism.StepInfo` (still dream, zoom, video) or a
      :class:`~inceptionism.engine.tour.TourStep` (layer tour: the layer plus its StepInfo).
    - ``on_octave(info)``: after every octave of a still dream, with an
      :class:`~inceptionism.engine.loop.OctaveInfo` whose ``image`` is a (1, 3, H, W) tensor of the
      dream so far at that octave's size: what a web page shows while the dream grows.
    - ``on_frame(info)``: after each video frame is safely stored
      (:class:`~inceptionism.video.FrameInfo`, whose ``image`` is the frame as stored).
    - ``on_note(text)``: a one-sentence remark the user should see (e.g. "the input's
      transparency is dropped"); the CLI prints it as ``note: text``.
    - ``on_encode(path)``: a video job starts encoding ``path``.
    - ``on_tile(layer, image)``: a layer tour dreamed one more layer; ``image`` is its tile
      (a PIL image), so a page can show the tiles as they come.
    - ``on_photo(progress)``: a batch settled one more photo (done, skipped or failed); a
      :class:`~inceptionism.jobs.batch.BatchProgress` with the counts, rate and ETA.
    - ``on_loading(text)``: a model is about to be loaded (a few seconds, longer with a
      download); ``text`` names the model and the device, e.g. for a line on stderr.
    - ``cancel``: a :class:`~inceptionism.CancelToken`; once set from any thread, the job
      stops at the next gradient step with :class:`~inceptionism.errors.Cancelled` (video jobs:
      the frames stored so far are kept and the same request resumes from them).

    A callback may itself raise :class:`~inceptionism.errors.Cancelled` to stop the job.
    """

    on_step: Callable[[object], None] | None = None
    on_octave: OctaveCallback | None = None
    on_frame: Callable[[object], None] | None = None
    on_note: NoteCallback | None = None
    on_encode: Callable[[Path], None] | None = None
    on_tile: Callable[[str, object], None] | None = None
    on_photo: Callable[[object], None] | None = None
    on_loading: NoteCallback | None = None
    cancel: CancelToken | None = None

    def note(self, text: str) -> None:
        if self.on_note is not None:
            self.on_note(text)

    def load(self, model: str, weights: Path | None, device: str, download_progress: bool = True,
             max_pixels: int | None = None, preprocess: str | None = None, fast: bool = True):
        """A :class:`~inceptionism.Dreamer` for ``model``, announced to ``on_loading`` first
        (``preprocess``: an input convention instead of the model's own; ``fast``: see
        :class:`~inceptionism.Dreamer`)."""
        from ..api import Dreamer

        if self.on_loading is not None:
            self.on_loading(f"{model} on {device}")
        extra = {} if max_pixels is None else {"max_pixels": max_pixels}
        return Dreamer(model, weights=weights, device=device, progress=download_progress,
                       preprocess=preprocess, fast=fast, **extra)

    def collecting(self, notes: list[str]) -> Hooks:
        """These hooks, also appending every note to ``notes`` (for the job's result)."""
        forward = self.on_note

        def on_note(text: str) -> None:
            notes.append(text)
            if forward is not None:
                forward(text)

        return dataclasses.replace(self, on_note=on_note)


def require_file(path: Path | None, what: str) -> None:
    """Refuse a named input file that does not exist (``what``: "Guide image", ...)."""
    if path is not None and not Path(path).is_file():
        raise InceptionismError(f"{what} {path} does not exist.")
