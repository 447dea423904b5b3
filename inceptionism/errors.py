"""Errors a user can act on. The CLI prints their message as one sentence, no traceback."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


class InceptionismError(Exception):
    """Base class: the message is written for the person running the program, in the words
    of the domain (images, frames, weights), never in the words of one front end.

    ``remedy`` optionally names what would fix the problem, as a key a front end words in
    its own terms (the CLI as an option, a web page as a control); ``problem`` is then the
    message's first part, without the library's own wording of the remedy. Keys in use:
    ``overwrite`` (allow replacing an existing output), ``pixel_limit`` (raise the input
    pixel limit), ``discard_frames`` (discard a frames folder's unverifiable frames),
    ``discard_or_other_folder`` (discard frames made with other parameters, or use another
    frames folder), ``weights_file`` (load the weights from a file of one's own), ``cpu``
    (use the CPU), ``segments`` (split the video, which the other split settings need) and
    ``recursive`` (search sub-folders too).
    """

    def __init__(self, message: str = "", *, remedy: str | None = None,
                 problem: str | None = None):
        super().__init__(message)
        self.remedy = remedy
        self.problem = problem if problem is not None else message


class Cancelled(InceptionismError):
    """A job was stopped by its cancel token (or a callback raised this to stop it)."""


class UnknownLayerError(InceptionismError, KeyError):
    def __init__(self, name: str, valid: Sequence[str]):
        close = difflib.get_close_matches(name, valid, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        super().__init__(
            f"Unknown layer '{name}'.{hint} Valid layers: {', '.join(valid)}."
        )

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return str(self.args[0])


class UnknownModelError(InceptionismError, KeyError):
    def __init__(self, name: str, valid: Sequence[str]):
        super().__init__(f"Unknown model '{name}'. Available models: {', '.join(valid)}.")

    def __str__(self) -> str:
        return str(self.args[0])


class WeightsError(InceptionismError):
    """The weights for a model cannot be found, read or verified."""


class ImageError(InceptionismError):
    """An input image cannot be read, or an output image cannot be written."""


class VideoError(InceptionismError):
    """A video cannot be read or encoded, or a frames folder cannot be resumed."""


class Interrupted(InceptionismError):
    """The user stopped a long render; the message says what was kept and how to go on."""
