"""Every default and every limit of the package, in one place: the settings of dreams, tours
and videos as frozen dataclasses, and the one rule for every number a user or a file can
hand us.

A :class:`Number` describes one setting (its name in words, whole or real, its bounds). The
library checks values with :meth:`Number.check` (``DreamConfig.validate``, motion, flow,
frame rates, a stored recipe); a front end reads text with :meth:`Number.parse`, which
accepts ASCII decimal numbers only (Python's ``float()`` and ``int()`` also take ``"nan"``,
``"inf"``, ``"1_000"`` and digits of other scripts, such as ``"²"`` or ``"١"``) and then
applies the same check, so the rule is written once.

A leaf: imports nothing of the package but its errors, and nothing heavy (no PyTorch, numpy
or Pillow), so the command line can show its help, defaults and choices at once.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from types import MappingProxyType

from .errors import InceptionismError

# Plain ASCII decimals: "12", "-3", "0.5", ".5", "1e-3", "2.", "+4". No "nan", no "inf",
# no "_" separators, no hex, no other scripts' digits.
_REAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_WHOLE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_MAX_DIGITS = 30  # longer texts are no sensible setting; int() of a huge text is slow


def format_number(x: float | int) -> str:
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
                return f"{kind} greater than {format_number(self.low)} and at most {format_number(self.high)}"
            return f"{kind} from {format_number(self.low)} to {format_number(self.high)}"
        if self.low is not None:
            return f"{kind} {'greater than' if self.low_open else 'of at least'} {format_number(self.low)}"
        if self.high is not None:
            return f"{kind} of at most {format_number(self.high)}"
        return f"a finite {kind[2:]}"

    def _refuse(self, got: object) -> InceptionismError:
        label = self.label[0].upper() + self.label[1:]
        shown = got if isinstance(got, str) else repr(got) if not isinstance(got, numbers.Real) \
            else format_number(got) if math.isfinite(got) else str(float(got))
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


# A frame size: two runs of at most 9 ASCII digits (larger is no frame; str.isdigit() would
# also take "²") around an x, X or \u00d7, with spaces allowed around it: "640x360", "192 x 192".
_SIZE = re.compile(r"\s*([0-9]{1,9})\s*[xX\u00d7]\s*([0-9]{1,9})\s*", re.ASCII)


def parse_size(text: str | None) -> tuple[int, int] | None:
    """A ``WxH`` size as (width, height), the one reading for every front end; empty or
    blank text is None (the input's own size). Refuses anything else in one sentence."""
    text = "" if text is None else str(text)
    if not text.strip():
        return None
    match = _SIZE.fullmatch(text)
    if match is None:
        raise InceptionismError(f"'{text.strip()}' is not a size like 640x360.")
    w, h = int(match[1]), int(match[2])
    if w < 2 or h < 2:
        raise InceptionismError(f"'{text.strip()}' is too small: frames need at least 2 pixels "
                                "a side.")
    return w, h


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


# --- limits shared by several parts (frame counts, frame rates, pixels, workers) ----------

# Largest image accepted by default: ~100 megapixels (an 8K frame is 33 MP). Guards against
# decompression bombs: tiny files that claim billions of pixels.
DEFAULT_MAX_PIXELS = 100_000_000
# Six-digit frame names (frame_000000.png) number at most a million frames.
FRAMES = Number("number of frames", 1, 1_000_000, whole=True)
# The frames that fade back to the first at the end of a zoom loop, so that it plays round.
LOOP_FRAMES = Number("number of frames fading back to the first", 0, 1_000_000, whole=True)
# GIF delays are whole hundredths of a second and players handle a few hundred fps at most;
# below 0.01 fps a frame lasts almost three hours.
FPS = Number("frame rate", 0.01, 1000)
# The most pixels a user may allow; a 100 000 x 100 000 image, far beyond any machine here.
MAX_PIXELS = Number("pixel limit", 1, 10_000_000_000, whole=True)
# Spreading work: local worker processes, their threads, video segments and their warm-up.
WORKERS = Number("number of workers", 1, 100_000, whole=True)
THREADS = Number("number of threads per worker", 1, 1024, whole=True)
SEGMENTS = Number("number of segments", 1, 1_000_000, whole=True)
WARMUP = Number("warm-up", 0, 100_000, whole=True)
COLUMNS = Number("columns", 1, 10_000, whole=True)  # tiles per row of a contact sheet

# Channel atlases (jobs/atlas.py): what the command line and the studio accept. 4096 pixels
# and 100 000 steps are engine.visualize's own bounds.
ATLAS_CELL = Number("cell size", 16, 4096, whole=True)
ATLAS_STEPS = Number("steps", 1, 100_000, whole=True)
ATLAS_SEED = Number("seed", 0, 2**63 - 1, whole=True)
ATLAS_LR = Number("learning rate", 0, 10, low_open=True)
ATLAS_PICK = Number("number of channels", 1, 100_000, whole=True)  # top or bottom N
ATLAS_DECAY = Number("spectrum decay", 0, 4)  # engine.param.ParamConfig's bounds

# The sample photos shipped in inceptionism/data (scikit-image's, CC0), by name.
SAMPLES = {"chelsea": "chelsea.png", "coffee": "coffee.png"}


# --- dreams ------------------------------------------------------------------------------

DEFAULT_MODEL = "efficientnet_lite0"  # the embedded model, installed with the package

PYRAMIDS = ("octave", "recursive")
PRECISIONS = ("float32", "bfloat16", "auto")


@dataclass(frozen=True)
class DreamConfig:
    octaves: int = 4  # number of scales dreamed at, smallest first
    octave_scale: float = 1.4  # size ratio between neighbouring octaves
    steps: int = 10  # gradient-ascent steps per octave
    step_size: float = 0.012  # mean absolute change per step, in [0, 1] pixel units
    jitter: int = 32  # largest random roll per step, in pixels
    smoothing: float = 0.5  # sigma (pixels) of the Gaussian blur applied to the gradient; 0 = off
    smoothing_growth: float = 0.0  # sigma grows by this much (pixels) over each octave's steps
    smoothing_cascade: bool = False  # blur at 0.5, 1 and 2 x sigma and average the three
    pyramid: str = "octave"  # "octave": re-inject dreamed detail; "recursive": blend whole dreams
    blend: float = 0.5  # recursive pyramid only: share of the up-scaled dream at each level
    tile_size: int = 320  # largest tile side fed to the network at once (see docs/performance.md)
    min_size: int = 64  # smallest side an octave may have; smaller images are up-scaled to it
    seed: int = 0  # seeds the jitter: same inputs and seed give the same dream
    # Arithmetic of the network's forward and backward passes. bfloat16 is faster on CPUs
    # with AVX512-BF16/AMX and on recent GPUs; the image and the update stay float32.
    # "auto" (the default): bfloat16 where the hardware does it natively and the network is
    # compute-bound (no depthwise convolutions), else float32 (see
    # engine.loop.resolve_precision); a stored recipe holds what it resolved to, so a re-run
    # computes the same.
    precision: str = "auto"
    keep_colors: bool = False  # change only the luminance: the photo keeps its own colours
    # Laplacian-pyramid gradient normalization (the DeepDream notebook's render_lapnorm):
    # each step's gradient is split into this many bands plus the low-pass rest, each band
    # divided by its RMS, and merged (engine.transforms.lapnorm), which lifts coarse shapes
    # that the fine part of the gradient drowns out. 0: off (the classic step).
    lapnorm: int = 0

    def validate(self) -> None:
        """Refuse, in one sentence naming the setting, any value outside :data:`LIMITS`
        (non-finite numbers, wrong types and absurd sizes included)."""
        for name, number in LIMITS.items():
            number.check(getattr(self, name))
        check_flag("smoothing cascade", self.smoothing_cascade)
        check_flag("keep colors", self.keep_colors)
        check_choice("pyramid", self.pyramid, PYRAMIDS)
        check_choice("precision", self.precision, PRECISIONS)


# What each numeric setting may be (see Number above): wide enough for any look, narrow enough
# that no value makes the work unbounded or the arithmetic non-finite. A step of more than
# the whole [0, 1] pixel range, a blur wider than 50 pixels (a 300-tap kernel), more than
# 1000 steps an octave or a roll larger than 10 000 pixels are no look, only a way to
# stall a machine; the sizes are bounded again, as a whole, by the working-size limit.
LIMITS = {
    "octaves": Number("octaves", 1, 64, whole=True),
    "octave_scale": Number("octave scale", 1, 16, low_open=True),
    "steps": Number("steps", 0, 1000, whole=True),
    "step_size": Number("step size", 0, 1, low_open=True),
    "jitter": Number("jitter", 0, 10_000, whole=True),
    "smoothing": Number("smoothing", 0, 50),
    "smoothing_growth": Number("smoothing growth", 0, 50),
    "blend": Number("blend", 0, 1),
    "tile_size": Number("tile size", 32, 65_536, whole=True),
    "min_size": Number("min size", 8, 1_000_000, whole=True),
    "seed": Number("seed", 0, 2**64 - 1, whole=True),  # what torch.manual_seed takes
    # Each level halves the band's size; 12 levels reach one pixel from a 4096-pixel side.
    "lapnorm": Number("lapnorm levels", 0, 12, whole=True),
}
LAPNORM_LEVELS = 4  # the levels of a bare --lapnorm: the DeepDream notebook's lap_n


# The layer tour: lighter than a still's defaults, on a small copy of the photo.
TOUR_CONFIG = replace(DreamConfig(), octaves=3, steps=6, step_size=0.02)
TOUR_SIZE = 200  # longest side (pixels) of the photo each layer dreams on
TOUR_SIZES = Number("tour size", 32, 16_384, whole=True)  # what a tour's size may be


# Per-frame dream defaults for videos. A frame starts from the previous frame's dream, so it
# needs only a few steps to keep the dream growing; fewer octaves keep the detail fine-grained
# and the render quick (a still's 4 octaves x 10 steps costs ~4x more per frame).
FRAME_CONFIG = DreamConfig(octaves=2, steps=4)


@dataclass(frozen=True)
class ZoomMotion:
    """How the camera moves between two frames of a zoom loop."""

    zoom: float = 1.04  # scale per frame (> 1 flies in): 1.04 doubles in ~18 frames
    rotate: float = 0.0  # degrees per frame, counter-clockwise
    shift: tuple[float, float] = (0.0, 0.0)  # (dx, dy) pixels per frame, right and down

    def validate(self) -> None:
        MOTION["zoom"].check(self.zoom)
        MOTION["rotate"].check(self.rotate)
        if not isinstance(self.shift, (tuple, list)) or len(self.shift) != 2:
            raise InceptionismError(f"Shift must be two numbers, dx and dy (got {self.shift!r}).")
        for value in self.shift:
            MOTION["shift"].check(value)


# A zoom of more than 2x a frame (or less than 0.5x) is a cut, not a flight; a turn of more
# than 360 degrees a frame shows as a smaller one; a shift of more than 10 000 pixels a frame
# leaves any frame behind at once.
MOTION = {
    "zoom": Number("zoom per frame", 0.5, 2),
    "rotate": Number("rotation per frame", -360, 360),
    "shift": Number("shift per frame", -10_000, 10_000),
}
CARRY = Number("carry", 0, 1)
TEMPORAL = Number("temporal strength", 0, 10_000)
OCCLUSION = Number("occlusion tolerance", 0, 10_000)
MOTION_EDGES = Number("motion-edge tolerance", 0, 10_000)
CUT = Number("cut threshold", 0, 1)


@dataclass(frozen=True)
class FlowConfig:
    """How a dream is carried from one frame of a video to the next (see video/flow.py)."""

    # Share of the previous frame's dream detail carried forward (0: none). With the temporal
    # term nearly the whole detail is carried where the flow is consistent, and the dream's
    # strength stays near a fresh frame's (0.99: over 60 frames it settles at 1.2x; at 1 it
    # keeps growing slowly). Without the term 0.99 would let the dream grow frame by frame
    # (use about 0.6 there). Measured: docs/videos.md, benchmarks/flicker.py.
    carry: float = 0.99
    flow: bool = True  # warp it along the optical flow; False carries it in place (flickers)
    # Strength of the temporal term (engine/temporal.py): each pixel is held about
    # 1/temporal (in [0, 1] pixel units) from the carried dream where the flow is
    # consistent (0: off). 200 measured: a sixth of the flicker of 0.6 carry alone.
    temporal: float = 200.0
    # Consistency mask (Ruder et al. 2016): a pixel has no past when its forward and backward
    # flows disagree by more than 1% of their squared lengths plus `occlusion` pixels^2, or
    # when the flow's gradient exceeds 1% of its squared length plus `motion_edges`.
    occlusion: float = 0.5
    motion_edges: float = 0.002
    # A cut: the frames' colour histograms differ by more than this share (0..1), or fewer
    # than a third of the pixels have a past; the dream then starts afresh (1: never).
    cut: float = 0.3
    # The same jitter offsets for every frame (one seed, not one per frame): measured to
    # lower the flicker by 3-10%.
    coherent: bool = True

    def validate(self) -> None:
        CARRY.check(self.carry)
        TEMPORAL.check(self.temporal)
        OCCLUSION.check(self.occlusion)
        MOTION_EDGES.check(self.motion_edges)
        CUT.check(self.cut)
        check_flag("flow", self.flow)
        check_flag("coherent jitter", self.coherent)

    def describe(self) -> dict:
        """The settings that decide the frames, for a frames folder's fingerprint: the
        temporal term's, the cut's and the jitter's only when they are on, so a folder made
        before they existed (the flow carry alone) still resumes with the same frames."""
        out = {"carry": self.carry, "flow": self.flow}
        if self.temporal > 0 and self.carry > 0:
            out.update(temporal=self.temporal, occlusion=self.occlusion,
                       motion_edges=self.motion_edges)
        if self.cut < 1:
            out["cut"] = self.cut
        if self.coherent:
            out["coherent"] = True
        return out

EVERY = Number("frames per objective", 1, FRAMES.high, whole=True)  # cycling videos


# --- presets: named looks, small frozen sets of DreamConfig overrides ---------------------
#
# A preset changes only the fields it names; options given explicitly on the command line
# (or fields set in Python afterwards) override it::
#
#     config = get_preset("subtle").apply(DreamConfig(seed=3))


@dataclass(frozen=True)
class Preset:
    name: str
    description: str  # one line for --help and the README
    overrides: Mapping[str, object]

    def __post_init__(self) -> None:
        known = {f.name for f in fields(DreamConfig)}
        unknown = set(self.overrides) - known
        if unknown:
            raise ValueError(f"preset {self.name!r} sets unknown fields {sorted(unknown)}")
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))

    def apply(self, config: DreamConfig) -> DreamConfig:
        return replace(config, **self.overrides)


def _presets(*presets: Preset) -> Mapping[str, Preset]:
    return MappingProxyType({p.name: p for p in presets})


PRESETS: Mapping[str, Preset] = _presets(
    Preset(
        "classic",
        "the deepdream notebook's look: 4 octaves of 10 steps, detail re-injected",
        dict(octaves=4, octave_scale=1.4, steps=10, step_size=0.012, jitter=32, smoothing=0.5,
             smoothing_growth=0.0, smoothing_cascade=False, pyramid="octave"),
    ),
    Preset(
        "subtle",
        "a light touch: the photo stays clear, with faint patterns in it",
        dict(octaves=3, octave_scale=1.4, steps=6, step_size=0.006, jitter=32, smoothing=1.0,
             smoothing_growth=0.0, smoothing_cascade=False, pyramid="octave"),
    ),
    Preset(
        "painterly",
        "soft and smooth: recursive blending and growing, cascaded gradient smoothing",
        dict(octaves=5, octave_scale=1.4, steps=10, step_size=0.012, jitter=32, smoothing=0.5,
             smoothing_growth=2.0, smoothing_cascade=True, pyramid="recursive", blend=0.6),
    ),
)


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise InceptionismError(
            f"Unknown preset '{name}'; choose one of: {', '.join(PRESETS)}."
        ) from None
