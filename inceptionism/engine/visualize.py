"""Feature visualization: an image optimized from noise to excite a unit of a network.

:func:`visualize` runs Adam on a parameterization's tensor (:mod:`inceptionism.engine.param`),
showing the network a randomly transformed copy of the image at every step
(:mod:`inceptionism.engine.robustness`), and returns the image. With the pixel parameterization and
no transforms it is the naive method, whose result is high-frequency noise; with the FFT
parameterization, decorrelated colour and the standard transforms it is the readable one of
Olah, Mordvintsev and Schubert, "Feature Visualization" (Distill 2017), as in lucid's
``render.render_vis``.

:func:`lapnorm` is the other classic regularizer, from the original DeepDream notebook's
``render_lapnorm`` (it lives in :mod:`inceptionism.engine.transforms`, where the dream loop
uses it too, ``DreamConfig.lapnorm``): the gradient is split into the bands of a Laplacian
pyramid, each band divided by its own RMS, and summed back, so coarse structure is not
drowned out by the high-frequency part of the gradient. :func:`visualize` can apply it to
the image's gradient (``lapnorm_levels``).

Everything here is tensor in, tensor out; progress leaves through the ``callback``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ..errors import InceptionismError
from .objectives import Objective
from .param import READABLE, ParamConfig, make_param
from .robustness import Transform, apply, gentle
from .transforms import lapnorm

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


def top_channels(model, layer: str, photo: Tensor, n: int, strongest: bool = True) -> list[int]:
    """The ``n`` channels of ``layer`` with the highest (``strongest``) or lowest mean
    activation on ``photo`` ((1, 3, H, W) RGB in [0, 1]), strongest or weakest first."""
    with torch.no_grad():
        act = model.features(photo, [layer])[layer]
    means = act.flatten(2).mean(2).mean(0) if act.dim() > 2 else act.mean(0)
    n = max(0, min(int(n), means.numel()))
    return [int(i) for i in torch.topk(means, n, largest=strongest).indices]
