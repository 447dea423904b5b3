"""Small image -> image functions on (N, C, H, W) tensors, used by the dream loop."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def roll(x: Tensor, dy: int, dx: int) -> Tensor:
    """Shift an image by (dy, dx) pixels with wrap-around (DeepDream's jitter)."""
    return torch.roll(x, shifts=(dy, dx), dims=(-2, -1))


def gaussian_kernel1d(sigma: float, dtype: torch.dtype = torch.float32) -> Tensor:
    """A normalized 1-D Gaussian kernel, truncated at 3 sigma (odd length >= 3)."""
    radius = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return (k / k.sum()).to(dtype)


def gaussian_blur(x: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur per channel, reflecting at the borders. ``sigma <= 0``: identity."""
    if sigma <= 0:
        return x
    k = gaussian_kernel1d(sigma, x.dtype).to(x.device)
    r = k.numel() // 2
    c = x.shape[1]
    # Reflection needs the pad to be smaller than the side; fall back to replicate for tiny inputs.
    mode = "reflect" if min(x.shape[-2:]) > r else "replicate"
    x = F.pad(x, (r, r, r, r), mode=mode)
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def cascade_blur(x: Tensor, sigma: float, factors: tuple[float, ...] = (0.5, 1.0, 2.0)) -> Tensor:
    """The mean of Gaussian blurs at ``sigma`` times each factor. ``sigma <= 0``: identity."""
    if sigma <= 0:
        return x
    return torch.stack([gaussian_blur(x, sigma * f) for f in factors]).mean(0)


def resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinear resize to ``size`` = (H, W), antialiased when shrinking."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    shrinking = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=shrinking)


def split_evenly(length: int, max_tile: int) -> list[tuple[int, int]]:
    """Cut ``[0, length)`` into the fewest near-equal spans no longer than ``max_tile``."""
    n = max(1, math.ceil(length / max_tile))
    edges = [round(i * length / n) for i in range(n + 1)]
    return [(edges[i], edges[i + 1]) for i in range(n)]
