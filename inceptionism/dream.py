"""The DeepDream loop: gradient ascent on an objective, over an octave pyramid, in tiles.

Tensor in, tensor out: no files, printing or device guessing here. Progress leaves through
an optional callback that receives a :class:`StepInfo` after every step.

The procedure follows Mordvintsev, Olah & Tyka, "Inceptionism: Going Deeper into Neural
Networks" (Google Research blog, 2015) and their deepdream notebook:

1. Build a pyramid of the image, each octave ``octave_scale`` times smaller than the next.
2. Starting at the smallest octave, add the detail dreamed so far (up-scaled), then take
   ``steps`` gradient-ascent steps; what the steps added is the new detail.
3. Each step: roll the image by a random offset (jitter), compute the objective's gradient
   tile by tile (so memory is bounded by the tile, and the random roll moves tile borders
   every step so no seams form), roll the gradient back, optionally blur it, divide it by
   its mean absolute value, and add ``step_size`` times it to the image, clamped to [0, 1].

Two variants, both off by default (the notebook's procedure above):

- ``pyramid="recursive"``: instead of re-injecting only the dreamed *detail*, each octave
  starts from a blend of the down-scaled photo and the whole up-scaled dream of the octave
  below, ``(1 - blend) * photo + blend * dream`` (the recursive scheme of several DeepDream
  scripts). The up-scaled dream is blurry and only ``blend`` of it is kept at each level, so
  the result is softer and lighter: less colour noise, and the photo changes less at the
  same settings (blend 1 keeps the whole dream but blurs the photo; blend 0 starts every
  level from the photo alone).
- Growing, cascaded gradient smoothing: the blur's sigma rises linearly from ``smoothing``
  at an octave's first step to ``smoothing + smoothing_growth`` at its last, and with
  ``smoothing_cascade`` the gradient is the mean of blurs at 0.5, 1 and 2 times that sigma
  (after gordicaleksa/pytorch-deepdream's ``CascadeGaussianSmoothing``). Early steps keep
  fine strokes, late ones favour larger, smoother shapes: with a growth of 2 the dream's
  pixel-level detail (mean squared Laplacian) falls to about a quarter. The cascade mixes a
  finer and a coarser blur into the one at sigma; at the default sigma of 0.5 it looks much
  like a single blur, and it matters with growth or a larger sigma.

Memory: the roll is never materialized. Tiles are cut from the rolled frame by wrapped
indexing, each tile's gradient is blurred and written straight into one gradient buffer
reused by every step of an octave, and the update is done in place. At the largest octave
the loop holds the input, the dream and the gradient (three float images) plus one tile's
activations, which is what lets an 8K image dream in under 2 GiB.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from .checks import Number, check_choice, check_flag, megapixels
from .errors import Cancelled, InceptionismError
from .io.images import DEFAULT_MAX_PIXELS
from .models.base import DreamNet
from .objectives import Objective
from .transforms import cascade_blur, gaussian_blur, resize, split_evenly

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

    def validate(self) -> None:
        """Refuse, in one sentence naming the setting, any value outside :data:`LIMITS`
        (non-finite numbers, wrong types and absurd sizes included)."""
        for name, number in LIMITS.items():
            number.check(getattr(self, name))
        check_flag("smoothing cascade", self.smoothing_cascade)
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


@dataclass(frozen=True)
class StepInfo:
    octave: int  # 0-based, smallest first
    octaves: int  # how many octaves this dream actually uses
    step: int  # 0-based within the octave
    steps: int
    size: tuple[int, int]  # (H, W) of this octave
    objective: float  # objective value measured at this step (before the update)


@dataclass(frozen=True)
class OctaveInfo:
    """Sent to the octave callback when an octave's steps are done."""

    octave: int  # 0-based, smallest first
    octaves: int  # how many octaves this dream actually uses
    size: tuple[int, int]  # (H, W) of this octave
    image: Tensor  # (1, 3, H, W) the dream so far at this octave's size, in [0, 1]; a copy


StepCallback = Callable[[StepInfo], None]
OctaveCallback = Callable[[OctaveInfo], None]


class CancelToken:
    """A flag one thread sets to stop a dream running in another.

    :func:`dream` checks it before every gradient step and raises
    :class:`~inceptionism.errors.Cancelled` once it is set, so a dream stops within one step
    (a fraction of a second at preview sizes). Callbacks may also raise ``Cancelled``
    themselves. Thread-safe; one token may stop several dreams.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask every dream watching this token to stop at its next step."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`~inceptionism.errors.Cancelled` if :meth:`cancel` was called."""
        if self._event.is_set():
            raise Cancelled("The dream was cancelled.")


def fit_to_model(config: DreamConfig, model: DreamNet) -> DreamConfig:
    """``config`` with ``min_size`` raised to the smallest input ``model`` accepts.

    Some networks refuse small inputs (Inception v3 needs 75 pixels a side), so no octave
    may be smaller; tiles are at least half ``tile_size``, so that must be large enough
    too, and a ``tile_size`` that is not is refused.
    """
    smallest = model.min_input_size
    if config.tile_size < 2 * smallest:
        raise InceptionismError(
            f"This model needs tiles of at least {smallest} pixels a side, so the tile size "
            f"must be at least {2 * smallest} (got {config.tile_size})."
        )
    if config.min_size < smallest:
        config = dataclasses.replace(config, min_size=smallest)
    return config


def working_size(height: int, width: int, config: DreamConfig) -> tuple[int, int]:
    """The (H, W) the largest octave of an ``height`` x ``width`` image is dreamed at: its
    own size, or larger when its shorter side is below ``config.min_size`` (then it is
    up-scaled so that side is ``min_size``)."""
    short = min(height, width)
    if short < config.min_size:
        f = config.min_size / short
        return round(height * f), round(width * f)
    return height, width


def check_working_size(
    height: int, width: int, config: DreamConfig, max_pixels: int = DEFAULT_MAX_PIXELS,
    what: str = "image",
) -> tuple[int, int]:
    """Refuse, before any work, an ``height`` x ``width`` ``what`` whose working size (see
    :func:`working_size`) is more than ``max_pixels``; return the working size.

    The work and memory of a dream follow the pixels dreamed, not those in the file: a
    300 KB 100000x1 PNG up-scaled to a 64-pixel short side is 409.6 megapixels.
    """
    if height < 1 or width < 1:
        raise InceptionismError(f"An {what} needs at least 1 pixel a side (got {width}x{height}).")
    h, w = working_size(height, width, config)
    if h * w > max_pixels:
        size = f"{width}x{height} {what}"
        if (h, w) != (height, width):
            size += (f" is dreamed at {w}x{h} (its shorter side raised to the minimum size of "
                     f"{config.min_size}), which")
        problem = (f"A {size} is {megapixels(h * w)} megapixels, more than the limit of "
                   f"{megapixels(max_pixels)} megapixels")
        raise InceptionismError(f"{problem}.", remedy="pixel_limit", problem=problem)
    return h, w


def octave_sizes(height: int, width: int, config: DreamConfig) -> list[tuple[int, int]]:
    """The (H, W) of each octave, smallest first, never below ``min_size`` on the short side.

    Fewer than ``config.octaves`` are returned when more would shrink below ``min_size``.
    """
    sizes = [(height, width)]
    for i in range(1, config.octaves):
        f = config.octave_scale**i
        h, w = round(height / f), round(width / f)
        if min(h, w) < config.min_size:
            break
        sizes.append((h, w))
    return sizes[::-1]


def _autocast(device: torch.device, precision: str):
    if precision == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=getattr(torch, precision))


def objective_gradient(
    model: DreamNet,
    image: Tensor,
    objective: Objective,
    config: DreamConfig,
    shift: tuple[int, int] = (0, 0),
    out: Tensor | None = None,
    sigma: float | None = None,
) -> tuple[Tensor, float, float]:
    """Gradient of ``objective`` w.r.t. ``image`` rolled by ``shift``, tile by tile.

    The rolled image is never built: each tile of the rolled frame is gathered from
    ``image`` with wrapped indices, and its gradient (blurred with ``sigma``, by default
    ``config.smoothing``, cascaded if ``config.smoothing_cascade``) is
    scattered back to where those pixels live in ``image``, so ``out`` is already "rolled
    back". Each tile's objective is weighted by its share of the image's area, so the result
    approximates the whole image's gradient while only one tile's activations are held at
    a time. Returns (gradient, objective value, mean absolute gradient).
    """
    height, width = image.shape[-2:]
    grad = torch.empty_like(image) if out is None else out
    dy, dx = shift
    sigma = config.smoothing if sigma is None else sigma
    blur = cascade_blur if config.smoothing_cascade else gaussian_blur
    value, abs_sum = 0.0, 0.0
    for y0, y1 in split_evenly(height, config.tile_size):
        rows = (torch.arange(y0, y1, device=image.device) - dy) % height
        for x0, x1 in split_evenly(width, config.tile_size):
            cols = (torch.arange(x0, x1, device=image.device) - dx) % width
            tile = image[:, :, rows[:, None], cols[None, :]]
            tile = tile.contiguous(memory_format=model.memory_format).requires_grad_(True)
            share = (y1 - y0) * (x1 - x0) / (height * width)
            with _autocast(image.device, config.precision):
                acts = model.features(tile, objective.layers)
            loss = objective({k: v.float() for k, v in acts.items()}) * share
            (tile_grad,) = torch.autograd.grad(loss, tile)
            tile_grad = blur(tile_grad.float(), sigma)
            grad[:, :, rows[:, None], cols[None, :]] = tile_grad
            value += loss.item()
            abs_sum += tile_grad.abs().sum().item()
    return grad, value, abs_sum / grad.numel()


def smoothing_sigma(config: DreamConfig, step: int) -> float:
    """The gradient blur's sigma at ``step`` of an octave: grows linearly over the steps."""
    if config.steps <= 1 or config.smoothing_growth == 0:
        return config.smoothing
    return config.smoothing + config.smoothing_growth * step / (config.steps - 1)


def ascent_step(
    model: DreamNet,
    image: Tensor,
    objective: Objective,
    config: DreamConfig,
    rng: random.Random,
    sigma: float | None = None,
    grad: Tensor | None = None,
) -> tuple[Tensor, float]:
    """One normalized gradient-ascent step with jitter, done in place on ``image``.

    ``sigma`` is the gradient blur for this step (default: ``config.smoothing``); ``grad``
    an optional buffer of the image's shape, reused between steps.
    Returns (image, objective value).
    """
    height, width = image.shape[-2:]
    dy = rng.randint(-config.jitter, config.jitter)
    dx = rng.randint(-config.jitter, config.jitter)
    if height > config.tile_size or width > config.tile_size:
        # Move the tile grid too, so tile borders never stay in one place.
        dy += rng.randrange(config.tile_size)
        dx += rng.randrange(config.tile_size)
    grad, value, mean_abs = objective_gradient(
        model, image, objective, config, (dy, dx), grad, sigma)
    image.add_(grad, alpha=config.step_size / (mean_abs + 1e-8)).clamp_(0, 1)
    return image, value


def dream(
    model: DreamNet,
    image: Tensor,
    objective: Objective,
    config: DreamConfig = DreamConfig(),
    callback: StepCallback | None = None,
    on_octave: OctaveCallback | None = None,
    cancel: CancelToken | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Tensor:
    """Dream on ``image`` (1, 3, H, W), RGB in [0, 1], on the model's device.

    ``callback`` gets a :class:`StepInfo` after every step; ``on_octave`` an
    :class:`OctaveInfo` (with a copy of the image so far) after every octave; ``cancel`` is
    checked before every step and stops the dream with
    :class:`~inceptionism.errors.Cancelled`. Returns a new tensor of the same shape with
    values in [0, 1]. An image whose working size (see :func:`working_size`) is more than
    ``max_pixels`` is refused before any work.
    """
    config.validate()
    config = fit_to_model(config, model)
    if image.dim() != 4 or image.shape[:2] != (1, 3):
        raise ValueError(f"expected a (1, 3, H, W) image tensor, got {tuple(image.shape)}")
    height, width = image.shape[-2:]
    size = check_working_size(height, width, config, max_pixels)
    if not torch.isfinite(image.sum()):  # one number: no image-sized temporary
        raise InceptionismError("The image holds values that are not finite numbers (NaN or "
                                "infinity); its pixels must be numbers from 0 to 1.")
    rng = random.Random(config.seed)
    # Too small for the network to see anything: dream on an up-scaled copy.
    work = resize(image, size)

    sizes = octave_sizes(work.shape[-2], work.shape[-1], config)
    dreamed = detail = None
    for octave, size in enumerate(sizes):
        base = resize(work, size)  # `work` itself at the largest octave: no copy
        if dreamed is None:
            dreamed = base.clone()
        elif config.pyramid == "recursive":  # blend*dream + (1-blend)*photo, in place
            dreamed = resize(dreamed, size).lerp_(base, 1 - config.blend).clamp_(0, 1)
        else:  # re-inject the detail dreamed so far, up-scaled, in place
            dreamed = resize(detail, size).add_(base).clamp_(0, 1)
            detail = None
        grad = torch.empty_like(dreamed)
        for step in range(config.steps):
            if cancel is not None:
                cancel.check()
            sigma = smoothing_sigma(config, step)
            dreamed, value = ascent_step(model, dreamed, objective, config, rng, sigma, grad)
            if callback is not None:
                callback(StepInfo(octave, len(sizes), step, config.steps, size, value))
        del grad
        if on_octave is not None:
            on_octave(OctaveInfo(octave, len(sizes), size, dreamed.detach().clone()))
        if config.pyramid == "octave" and octave < len(sizes) - 1:
            detail = dreamed.sub_(base)
    if dreamed.shape[-2:] != image.shape[-2:]:
        dreamed = resize(dreamed, (height, width)).clamp(0, 1)
    return dreamed
