"""The settings of dreams, tours and videos, as frozen dataclasses, and the defaults.

Kept free of PyTorch (and of everything else heavy) so that the command line can show its
help, its defaults and its choices without loading torch; ``dream.py``, ``explore.py`` and
``video.py`` re-export what they use from here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .checks import FRAMES, Number, check_choice, check_flag
from .errors import InceptionismError

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
    tile_size: int = 512  # largest tile side fed to the network at once
    min_size: int = 64  # smallest side an octave may have; smaller images are up-scaled to it
    seed: int = 0  # seeds the jitter: same inputs and seed give the same dream
    # Arithmetic of the network's forward and backward passes. bfloat16 is faster on CPUs
    # with AVX512-BF16/AMX and on recent GPUs; the image and the update stay float32.
    # "auto" (the default): bfloat16 where the hardware does it natively and the network is
    # compute-bound (no depthwise convolutions), else float32 (see dream.resolve_precision);
    # a stored recipe holds what it resolved to, so a re-run computes the same.
    precision: str = "auto"
    keep_colors: bool = False  # change only the luminance: the photo keeps its own colours

    def validate(self) -> None:
        """Refuse, in one sentence naming the setting, any value outside :data:`LIMITS`
        (non-finite numbers, wrong types and absurd sizes included)."""
        for name, number in LIMITS.items():
            number.check(getattr(self, name))
        check_flag("smoothing cascade", self.smoothing_cascade)
        check_flag("keep colors", self.keep_colors)
        check_choice("pyramid", self.pyramid, PYRAMIDS)
        check_choice("precision", self.precision, PRECISIONS)


# What each numeric setting may be (see checks.py): wide enough for any look, narrow enough
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
}


# The layer tour: lighter than a still's defaults, on a small copy of the photo.
TOUR_CONFIG = replace(DreamConfig(), octaves=3, steps=6, step_size=0.02)
TOUR_SIZE = 200  # longest side (pixels) of the photo each layer dreams on
SIZE = Number("tour size", 32, 16_384, whole=True)  # what a tour's size may be


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


@dataclass(frozen=True)
class FlowConfig:
    """How a dream is carried from one frame of a video to the next."""

    carry: float = 0.6  # share of the previous frame's dream detail carried forward (0: none)
    flow: bool = True  # warp it along the optical flow; False carries it in place (flickers)

    def validate(self) -> None:
        CARRY.check(self.carry)
        if not isinstance(self.flow, bool):
            raise InceptionismError(f"Flow must be true or false (got {self.flow!r}).")

EVERY = Number("frames per objective", 1, FRAMES.high, whole=True)  # cycling videos
