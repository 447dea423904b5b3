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

Two ways to keep part of the photo, both applied by this loop so that stills, tiles, zooms and
videos get them alike:

- A *mask* (``dream(..., mask=...)``), one weight per pixel in [0, 1]: each step's update is
  multiplied by it (resized to the octave), each octave starts from the photo where it is 0,
  and the result is ``photo + mask * (dream - photo)``. Black (0) leaves the photo bit for
  bit, white (1) dreams exactly as without a mask, grey partly; a blurred mask fades the
  dream in without a seam, since both the update and the blend follow its gradient.
- ``keep_colors``: only the luminance changes. The dream's luma (BT.601, as in JPEG's
  YCbCr) is put on the photo by adding the same amount to R, G and B, which leaves Cb and Cr
  (the photo's own colours) unchanged, after neural-style's ``-original_colors`` (Gatys et
  al., "Preserving Color in Neural Artistic Style Transfer", 2016).

For videos, an optional *temporal term* (``dream(..., temporal=...)``, ``engine/temporal.py``)
holds the dream to a target, the previous frame's dream carried into this one, weighted per
pixel: after every step each pixel is pulled towards its target by a proximal step, so the
dream ascends ``objective - strength * 1/2 sum(weight * (x - target)^2)``. Without it the
loop is exactly the one above.

Memory: the roll is never materialized. Tiles are cut from the rolled frame by wrapped
indexing, each tile's gradient is blurred and written straight into one gradient buffer
reused by every step of an octave, and the update is done in place. At the largest octave
the loop holds the input, the dream and the gradient (three float images) plus the
activations of the tiles being worked on: on the CPU one per busy tile worker (see
``runtime.py``: every tile on one thread, several at once, so that the result does not
depend on the thread count), on a GPU one batch of ``model.tile_batch`` tiles.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from ..errors import Cancelled, InceptionismError
from ..models.base import DreamNet
from ..settings import DEFAULT_MAX_PIXELS, DreamConfig, megapixels
from .objectives import Objective
from .runtime import one_thread
from .temporal import Temporal, pull
from .transforms import (
    cascade_blur,
    gaussian_blur,
    keep_luminance,
    lapnorm,
    resize,
    resize_mask,
    split_evenly,
)

@dataclass(frozen=True)
class StepInfo:
    octave: int  # 0-based, smallest first
    octaves: int  # how many octaves this dream actually uses
    step: int  # 0-based within the octave
    steps: int
    size: tuple[int, int]  # (H, W) of this octave
    objective: float  # objective value measured at this step (before the update)
    sizes: tuple[tuple[int, int], ...] = ()  # (H, W) of every octave, smallest first

    @property
    def work(self) -> tuple[int, int]:
        """(done, total) work of the dream after this step, in pixel-steps: a step costs
        about as much as its octave has pixels, so each octave costs about twice the one
        before, and counting steps alone misjudges the time left by a factor of 2 or more."""
        pixels = [h * w for h, w in self.sizes] or [self.size[0] * self.size[1]] * self.octaves
        done = sum(pixels[: self.octave]) * self.steps + pixels[self.octave] * (self.step + 1)
        return done, sum(pixels) * self.steps


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


def resolve_precision(precision: str, model: DreamNet) -> str:
    """``precision``, with ``"auto"`` made concrete for ``model`` on its device.

    bfloat16 when (1) the device computes it natively (CPUs with AVX512-BF16 or AMX, GPUs
    that report bfloat16 support), and (2) the network is compute-bound: a network with
    depthwise convolutions (EfficientNet-Lite) is limited by memory traffic, where bfloat16
    was measured no faster (docs/performance.md). Dreams in bfloat16 are the same dream
    by our measures (objective gain, pixel difference no larger than seed to seed; tested).
    """
    if precision != "auto":
        return precision
    from .runtime import native_bfloat16

    return "bfloat16" if native_bfloat16(model.mean.device) and not model.depthwise else "float32"


def fit_to_model(config: DreamConfig, model: DreamNet) -> DreamConfig:
    """``config`` with ``min_size`` raised to the smallest input ``model`` accepts, and an
    ``"auto"`` precision resolved for it (:func:`resolve_precision`).

    Some networks refuse small inputs (Inception v3 needs 75 pixels a side), so no octave
    may be smaller; tiles are at least half ``tile_size``, so that must be large enough
    too, and a ``tile_size`` that is not is refused.
    """
    if config.precision == "auto":
        config = dataclasses.replace(config, precision=resolve_precision(config.precision, model))
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
        article = "An" if what[:1].lower() in "aeiou" else "A"
        raise InceptionismError(f"{article} {what} needs at least 1 pixel a side "
                                f"(got {width}x{height}).")
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


def tile_spans(height: int, width: int, config: DreamConfig, model: DreamNet) -> tuple[list, list]:
    """The row spans and column spans of the tile grid of an ``height`` x ``width`` image:
    the fewest near-equal tiles no larger than ``config.tile_size``; except that for a
    compute-bound network (no depthwise convolutions), an image that would be one tile is
    cut in two across its longer side when each half still has ``config.min_size`` pixels.

    Tiles run one per thread so that the pixels do not depend on the thread count
    (``runtime.py``), so a lone tile keeps one core busy. Two halves keep two: one Inception
    v3 step at 315x420 took 155 ms as one tile and 88 ms as two (float32; bfloat16 65 and
    48 ms). EfficientNet-Lite0 was slower in halves (a 192x144 step: 12.9 ms whole, 15.6 ms
    in halves; at 300x400 no faster), so depthwise networks keep their lone tiles. The grid
    depends on the recipe alone (the network is part of it), never on the machine."""
    rows, cols = split_evenly(height, config.tile_size), split_evenly(width, config.tile_size)
    if (len(rows) == len(cols) == 1 and max(height, width) >= 2 * config.min_size
            and not model.depthwise):
        if width >= height:
            cols = split_evenly(width, math.ceil(width / 2))
        else:
            rows = split_evenly(height, math.ceil(height / 2))
    return rows, cols


Pieces = tuple[tuple[int, int, int], ...]  # (source start, source stop, offset in the tile)


def wrapped_pieces(start: int, stop: int, shift: int, length: int) -> Pieces:
    """Where positions ``[start, stop)`` of an axis of ``length`` rolled by ``shift`` come
    from: one or two contiguous pieces of the unrolled axis, each (source start, source
    stop, offset in the span)."""
    first = (start - shift) % length
    n = stop - start
    if first + n <= length:
        return ((first, first + n, 0),)
    return ((first, length, 0), (0, first + n - length, length - first))


def tile_groups(
    height: int, width: int, config: DreamConfig, model: DreamNet, shift: tuple[int, int],
    batch: int = 1,
) -> list[list[tuple[Pieces, Pieces, float]]]:
    """The tiles of an ``height`` x ``width`` image rolled by ``shift`` (:func:`tile_spans`),
    as groups of at most ``batch`` tiles of one shape: each tile is (rows, cols, share), the
    pieces of the image's rows and columns it covers (:func:`wrapped_pieces`) and its share
    of the image's area."""
    dy, dx = shift
    by_shape: dict[tuple[int, int], list[tuple[Pieces, Pieces, float]]] = {}
    row_spans, col_spans = tile_spans(height, width, config, model)
    for y0, y1 in row_spans:
        rows = wrapped_pieces(y0, y1, dy, height)
        for x0, x1 in col_spans:
            cols = wrapped_pieces(x0, x1, dx, width)
            share = (y1 - y0) * (x1 - x0) / (height * width)
            by_shape.setdefault((y1 - y0, x1 - x0), []).append((rows, cols, share))
    return [tiles[i:i + batch] for tiles in by_shape.values() for i in range(0, len(tiles), batch)]


def _gather(image: Tensor, rows: Pieces, cols: Pieces, memory_format: torch.memory_format) -> Tensor:
    """The tile of ``image`` at ``rows`` x ``cols``, copied piece by piece (at most four
    block copies: indexing with a wrapped index grid took 4% of a bfloat16 step)."""
    h, w = sum(r1 - r0 for r0, r1, _ in rows), sum(c1 - c0 for c0, c1, _ in cols)
    tile = torch.empty((1, image.shape[1], h, w), dtype=image.dtype, device=image.device,
                       memory_format=memory_format)
    for r0, r1, ro in rows:
        for c0, c1, co in cols:
            tile[:, :, ro:ro + r1 - r0, co:co + c1 - c0] = image[:, :, r0:r1, c0:c1]
    return tile


def _scatter(grad: Tensor, tile: Tensor, rows: Pieces, cols: Pieces) -> None:
    """Write ``tile`` back where :func:`_gather` took it from."""
    for r0, r1, ro in rows:
        for c0, c1, co in cols:
            grad[:, :, r0:r1, c0:c1] = tile[:, :, ro:ro + r1 - r0, co:co + c1 - c0]


def _group_gradient(
    model: DreamNet, image: Tensor, objective: Objective, precision: str, blur, sigma: float,
    grad: Tensor, group: list[tuple[Pieces, Pieces, float]],
) -> tuple[float, float]:
    """Write the blurred gradient of one group of tiles into ``grad`` where the tiles live;
    return (objective value, sum of absolute gradient). Runs in a tile worker or the caller."""
    crops = [_gather(image, rows, cols, model.memory_format) for rows, cols, _ in group]
    batch = crops[0] if len(crops) == 1 else torch.cat(crops)  # no copy for one tile
    batch = batch.contiguous(memory_format=model.memory_format).requires_grad_(True)
    with torch.enable_grad(), _autocast(image.device, precision):  # both are per thread
        acts = model.features(batch, objective.layers)
    # Each tile's activations in float32. A lone tile's are the batch's own (a slice would
    # add a zero fill and a copy per layer to the backward); a batch's are split, whose
    # backward is one concatenation instead of a zero-filled, added copy per tile.
    floats = {k: v.float() for k, v in acts.items()}
    tiles = ([floats] if len(group) == 1 else
             [dict(zip(floats, parts)) for parts in zip(*(v.split(1) for v in floats.values()))])
    terms = [objective(a) * share for a, (_, _, share) in zip(tiles, group)]
    loss = sum(terms[1:], terms[0])  # no "0 +" kernel for one tile
    (batch_grad,) = torch.autograd.grad(loss, batch)
    batch_grad = blur(batch_grad.float(), sigma)
    for j, (rows, cols, _) in enumerate(group):  # tiles never overlap: workers write apart
        _scatter(grad, batch_grad[j:j + 1], rows, cols)
    return loss.item(), batch_grad.abs().sum().item()


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
    approximates the whole image's gradient while only a few tiles' activations are held at
    a time.

    On the CPU each tile is computed on one thread, several tiles at once on the process's
    tile workers (:func:`~inceptionism.engine.runtime.tile_pool`), and their sums are added in tile
    order, so the result does not depend on how many workers there are. On a GPU, tiles of
    one shape go through the network ``model.tile_batch`` at a time. Returns (gradient,
    objective value, mean absolute gradient).
    """
    from .runtime import tile_pool

    height, width = image.shape[-2:]
    grad = torch.empty_like(image) if out is None else out
    sigma = config.smoothing if sigma is None else sigma
    blur = cascade_blur if config.smoothing_cascade else gaussian_blur
    precision = resolve_precision(config.precision, model)  # dream() has resolved it already
    on_cpu = image.device.type == "cpu"
    batch = 1 if on_cpu else max(1, getattr(model, "tile_batch", 1))
    groups = tile_groups(height, width, config, model, shift, batch)
    pool = tile_pool() if on_cpu and len(groups) > 1 else None

    def run(group):
        return _group_gradient(model, image, objective, precision, blur, sigma, grad, group)

    results = list(pool.map(run, groups) if pool is not None else map(run, groups))
    value = abs_sum = 0.0
    for group_value, group_abs in results:  # in tile order, whoever computed them
        value += group_value
        abs_sum += group_abs
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
    weight: Tensor | None = None,
) -> tuple[Tensor, float]:
    """One normalized gradient-ascent step with jitter, done in place on ``image``.

    ``sigma`` is the gradient blur for this step (default: ``config.smoothing``); ``grad``
    an optional buffer of the image's shape, reused between steps; ``weight`` an optional
    (1, 1, H, W) mask in [0, 1] that scales the update pixel by pixel. The step size is
    normalized by the whole gradient, so where the weight is 1 the step is the unmasked one.
    Returns (image, objective value).
    """
    height, width = image.shape[-2:]
    dy = rng.randint(-config.jitter, config.jitter)
    dx = rng.randint(-config.jitter, config.jitter)
    if max(len(spans) for spans in tile_spans(height, width, config, model)) > 1:
        # Move the tile grid too, so tile borders never stay in one place.
        dy += rng.randrange(config.tile_size)
        dx += rng.randrange(config.tile_size)
    grad, value, mean_abs = objective_gradient(
        model, image, objective, config, (dy, dx), grad, sigma)
    if config.lapnorm:  # every band of the pyramid at unit RMS, then the same step rule
        grad.copy_(lapnorm(grad, config.lapnorm))
        mean_abs = grad.abs().mean().item()
    if weight is not None:
        grad.mul_(weight)
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
    mask: Tensor | None = None,
    temporal: Temporal | None = None,
) -> Tensor:
    """Dream on ``image`` (1, 3, H, W), RGB in [0, 1], on the model's device.

    ``callback`` gets a :class:`StepInfo` after every step; ``on_octave`` an
    :class:`OctaveInfo` (with a copy of the image so far) after every octave; ``cancel`` is
    checked before every step and stops the dream with
    :class:`~inceptionism.errors.Cancelled`. ``mask``: optional per-pixel weights in [0, 1],
    (1, 1, H, W) or (H, W) of the image's size: 0 keeps the photo bit for bit, 1 dreams
    fully (see the module's docstring). Returns a new tensor of the same shape with values
    in [0, 1]. An image whose working size (see :func:`working_size`) is more than
    ``max_pixels`` is refused before any work. ``temporal``: an optional
    :class:`~inceptionism.engine.temporal.Temporal` term of the image's size that holds the
    dream to a target (a video's previous frame, carried); after every step each pixel is
    pulled towards it (:func:`~inceptionism.engine.temporal.pull`). Without it (or at strength
    0) the dream is exactly what it is without the term.
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
    if mask is not None:
        mask = check_mask(mask, (height, width)).to(image.device, torch.float32)
    if temporal is not None:
        temporal = check_temporal(temporal, (height, width), image.device)
    with one_thread():  # the same pixels whatever the thread count (runtime.py)
        return _dream_octaves(model, image, objective, config, size, mask, callback,
                              on_octave, cancel, temporal)


def _dream_octaves(model, image, objective, config, size, mask, callback, on_octave,
                   cancel, temporal=None) -> Tensor:
    """The octave loop of :func:`dream`, on checked inputs, at working size ``size``."""
    height, width = image.shape[-2:]
    rng = random.Random(config.seed)
    # Too small for the network to see anything: dream on an up-scaled copy.
    work = resize(image, size)
    work_mask = None if mask is None else resize_mask(mask, size)
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
        weight = None if work_mask is None else resize_mask(work_mask, size)
        if weight is not None:  # masked-out pixels start each octave from the photo itself
            dreamed = torch.lerp(base, dreamed, weight)
        held = None if temporal is None else temporal.at(size)
        grad = torch.empty_like(dreamed)
        for step in range(config.steps):
            if cancel is not None:
                cancel.check()
            sigma = smoothing_sigma(config, step)
            dreamed, value = ascent_step(model, dreamed, objective, config, rng, sigma, grad,
                                         weight)
            if held is not None:
                pull(dreamed, held.target, held.weight, config.step_size * held.strength)
            if callback is not None:
                callback(StepInfo(octave, len(sizes), step, config.steps, size, value,
                                  tuple(sizes)))
        del grad
        if on_octave is not None:
            on_octave(OctaveInfo(octave, len(sizes), size, dreamed.detach().clone()))
        if config.pyramid == "octave" and octave < len(sizes) - 1:
            detail = dreamed.sub_(base)
    if dreamed.shape[-2:] != image.shape[-2:]:
        dreamed = resize(dreamed, (height, width)).clamp(0, 1)
    if config.keep_colors:
        dreamed = keep_luminance(dreamed, image)
    if mask is not None:
        # lerp(a, b, 0) is a and lerp(a, b, 1) is b exactly: black keeps the photo bit for
        # bit, white keeps the dream as it is.
        dreamed = torch.lerp(image, dreamed, mask)
    return dreamed


def check_temporal(temporal: Temporal, size: tuple[int, int],
                   device: torch.device | None = None) -> Temporal | None:
    """``temporal`` with its target and weight checked against the image's (H, W) ``size``
    and brought to float32 on ``device``; None when its strength is 0 (the term is off)."""
    strength = temporal.strength
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) \
            or not math.isfinite(strength) or strength < 0:
        raise InceptionismError(f"The temporal strength must be a number of 0 or more "
                                f"(got {strength!r}).")
    if strength == 0:
        return None
    if tuple(temporal.target.shape) != (1, 3, *size):
        raise ValueError(f"expected a (1, 3, {size[0]}, {size[1]}) temporal target, "
                         f"got {tuple(temporal.target.shape)}")
    target = temporal.target.to(device or temporal.target.device, torch.float32)
    if not torch.isfinite(target.sum()):
        raise InceptionismError("The temporal target holds values that are not finite numbers.")
    weight = check_mask(temporal.weight, size).to(target.device)
    return Temporal(target, weight, float(strength))


def check_mask(mask: Tensor, size: tuple[int, int]) -> Tensor:
    """``mask`` as a (1, 1, H, W) float tensor in [0, 1] of ``size`` (H, W), or an error."""
    if mask.dim() == 2:
        mask = mask[None, None]
    if mask.dim() != 4 or mask.shape[:2] != (1, 1):
        raise ValueError(f"expected a (H, W) or (1, 1, H, W) mask, got {tuple(mask.shape)}")
    if tuple(mask.shape[-2:]) != tuple(size):
        raise InceptionismError(
            f"The mask is {mask.shape[-1]}x{mask.shape[-2]} but the image is {size[1]}x{size[0]}; "
            "resize it to the image first."
        )
    mask = mask.float()
    if not bool(torch.isfinite(mask).all()) or mask.min() < 0 or mask.max() > 1:
        raise InceptionismError("A mask's values must lie between 0 and 1.")
    return mask
