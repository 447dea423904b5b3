"""The one rule for every number a user or a file can hand us: finite, of the right kind, and
in a range that makes sense, refused otherwise in one sentence that names it.

A :class:`Number` describes one setting (its name in words, whole or real, its bounds). The
library checks values with :meth:`Number.check` (``DreamConfig.validate``, motion, flow,
frame rates, a stored recipe); a front end reads text with :meth:`Number.parse`, which
accepts ASCII decimal numbers only (Python's ``float()`` and ``int()`` also take ``"nan"``,
``"inf"``, ``"1_000"`` and digits of other scripts, such as ``"²"`` or ``"١"``) and then
applies the same check, so the rule is written once.

A leaf: imports nothing of the package but its errors.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

from .errors import InceptionismError

# Plain ASCII decimals: "12", "-3", "0.5", ".5", "1e-3", "2.", "+4". No "nan", no "inf",
# no "_" separators, no hex, no other scripts' digits.
_REAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_WHOLE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_MAX_DIGITS = 30  # longer texts are no sensible setting; int() of a huge text is slow


def _fmt(x: float | int) -> str:
    """A bound or value as a person writes it: 64, 0.5, 10000000000."""
    return f"{x:g}" if isinstance(x, float) and not float(x).is_integer() else f"{int(x)}"


def megapixels(pixels: float) -> str:
    """A pixel count in megapixels as a message shows it: 409.6, 1600, 0.014."""
    return f"{pixels / 1e6:.1f}".removesuffix(".0") if pixels >= 100_000 else f"{pixels / 1e6:.2g}"


@dataclass(frozen=True)
class Number:
    """One numeric setting: ``label`` (how messages name it), whole or real, and bounds."""

    label: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # the low bound itself is not allowed
    whole: bool = False  # a whole number (int), not any real number

    def describe(self) -> str:
        """The allowed values in words: 'a whole number from 1 to 100', ..."""
        kind = "a whole number" if self.whole else "a number"
        if self.low is not None and self.high is not None:
            if self.low_open:
                return f"{kind} greater than {_fmt(self.low)} and at most {_fmt(self.high)}"
            return f"{kind} from {_fmt(self.low)} to {_fmt(self.high)}"
        if self.low is not None:
            return f"{kind} {'greater than' if self.low_open else 'of at least'} {_fmt(self.low)}"
        if self.high is not None:
            return f"{kind} of at most {_fmt(self.high)}"
        return f"a finite {kind[2:]}"

    def _refuse(self, got: object) -> InceptionismError:
        label = self.label[0].upper() + self.label[1:]
        shown = got if isinstance(got, str) else repr(got) if not isinstance(got, numbers.Real) \
            else _fmt(got) if math.isfinite(got) else str(float(got))
        if isinstance(shown, str) and len(shown) > 40:
            shown = shown[:37] + "..."
        return InceptionismError(f"{label} must be {self.describe()} (got {shown}).")

    def check(self, value: object) -> int | float:
        """``value`` if it is allowed (ints stay ints), else an :class:`InceptionismError`."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self._refuse(repr(value) if isinstance(value, str) else value)
        if self.whole and not isinstance(value, numbers.Integral):
            raise self._refuse(value)
        if not math.isfinite(value):
            raise self._refuse(value)
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            raise self._refuse(value)
        if self.high is not None and value > self.high:
            raise self._refuse(value)
        return value

    def parse(self, text: str) -> int | float:
        """Read ``text`` (ASCII decimal digits only) and :meth:`check` it."""
        text = text.strip()
        pattern = _WHOLE if self.whole else _REAL
        if len(text) > _MAX_DIGITS or not pattern.fullmatch(text):
            raise self._refuse(text)
        value = int(text) if self.whole else float(text)
        return self.check(value)


def check_choice(label: str, value: object, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else one sentence listing them."""
    if not isinstance(value, str) or value not in choices:
        shown = value if isinstance(value, str) else repr(value)
        raise InceptionismError(f"{label[0].upper() + label[1:]} must be one of "
                                f"{', '.join(choices)} (got '{shown}').")
    return value


def check_flag(label: str, value: object) -> bool:
    """``value`` if it is True or False, else one sentence."""
    if not isinstance(value, bool):
        raise InceptionismError(f"{label[0].upper() + label[1:]} must be true or false "
                                f"(got {value!r}).")
    return value


# Settings shared by several parts (video frame counts, frame rates, pixel limits).
# Six-digit frame names (frame_000000.png) number at most a million frames.
FRAMES = Number("number of frames", 1, 1_000_000, whole=True)
# GIF delays are whole hundredths of a second and players handle a few hundred fps at most;
# below 0.01 fps a frame lasts almost three hours.
FPS = Number("frame rate", 0.01, 1000)
# The most pixels a user may allow; a 100 000 x 100 000 image, far beyond any machine here.
MAX_PIXELS = Number("pixel limit", 1, 10_000_000_000, whole=True)
