"""gordicaleksa/pytorch-deepdream's loop, re-created for the peers benchmark. Not a test.

Re-created from reading that repository's ``deepdream.py`` (``deep_dream_static_image``,
``gradient_ascent``) and ``utils/utils.py`` (``get_new_shape``,
``random_circular_spatial_shift``, ``GaussianSmoothing``); written anew here, not copied.
It runs on our GoogLeNet definition (torchvision's module layout, which its wrapper uses),
unmodified: no batch-norm folding, NCHW, float32, the whole image at once.

What each step does, as there:

1. roll the (ImageNet-normalized) image by a random shift in [-32, 32] on each axis;
2. run the network on the whole image through ``inception4e`` (its wrapper always runs
   to its deepest exposed layer, whatever layer is maximized), loss = mean over the chosen
   layers of the mean squared activation; backward;
3. smooth the gradient with its "cascade" of three 9x9 depthwise Gaussian convolutions on a
   reflect-padded copy, sigma growing from 0.5 to 2.5 over the iterations, and sum them.
   (As written there, the three kernels alias one tensor that is multiplied in place, so
   all three end up equal to the product of the Gaussians at 0.5, 1 and 2 sigma; we build
   that same kernel and pay the same three convolutions);
4. divide by the gradient's standard deviation, add ``lr`` times it, clamp to the
   normalized image's bounds, roll back.

The pyramid resizes the whole dreamed image (not only the detail) to
``base * ratio**(level - levels + 1)`` before each level, bilinearly (OpenCV's default
there; ``F.interpolate`` here). Its defaults: 4 levels, ratio 1.3, 10 iterations, lr 0.09,
shift 32, 600 pixels wide.
"""

from __future__ import annotations

import math
import random

import torch
import torch.nn.functional as F

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
KERNEL_SIZE = 9
DEEPEST = "inception4e"


def smoothing_kernels(sigma: float, channels: int = 3) -> list[torch.Tensor]:
    """The three depthwise kernels its GaussianSmoothing ends up with (see the docstring)."""
    grid = torch.arange(KERNEL_SIZE, dtype=torch.float32)
    mean = (KERNEL_SIZE - 1) / 2
    kernel = torch.ones(KERNEL_SIZE, KERNEL_SIZE)
    for s in (0.5 * sigma, sigma, 2.0 * sigma):
        g = torch.exp(-(((grid - mean) / s) ** 2) / 2) / (s * math.sqrt(2 * math.pi))
        kernel = kernel * g[:, None] * g[None, :]
    kernel = (kernel / kernel.sum()).view(1, 1, KERNEL_SIZE, KERNEL_SIZE).repeat(channels, 1, 1, 1)
    return [kernel, kernel, kernel]


def smooth(grad: torch.Tensor, sigma: float) -> torch.Tensor:
    pad = KERNEL_SIZE // 2
    padded = F.pad(grad, (pad, pad, pad, pad), mode="reflect")
    return sum(F.conv2d(padded, k, groups=3) for k in smoothing_kernels(sigma))


def gradient_ascent(net, x: torch.Tensor, layers: list[str], iteration: int, iterations: int,
                    lr: float, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    acts = net.features(x, list(dict.fromkeys(layers + [DEEPEST])))  # always through inception4e
    loss = torch.stack([F.mse_loss(acts[n], torch.zeros_like(acts[n])) for n in layers]).mean()
    loss.backward()
    sigma = ((iteration + 1) / iterations) * 2.0 + 0.5
    g = smooth(x.grad, sigma)
    with torch.no_grad():
        x = x + lr * (g / torch.std(g))
        return torch.max(torch.min(x, high), low)


def step(net, x: torch.Tensor, layers: list[str], iteration: int, iterations: int, rng: random.Random,
         lr: float = 0.09, shift: int = 32) -> torch.Tensor:
    """One iteration on the normalized image ``x``: roll, ascend, roll back."""
    low, high = (0 - MEAN) / STD, (1 - MEAN) / STD
    dy, dx = rng.randint(-shift, shift), rng.randint(-shift, shift)
    x = torch.roll(x, (dy, dx), (2, 3))
    x = gradient_ascent(net, x, layers, iteration, iterations, lr, low, high)
    return torch.roll(x, (-dy, -dx), (2, 3))


def dream(net, image: torch.Tensor, layers: list[str], levels: int = 4, ratio: float = 1.3,
          iterations: int = 10, lr: float = 0.09, shift: int = 32, seed: int = 0) -> torch.Tensor:
    """``image`` (1, 3, H, W) RGB in [0, 1] -> the dream, same shape, in [0, 1]."""
    rng = random.Random(seed)
    base = image.shape[-2:]
    x = (image - MEAN) / STD
    for level in range(levels):
        f = ratio ** (level - levels + 1)
        size = (round(base[0] * f), round(base[1] * f))
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        for it in range(iterations):
            x = step(net, x, layers, it, iterations, rng, lr, shift)
    return (x * STD + MEAN).clamp(0, 1)
