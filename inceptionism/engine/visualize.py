"""Feature visualization: an image optimized from noise to excite a unit of a network.

:func:`visualize` runs Adam on a parameterization's tensor (:mod:`inceptionism.engine.param`),
showing the network a randomly transformed copy of the image at every step
(:mod:`inceptionism.engine.robustness`), and returns the image. With the pixel parameterization and
no transforms it is the naive method, whose result is high-frequency noise; with the FFT
parameterization, decorrelated colour and the standard transforms it is the readable one of
Olah, Mordvintsev and Schubert, "Feature Visualization" (Distill 2017), as in lucid's
``render.render_vis``.

:func:`lapnorm` is the other classic regularizer, from the original DeepDream notebook's
``render_lapnorm``: the gradient is split into the bands of a Laplacian pyramid, each band
divided by its own RMS, and summed back, so coarse structure is not drowned out by the
high-frequency part of the gradient. :func:`visualize` can apply it to the image's gradient
(``lapnorm_levels``); it is a pure function any dream loop can apply to its gradient.

Everything here is tensor in, tensor out; progress leaves through the ``callback``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import InceptionismError
from .objectives import Objective
from .param import READABLE, ParamConfig, make_param
from .robustness import Transform, apply, gentle

MAX_STEPS = 100_000
MAX_SIZE = 4096
MAX_LEVELS = 12


@dataclass(frozen=True)
class VisualizeStep:
    """What the callback receives after each step."""

    step: int  # 1-based
    steps: int
    value: float  # the objective on this step's transformed image


@dataclass(frozen=True)
class Visualization:
    image: Tensor  # (N, 3, H, W) in (0, 1), detached
    value: float  # the objective on the last step's transformed image
    param: Tensor  # the optimized parameter, detached (to resume or inspect)


def visualize(
    model,
    objective: Objective,
    size: int | tuple[int, int] = 128,
    steps: int = 256,
    param: ParamConfig = READABLE,
    transforms: Sequence[Transform] | None = None,
    seed: int = 0,
    lr: float = 0.05,
    batch: int = 1,
    lapnorm_levels: int = 0,
    callback: Callable[[VisualizeStep], None] | None = None,
) -> Visualization:
    """Optimize ``batch`` images of ``size`` from noise to maximize ``objective``.

    ``model``: anything with ``features(x, layers) -> {layer: tensor}`` taking RGB in
    [0, 1] (every registered model, and any ``nn.Module`` wrapped by ``ModuleNet``).
    ``transforms``: applied to the image before the network at every step; None means
    :func:`robustness.gentle` for this size (:func:`robustness.standard` is lucid's set),
    ``()`` none. ``seed`` fixes the initial noise and every transform's random choice.
    ``lapnorm_levels`` > 0 replaces the image's gradient with its :func:`lapnorm` before it
    reaches the parameter.

    Steps (each one):
      1. image = param.to_image(p)
      2. x = transforms(image), drawn from the seeded generator
      3. loss = -objective(model.features(x, objective.layers)); backward; Adam step on p.
    """
    h, w = (size, size) if isinstance(size, int) else size
    if not (1 <= h <= MAX_SIZE and 1 <= w <= MAX_SIZE):
        raise InceptionismError(f"A visualization's size must be 1 to {MAX_SIZE} pixels (got {h}x{w}).")
    if not 0 <= steps <= MAX_STEPS:
        raise InceptionismError(f"Steps must be from 0 to {MAX_STEPS} (got {steps}).")
    if not 0 <= lapnorm_levels <= MAX_LEVELS:
        raise InceptionismError(
            f"Laplacian levels must be from 0 to {MAX_LEVELS} (got {lapnorm_levels}).")
    if not (lr > 0):
        raise InceptionismError(f"The learning rate must be positive (got {lr}).")
    transforms = gentle(min(h, w)) if transforms is None else tuple(transforms)
    device = next((b.device for b in model.buffers()), torch.device("cpu")) \
        if hasattr(model, "buffers") else torch.device("cpu")
    generator = torch.Generator().manual_seed(seed)
    parameterization = make_param(param, h, w)
    p = parameterization.init(batch, generator, device).requires_grad_(True)
    optimizer = torch.optim.Adam([p], lr=lr)
    value = float("nan")
    for step in range(1, steps + 1):
        optimizer.zero_grad(set_to_none=True)
        image = parameterization.to_image(p)
        if lapnorm_levels:
            image.register_hook(lambda g: lapnorm(g, lapnorm_levels))
        x = apply(image, transforms, generator)
        out = objective(model.features(x, objective.layers))
        (-out).backward()
        optimizer.step()
        value = float(out.detach())
        if callback is not None:
            callback(VisualizeStep(step, steps, value))
    with torch.no_grad():
        image = parameterization.to_image(p)
    return Visualization(image.detach(), value, p.detach())


# --- Laplacian pyramid gradient normalization ------------------------------------------------
# The 5-tap binomial kernel [1, 4, 6, 4, 1] / 16 of the DeepDream notebook, as a 5x5 blur.
_K1 = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16


def _kernel(channels: int, like: Tensor) -> Tensor:
    k = (_K1[:, None] * _K1[None, :]).to(like.device, like.dtype)
    return k.expand(channels, 1, 5, 5)


def _down(x: Tensor) -> Tensor:
    return F.conv2d(x, _kernel(x.shape[1], x), stride=2, padding=2, groups=x.shape[1])


def _up(x: Tensor, size: tuple[int, int]) -> Tensor:
    # Transposed blur, x4 to keep the mean; output_padding makes odd and even sizes exact.
    pad = (size[0] - (2 * x.shape[2] - 1), size[1] - (2 * x.shape[3] - 1))
    return F.conv_transpose2d(x, _kernel(x.shape[1], x) * 4, stride=2, padding=2,
                              output_padding=pad, groups=x.shape[1])


def lap_split(x: Tensor, levels: int) -> list[Tensor]:
    """The Laplacian pyramid of (N, C, H, W) ``x``: ``levels`` band-pass images, finest
    first, then the low-pass rest. :func:`lap_merge` is its exact inverse."""
    bands = []
    for _ in range(levels):
        if min(x.shape[2], x.shape[3]) < 2:
            break
        low = _down(x)
        bands.append(x - _up(low, (x.shape[2], x.shape[3])))
        x = low
    return bands + [x]


def lap_merge(bands: Sequence[Tensor]) -> Tensor:
    """Sum a pyramid from :func:`lap_split` back into one image."""
    x = bands[-1]
    for band in reversed(bands[:-1]):
        x = _up(x, (band.shape[2], band.shape[3])) + band
    return x


def lapnorm(grad: Tensor, levels: int = 4, eps: float = 1e-10) -> Tensor:
    """Laplacian-pyramid normalization of an (N, C, H, W) gradient (DeepDream's
    ``lap_normalize``): split into ``levels`` bands and the low-pass rest, divide each by
    its RMS over (C, H, W) per image, merge. Scale-free: ``lapnorm(k * g) == lapnorm(g)``
    for k > 0. ``levels=0`` is plain RMS normalization."""
    if grad.dim() != 4:
        raise InceptionismError(f"lapnorm takes (N, C, H, W) tensors, got {tuple(grad.shape)}.")
    bands = lap_split(grad, levels)
    normed = [b / b.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp_min(eps) for b in bands]
    return lap_merge(normed)


def top_channels(model, layer: str, photo: Tensor, n: int, strongest: bool = True) -> list[int]:
    """The ``n`` channels of ``layer`` with the highest (``strongest``) or lowest mean
    activation on ``photo`` ((1, 3, H, W) RGB in [0, 1]), strongest or weakest first."""
    with torch.no_grad():
        act = model.features(photo, [layer])[layer]
    means = act.flatten(2).mean(2).mean(0) if act.dim() > 2 else act.mean(0)
    n = max(0, min(int(n), means.numel()))
    return [int(i) for i in torch.topk(means, n, largest=strongest).indices]
