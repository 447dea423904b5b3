"""The settings of dreams, tours and videos, as frozen dataclasses, and the defaults.

Kept free of PyTorch (and of everything else heavy) so that the command line can show its
help, its defaults and its choices without loading torch; ``dream.py``, ``explore.py`` and
``video.py`` re-export what they use from here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .errors import InceptionismError

DEFAULT_MODEL = "efficientnet_lite0"  # the embedded model, installed with the package

PYRAMIDS = ("octave", "recursive")
PRECISIONS = ("float32", "bfloat16")


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
    precision: str = "float32"
    keep_colors: bool = False  # change only the luminance: the photo keeps its own colours

    def validate(self) -> None:
        checks = [
            (self.octaves >= 1, f"octaves must be at least 1 (got {self.octaves})"),
            (self.octave_scale > 1, f"octave scale must be greater than 1 (got {self.octave_scale})"),
            (self.steps >= 0, f"steps must be 0 or more (got {self.steps})"),
            (self.step_size > 0, f"step size must be positive (got {self.step_size})"),
            (self.jitter >= 0, f"jitter must be 0 or more (got {self.jitter})"),
            (self.smoothing >= 0, f"smoothing must be 0 or more (got {self.smoothing})"),
            (self.smoothing_growth >= 0,
             f"smoothing growth must be 0 or more (got {self.smoothing_growth})"),
            (self.pyramid in PYRAMIDS,
             f"pyramid must be one of {', '.join(PYRAMIDS)} (got '{self.pyramid}')"),
            (0 <= self.blend <= 1, f"blend must be between 0 and 1 (got {self.blend})"),
            (self.tile_size >= 32, f"tile size must be at least 32 pixels (got {self.tile_size})"),
            (self.min_size >= 8, f"min size must be at least 8 pixels (got {self.min_size})"),
            (self.precision in PRECISIONS,
             f"precision must be one of {', '.join(PRECISIONS)} (got {self.precision})"),
        ]
        for ok, message in checks:
            if not ok:
                raise InceptionismError(message[0].upper() + message[1:] + ".")


# The layer tour: lighter than a still's defaults, on a small copy of the photo.
TOUR_CONFIG = replace(DreamConfig(), octaves=3, steps=6, step_size=0.02)
TOUR_SIZE = 200  # longest side (pixels) of the photo each layer dreams on

FRAME_CONFIG = DreamConfig(octaves=2, steps=4)


@dataclass(frozen=True)
class ZoomMotion:
    """How the camera moves between two frames of a zoom loop."""

    zoom: float = 1.04  # scale per frame (> 1 flies in): 1.04 doubles in ~18 frames
    rotate: float = 0.0  # degrees per frame, counter-clockwise
    shift: tuple[float, float] = (0.0, 0.0)  # (dx, dy) pixels per frame, right and down

    def validate(self) -> None:
        if not 0.5 <= self.zoom <= 2:
            raise InceptionismError(f"Zoom per frame must be between 0.5 and 2 (got {self.zoom}).")


@dataclass(frozen=True)
class FlowConfig:
    """How a dream is carried from one frame of a video to the next."""

    carry: float = 0.6  # share of the previous frame's dream detail carried forward (0: none)
    flow: bool = True  # warp it along the optical flow; False carries it in place (flickers)

    def validate(self) -> None:
        if not 0 <= self.carry <= 1:
            raise InceptionismError(f"Carry must be between 0 and 1 (got {self.carry}).")
