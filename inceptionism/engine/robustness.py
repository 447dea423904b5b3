"""Transformation robustness: small random transforms applied to the image at every step.

An image that activates a channel only at one exact pixel alignment is adversarial noise;
one that still activates it after being padded, shifted, scaled and rotated a little shows
the feature (Olah, Mordvintsev and Schubert, "Feature Visualization", Distill 2017, section
"Transformation Robustness"; lucid's ``transform.standard_transforms``).

Each transform is a frozen dataclass applied as ``t(x, generator)`` to an (N, 3, H, W)
tensor; the random choices come only from the ``torch.Generator`` passed in, so a seed
fixes them. All are differentiable (``F.pad``, slicing, ``F.interpolate``,
``F.grid_sample``). A list has a short string form (:func:`transforms_spec`,
:func:`parse_transforms`) for recipes::

    pad=12,jitter=8,scale=0.9:1.1,rotate=10,jitter=4

Some change the size (pad grows it, jitter crops it, scale resizes it): the network sees
the transformed image, never the image itself, so that is harmless.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import InceptionismError


def _pick(generator: torch.Generator | None, n: int) -> int:
    """A uniform integer in [0, n), drawn from ``generator``."""
    return int(torch.randint(n, (1,), generator=generator).item())


@dataclass(frozen=True)
class Pad:
    """Pad every side by ``pixels`` with a constant grey (so the border is not an edge the
    network can latch onto) or by reflection."""

    pixels: int
    mode: str = "constant"  # "constant" (value 0.5) or "reflect"

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        p = self.pixels
        if self.mode == "constant":
            return F.pad(x, (p, p, p, p), mode="constant", value=0.5)
        return F.pad(x, (p, p, p, p), mode="reflect")

    @property
    def spec(self) -> str:
        return f"pad={self.pixels}" + ("" if self.mode == "constant" else ":reflect")


@dataclass(frozen=True)
class Jitter:
    """Crop a random window ``pixels`` smaller in each direction: a shift of 0..pixels."""

    pixels: int

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        d = self.pixels
        h, w = x.shape[2] - d, x.shape[3] - d
        if h < 1 or w < 1:
            raise InceptionismError(f"Jitter by {d} pixels needs an image larger than {d}x{d}.")
        dy, dx = _pick(generator, d + 1), _pick(generator, d + 1)
        return x[:, :, dy:dy + h, dx:dx + w]

    @property
    def spec(self) -> str:
        return f"jitter={self.pixels}"


@dataclass(frozen=True)
class Scale:
    """Resize by a factor drawn uniformly from ``factors`` (bilinear)."""

    factors: tuple[float, ...]

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        k = self.factors[_pick(generator, len(self.factors))]
        if k == 1:
            return x
        size = (max(1, round(x.shape[2] * k)), max(1, round(x.shape[3] * k)))
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)

    @property
    def spec(self) -> str:
        return "scale=" + ";".join(repr(float(k)) for k in self.factors)


@dataclass(frozen=True)
class Rotate:
    """Rotate about the centre by an angle in degrees drawn uniformly from ``degrees``;
    corners that come from outside the image are grey."""

    degrees: tuple[float, ...]

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        angle = self.degrees[_pick(generator, len(self.degrees))]
        if angle == 0:
            return x
        return rotate(x, angle)

    @property
    def spec(self) -> str:
        return "rotate=" + ";".join(repr(float(a)) for a in self.degrees)


Transform = Pad | Jitter | Scale | Rotate


def rotate(x: Tensor, degrees: float, fill: float = 0.5) -> Tensor:
    """Rotate (N, C, H, W) counter-clockwise by ``degrees`` about the centre (bilinear),
    outside filled with ``fill``. Pixel coordinates are used (not [-1, 1] per axis), so a
    non-square image is rotated, not sheared."""
    n, _, h, w = x.shape
    a = math.radians(degrees)
    cos, sin = math.cos(a), math.sin(a)
    # Output pixel (u, v) in centred pixel units reads input (cos*u - sin*v, sin*u + cos*v)
    # (the inverse rotation); in grid_sample's normalized units the axes scale by w and h.
    theta = torch.tensor([[cos, -sin * h / w, 0.0], [sin * w / h, cos, 0.0]],
                         dtype=x.dtype, device=x.device)
    grid = F.affine_grid(theta.expand(n, 2, 3), list(x.shape), align_corners=False)
    out = F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out + fill


def apply(x: Tensor, transforms: Sequence[Transform],
          generator: torch.Generator | None = None) -> Tensor:
    """Apply ``transforms`` in order, each drawing its random choice from ``generator``."""
    for t in transforms:
        x = t(x, generator)
    return x


def standard(size: int = 128) -> tuple[Transform, ...]:
    """lucid's standard transforms, with pad and jitter in proportion to the image's size
    (lucid's are for 128 px and up): pad 12, jitter 8, scale 0.9 to 1.1, rotate -10 to 10
    degrees (upright 6 times in 26), jitter 4."""
    r = max(size, 32) / 128
    return (
        Pad(max(1, round(12 * r))),
        Jitter(max(1, round(8 * r))),
        Scale(tuple(1 + (i - 5) / 50 for i in range(11))),
        Rotate(tuple(float(a) for a in range(-10, 11)) + (0.0,) * 5),
        Jitter(max(1, round(4 * r))),
    )


def gentle(size: int = 128) -> tuple[Transform, ...]:
    """The default: a random shift of up to 4 pixels per 128 (a crop). On the small
    EfficientNet-Lite0, lucid's full set cost a third of the activation the image reaches;
    a shift alone keeps the image smooth for a fifth (docs/microscope.md)."""
    return (Jitter(max(1, round(4 * max(size, 32) / 128))),)


def transforms_spec(transforms: Sequence[Transform]) -> str:
    """The string form of a transform list ("" for none); :func:`parse_transforms` reads it."""
    return ",".join(t.spec for t in transforms)


def parse_transforms(text: str) -> tuple[Transform, ...]:
    """Read ``pad=N[:reflect]``, ``jitter=N``, ``scale=K;K;...``, ``rotate=D;D;...``
    terms, comma-separated ("" or "none": no transforms). ``scale=A:B`` is the 11 factors
    from A to B, ``rotate=D`` the whole degrees from -D to D."""
    text = text.strip()
    if text in ("", "none"):
        return ()
    out: list[Transform] = []
    for term in text.split(","):
        name, _, value = term.strip().partition("=")
        name, value = name.strip(), value.strip()
        try:
            if name == "pad":
                pixels, _, mode = value.partition(":")
                if mode not in ("", "reflect"):
                    raise ValueError
                out.append(Pad(_whole(pixels), mode or "constant"))
            elif name == "jitter":
                out.append(Jitter(_whole(value)))
            elif name == "scale":
                if ":" in value:
                    lo, hi = (float(v) for v in value.split(":"))
                    factors = tuple(lo + (hi - lo) * i / 10 for i in range(11))
                else:
                    factors = tuple(float(v) for v in value.split(";"))
                if not factors or not all(0.25 <= k <= 4 for k in factors):
                    raise ValueError
                out.append(Scale(factors))
            elif name == "rotate":
                if ";" in value:
                    degrees = tuple(float(v) for v in value.split(";"))
                else:
                    d = _whole(value)
                    degrees = tuple(float(a) for a in range(-d, d + 1))
                if not all(-360 <= a <= 360 for a in degrees):
                    raise ValueError
                out.append(Rotate(degrees))
            else:
                raise InceptionismError(
                    f"Unknown transform '{name}' in '{text}'; use pad, jitter, scale or rotate.")
        except ValueError:
            raise InceptionismError(
                f"Transform '{term.strip()}' is not valid: pad=N[:reflect], jitter=N, "
                "scale=A:B or scale=K;K;... (0.25 to 4), rotate=D or rotate=D;D;... (degrees)."
            ) from None
    return tuple(out)


def _whole(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 4:
        raise ValueError
    return int(text)
